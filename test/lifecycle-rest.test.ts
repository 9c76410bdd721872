/**
 * The key lifecycle through the REST API, with every process real (scripts/local-cluster.mjs):
 * refresh, a refresh refused while a member is down, reshare 2-of-3 → 3-of-4 → 2-of-2 and drills.
 * After each operation the key signs, the signature is checked by an independent verifier
 * (OpenSSL), and the desk's `glacis keys verify` accepts the key through its lineage against the
 * identities it pinned.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { CLIENT_CLI, PARTY_CLI, startLocalCluster } from '../scripts/local-cluster.mjs';
import { verifyIndependently } from './support/independent-verify.js';
import type { LocalCluster } from './support/reenrol.js';
import { cli, run } from './support/reenrol.js';
import { restClient } from './support/rest-client.js';

const dataDir = mkdtempSync(join(tmpdir(), 'glacis-lifecycle-rest-'));
let cluster: LocalCluster & { baseUrl: string; adminToken: string; stop(): Promise<void> };
let api: ReturnType<typeof restClient>;

beforeAll(async () => {
  cluster = await startLocalCluster({ dataDir, port: 0, parties: 4 });
  api = restClient(cluster.baseUrl, cluster.adminToken);
});
afterAll(async () => {
  await cluster?.stop();
  if (!process.env.GLACIS_KEEP_TEST_DATA) rmSync(dataDir, { recursive: true, force: true });
});

type Key = { keyId: string; publicKey: string; parties: string[]; threshold: number; generation: number; status: string };
type Operation = {
  operationId: string;
  type: string;
  status: string;
  error: { code: string } | null;
  progress: Record<string, unknown> | null;
};

/** Signs `text` through the API and checks the signature with OpenSSL under the key's (unchanged) public key. */
async function signs(keyId: string, publicKey: string, text: string): Promise<string[]> {
  const message = Buffer.from(text);
  const r = await api<{ status: string; signature: string; signers: string[]; error: unknown }>(
    'POST',
    `/v1/keys/${keyId}/signatures?wait=30000`,
    { message: message.toString('hex') },
  );
  expect(r.body.error ?? null).toBeNull();
  expect(r.body.status).toBe('completed');
  expect(verifyIndependently('ed25519', publicKey, message, r.body.signature)).toBe(true);
  return r.body.signers;
}

