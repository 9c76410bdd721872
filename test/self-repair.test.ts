/**
 * Self-recovery with every process real: a party is killed, its data deleted, and re-created as
 * documented (a new identity, re-pinned by the other parties, the coordinator and the desk:
 * test/support/reenrol.ts). When it connects it reports that it holds no share of the key: the
 * coordinator marks it `needsRepair`. Without automatic repair it waits for an admin's
 * POST …/repair; with it (GLACIS_AUTO_REPAIR=1) the coordinator repairs it by itself. Either way it
 * signs again — without a new key — and the desk verifies the key against the new identity.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { CLIENT_CLI, startLocalCluster } from '../scripts/local-cluster.mjs';
import { verifyIndependently } from './support/independent-verify.js';
import { type LocalCluster, run, wipeAndReenrol } from './support/reenrol.js';
import { restClient } from './support/rest-client.js';

const dataDir = mkdtempSync(join(tmpdir(), 'glacis-self-repair-'));
let cluster: LocalCluster & { baseUrl: string; adminToken: string; stop(): Promise<void> };
let api: ReturnType<typeof restClient>;

beforeAll(async () => {
  cluster = await startLocalCluster({ dataDir, port: 0, parties: 3 });
  api = restClient(cluster.baseUrl, cluster.adminToken);
});
afterAll(async () => {
  await cluster?.stop();
  if (!process.env.GLACIS_KEEP_TEST_DATA) rmSync(dataDir, { recursive: true, force: true });
});

async function signs(keyId: string, publicKey: string, text: string): Promise<string[]> {
  const message = Buffer.from(text);
  const r = await api<{ status: string; signature: string; signers: string[] }>('POST', `/v1/keys/${keyId}/signatures?wait=30000`, {
    message: message.toString('hex'),
  });
  expect(r.body.status).toBe('completed');
  expect(verifyIndependently('ed25519', publicKey, message, r.body.signature)).toBe(true);
  return r.body.signers;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const needsRepair = async (party: string) =>
  (await api<{ parties: { partyId: string; needsRepair: string[] }[] }>('GET', '/v1/parties')).body.parties.find((p) => p.partyId === party)
    ?.needsRepair ?? [];

async function deskVerdict(keyId: string): Promise<{ status: number | null; verdict: Record<string, unknown> }> {
  const r = await run(CLIENT_CLI, ['keys', 'verify', keyId, '--trust', cluster.trustFile, '--url', cluster.baseUrl], {
    GLACIS_TOKEN: cluster.adminToken,
  });
  return { status: r.status, verdict: JSON.parse(r.stdout) };
}

it('a wiped party, re-created with a new identity, is repaired by an admin, then another automatically; both sign again', async () => {
  const created = await api<{ keyId: string; publicKey: string; status: string }>('POST', '/v1/keys?wait=30000', {
    suite: 'ed25519',
    threshold: 2,
  });
  expect(created.body.status).toBe('active');
  const { keyId, publicKey } = created.body;
  await signs(keyId, publicKey, 'before the lost disk');

  // --- party-2 loses its disk; no automatic repair: it waits for an admin.
  await wipeAndReenrol(cluster, 'party-2');
  expect(
    await until('party-2 marked needsRepair', async () =>
      (await needsRepair('party-2')).length > 0 ? await needsRepair('party-2') : undefined,
    ),
  ).toEqual([keyId]);
  const audit = async () =>
    (await api<{ events: { type: string; data: Record<string, unknown> }[] }>('GET', '/v1/audit?limit=500')).body.events;
  expect((await audit()).filter((e) => e.type === 'repair_requested')).toEqual([]);
  // The desk sees that party-2's new identity never confirmed this key.
  expect(await deskVerdict(keyId)).toMatchObject({ status: 3, verdict: { ok: false, code: 'stale_identity' } });

  const repaired = await api<{ status: string; type: string }>('POST', `/v1/keys/${keyId}/repair?wait=30000`, { partyId: 'party-2' });
  expect(repaired.body).toMatchObject({ type: 'repair', status: 'completed' });
  await until('party-2 no longer needs a repair', async () => ((await needsRepair('party-2')).length === 0 ? true : undefined));
  // It signs again, without a new key: with party-1 down, party-2's share is needed.
  await cluster.kill('party-1', 'SIGKILL');
  expect(await signs(keyId, publicKey, 'party-2 repaired')).toEqual(['party-2', 'party-3']);
  cluster.startParty('party-1');
  await cluster.waitConnected();
  expect(await deskVerdict(keyId)).toMatchObject({ status: 0, verdict: { ok: true, publicKey } });

  // --- party-3 loses its disk; the coordinator now repairs by itself.
  await wipeAndReenrol(cluster, 'party-3', { GLACIS_AUTO_REPAIR: '1' });
  const auto = await until('an automatic repair of party-3', async () =>
    (await audit()).find((e) => e.type === 'key_repaired' && e.data.partyId === 'party-3'),
  );
  expect(auto.data).toMatchObject({ keyId });
  const requested = (await audit()).find((e) => e.type === 'repair_requested' && e.data.partyId === 'party-3');
  expect(requested?.data).toMatchObject({ requestedBy: 'auto-repair' });
  await cluster.kill('party-2', 'SIGKILL');
  expect(await signs(keyId, publicKey, 'party-3 repaired automatically')).toEqual(['party-1', 'party-3']);
  cluster.startParty('party-2');
  await cluster.waitConnected();
  expect(await deskVerdict(keyId)).toMatchObject({ status: 0, verdict: { ok: true } });
}, 300_000);