/** `glacis keys verify` with the desk's trust file. */
async function deskVerifies(keyId: string): Promise<Record<string, unknown>> {
  const r = await run(CLIENT_CLI, ['keys', 'verify', keyId, '--trust', cluster.trustFile, '--url', cluster.baseUrl], {
    GLACIS_TOKEN: cluster.adminToken,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

async function operate(keyId: string, op: string, body: unknown = {}): Promise<Operation> {
  const r = await api<Operation>('POST', `/v1/keys/${keyId}/${op}?wait=30000`, body);
  expect([200, 202]).toContain(r.status);
  let o = r.body;
  while (o.status === 'pending') o = (await api<Operation>('GET', `/v1/operations/${o.operationId}?wait=30000`)).body;
  return o;
}

const getKey = async (keyId: string) => (await api<Key>('GET', `/v1/keys/${keyId}`)).body;
const kek = (party: string) => ({ GLACIS_KEK_FILE: cluster.kekFile(party) });
const holdings = async (party: string) =>
  JSON.parse(
    await cli(PARTY_CLI, ['keys', 'list', '--data-dir', join(dataDir, party), '--json'], { GLACIS_KEK_FILE: cluster.kekFile(party) }),
  ).keys as { keyId: string; generation: number }[];

it('refresh, a refresh refused with a member down, reshare 2-of-3 → 3-of-4 → 2-of-2, drills: the key signs after each, verified', async () => {
  const created = await api<Key>('POST', '/v1/keys?wait=30000', {
    suite: 'ed25519',
    threshold: 2,
    parties: ['party-1', 'party-2', 'party-3'],
  });
  expect(created.body.status).toBe('active');
  const { keyId, publicKey } = created.body;
  await signs(keyId, publicKey, 'generation 0');
  // A backup of party-1 at generation 0 (it goes stale with the refresh below).
  const backupEnv = { ...kek('party-1'), GLACIS_BACKUP_PASSPHRASE: 'a backup passphrase', GLACIS_SCRYPT_LOG_N: '10' };
  const backupFile = join(dataDir, 'party-1.glacis-backup');
  await cli(PARTY_CLI, ['backup', 'export', '--data-dir', join(dataDir, 'party-1'), '--out', backupFile], backupEnv);

  // Refresh: every share replaced, same public key, the desk still verifies it (through the lineage).
  expect(await operate(keyId, 'refresh')).toMatchObject({ type: 'refresh', status: 'completed', error: null });
  expect(await getKey(keyId)).toMatchObject({ publicKey, generation: 1, parties: ['party-1', 'party-2', 'party-3'] });
  await signs(keyId, publicKey, 'generation 1');
  expect(await deskVerifies(keyId)).toMatchObject({ ok: true, publicKey, threshold: 2 });

  // The backup taken before is stale: importing it (with the keys as the API lists them) says so.
  const keysFile = join(dataDir, 'keys.json');
  writeFileSync(keysFile, JSON.stringify((await api('GET', '/v1/keys')).body));
  const imported = await run(
    PARTY_CLI,
    ['backup', 'import', '--data-dir', join(dataDir, 'restored'), '--in', backupFile, '--current', keysFile],
    backupEnv,
  );
  expect(imported.status, imported.stderr).toBe(0);
  expect(JSON.parse(imported.stdout)).toMatchObject({ partyId: 'party-1', stale: [{ keyId, backupGeneration: 0, currentGeneration: 1 }] });
  expect(imported.stderr).toContain('stale');

  // A refresh with a member down is refused cleanly; the key is exactly as it was, and signs.
  await cluster.kill('party-3', 'SIGKILL');
  const refused = await api<{ code: string }>('POST', `/v1/keys/${keyId}/refresh`, {});
  expect(refused).toMatchObject({ status: 503, body: { code: 'parties_unavailable' } });
  expect(await getKey(keyId)).toMatchObject({ generation: 1 });
  expect(await signs(keyId, publicKey, 'one member down')).toEqual(['party-1', 'party-2']);
  cluster.startParty('party-3');
  await cluster.waitConnected();

  // Reshare 2-of-3 → 3-of-4: a new member joins, the threshold rises.
  expect(await operate(keyId, 'reshare', { threshold: 3, parties: ['party-1', 'party-2', 'party-3', 'party-4'] })).toMatchObject({
    status: 'completed',
  });
  expect(await getKey(keyId)).toMatchObject({
    publicKey,
    generation: 2,
    threshold: 3,
    parties: ['party-1', 'party-2', 'party-3', 'party-4'],
  });
  expect((await signs(keyId, publicKey, '3-of-4')).length).toBe(3);
  expect(await deskVerifies(keyId)).toMatchObject({ ok: true, threshold: 3 });

  // Reshare 3-of-4 → 2-of-2: two members leave and destroy their shares.
  expect(await operate(keyId, 'reshare', { threshold: 2, parties: ['party-1', 'party-4'] })).toMatchObject({ status: 'completed' });
  expect(await getKey(keyId)).toMatchObject({ publicKey, generation: 3, threshold: 2, parties: ['party-1', 'party-4'] });
  expect(await signs(keyId, publicKey, '2-of-2')).toEqual(['party-1', 'party-4']);
  expect(await deskVerifies(keyId)).toMatchObject({ ok: true, parties: ['party-1', 'party-4'] });
  for (const p of ['party-2', 'party-3']) expect((await holdings(p)).map((k) => k.keyId)).not.toContain(keyId);
  for (const p of ['party-1', 'party-4']) expect((await holdings(p)).find((k) => k.keyId === keyId)?.generation).toBe(3);

  // A drill: every holder proves its share; the proof is recorded and exported as a metric.
  expect(await operate(keyId, 'drill')).toMatchObject({ status: 'completed', progress: { proved: ['party-1', 'party-4'], failed: [] } });
  const metrics = await (await fetch(`${cluster.baseUrl}/metrics`)).text();
  for (const p of ['party-1', 'party-4']) {
    expect(metrics).toMatch(new RegExp(`glacis_drill_last_success_timestamp_seconds\\{party="${p}",key="${keyId}"\\} \\d{10}`));
  }
  expect(metrics).toMatch(/glacis_lifecycle_operations_total\{type="reshare",outcome="completed"\} 2/);
  // And the party's own drill, on its own disk.
  const local = JSON.parse(
    await cli(PARTY_CLI, ['drill', '--data-dir', join(dataDir, 'party-4')], { GLACIS_KEK_FILE: cluster.kekFile('party-4') }),
  );
  expect(local).toMatchObject({ ok: true, keys: [{ keyId, generation: 3, ok: true }] });

  // The coordinator's audit log and the parties' own logs recorded it all.
  const audit = (await api<{ events: { type: string }[] }>('GET', '/v1/audit?limit=500')).body.events.map((e) => e.type);
  for (const t of ['refresh_requested', 'key_refreshed', 'reshare_requested', 'key_reshared', 'drill_requested', 'drill_completed']) {
    expect(audit).toContain(t);
  }
  const partyLog = readFileSync(join(dataDir, 'party-2', 'lifecycle.log'), 'utf8');
  for (const t of ['key_refreshed', 'key_reshared', 'key_retired']) expect(partyLog).toContain(`"type":"${t}"`);
  const verified = JSON.parse(await cli(PARTY_CLI, ['audit', 'verify', '--data-dir', join(dataDir, 'party-2')]));
  expect(verified).toMatchObject({ ok: true, lifecycle: { ok: true } });
}, 300_000);
