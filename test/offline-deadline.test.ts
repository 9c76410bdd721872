/**
 * The offline deadline (docs/offline.md, routes/v1/signing-deadline.ts) in a running system, every
 * piece a separate process, with small configured values: a signing timeout of 4 s and an offline
 * deadline of 12 s. 2-of-3, party-3 offline after an online DKG. A request the online members can
 * serve gets the signing timeout (and completes); with party-1 down, a request that needs the
 * vault's share — its package waiting in party-3's outbox — is still `signing` after its signing
 * timeout has passed, and fails with `insufficient_parties` once the offline deadline has passed;
 * its package leaves the outbox with it. Outcomes only: each deadline is read as the coordinator
 * stored it, and the waits are for states, not for durations.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { startLocalCluster } from '../scripts/local-cluster.mjs';
import { runGlacis } from './support/glacis-cli.js';
import { type OfflineVault, takeOffline } from './support/offline-vault.js';
import { restClient } from './support/rest-client.js';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;
type Sig = {
  signatureId: string;
  status: string;
  signers: string[] | null;
  error: { code: string; message: string } | null;
  completedAt: string | null;
};
type Outbox = { bundle: string | null; signatureIds: string[]; items: number };

const SIGNING_TIMEOUT_MS = 4_000;
const OFFLINE_DEADLINE_MS = 12_000;

let cluster: Cluster;
let api: ReturnType<typeof restClient>;
let vault: OfflineVault;
let keyId: string;
const dataDir = mkdtempSync(join(tmpdir(), 'glacis-offline-deadline-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The request's accepted time and deadline as the coordinator stored them (ms). */
function stored(signatureId: string): { createdAt: number; deadline: number } {
  const db = new Database(join(dataDir, 'coordinator', 'coordinator.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT created_at, deadline FROM signatures WHERE signature_id = ?').get(signatureId) as {
      created_at: string;
      deadline: string;
    };
    return { createdAt: Date.parse(row.created_at), deadline: Date.parse(row.deadline) };
  } finally {
    db.close();
  }
}

/** Waits (by `?wait=` holds) until the request leaves `signing`. */
async function settled(signatureId: string): Promise<Sig> {
  for (;;) {
    const { body } = await api<Sig>('GET', `/v1/signatures/${signatureId}?wait=10000`);
    if (body.status !== 'pending' && body.status !== 'signing') return body;
  }
}

async function request(text: string): Promise<string> {
  const accepted = await api<Sig>('POST', `/v1/keys/${keyId}/signatures`, { message: Buffer.from(text).toString('hex') });
  expect(accepted.status).toBe(202);
  return accepted.body.signatureId;
}

beforeAll(async () => {
  cluster = await startLocalCluster({
    dataDir,
    port: 0,
    parties: 3,
    env: { GLACIS_SIGNING_TIMEOUT_MS: String(SIGNING_TIMEOUT_MS), GLACIS_OFFLINE_DEADLINE_MS: String(OFFLINE_DEADLINE_MS) },
  });
  api = restClient(cluster.baseUrl, cluster.adminToken);
  const key = await api<{ keyId: string; status: string }>('POST', '/v1/keys?wait=30000', {
    suite: 'ed25519',
    threshold: 2,
    parties: ['party-1', 'party-2', 'party-3'],
  });
  expect(key.body.status).toBe('active');
  keyId = key.body.keyId;
  vault = await takeOffline(cluster, 'party-3');
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the offline deadline', () => {
  it('a request party-1 and party-2 can serve keeps the signing timeout, and they serve it', async () => {
    const signatureId = await request('served online');
    const { createdAt, deadline } = stored(signatureId);
    expect(deadline - createdAt).toBe(SIGNING_TIMEOUT_MS);
    const done = await settled(signatureId);
    expect(done.status, JSON.stringify(done.error)).toBe('completed');
    expect(done.signers).toEqual(['party-1', 'party-2']);
  });

  it('with party-1 down, a request that needs the vault stays signing past the signing timeout and fails with insufficient_parties at the offline deadline', async () => {
    await cluster.kill('party-1', 'SIGTERM');
    for (;;) {
      const { body } = await api<{ parties: { partyId: string; connected: boolean }[] }>('GET', '/v1/parties');
      if (!body.parties.find((p) => p.partyId === 'party-1')?.connected) break;
      await sleep(100);
    }
    // The vault's preprocessed commitments, so the package can be built and wait in its outbox.
    const file = join(dataDir, 'preprocess.glacis-bundle');
    await vault.run(['preprocess', '--key', keyId, '--count', '2', '--out', file]);
    const delivered = await runGlacis(cluster.baseUrl, cluster.adminToken, 'parties', 'inbox', 'party-3', '--in', file);
    expect(delivered.status, delivered.stderr).toBe(0);

    const signatureId = await request('needs the vault');
    const { createdAt, deadline } = stored(signatureId);
    expect(deadline - createdAt).toBe(OFFLINE_DEADLINE_MS);
    let outbox: Outbox;
    for (;;) {
      outbox = (await api<Outbox>('GET', '/v1/parties/party-3/outbox')).body;
      if (outbox.items > 0) break;
      await sleep(100);
    }
    expect(outbox.signatureIds).toEqual([signatureId]);

    // Past the signing timeout (the stored time plus it, by this machine's clock, which the
    // coordinator shares): still waiting for the trip to the vault.
    await sleep(Math.max(0, createdAt + SIGNING_TIMEOUT_MS + 1_000 - Date.now()));
    const waiting = (await api<Sig>('GET', `/v1/signatures/${signatureId}`)).body;
    expect([waiting.status, waiting.error]).toEqual(['signing', null]);

    // Nobody goes to the vault: at the offline deadline the request fails, and leaves the outbox.
    const failed = await settled(signatureId);
    expect([failed.status, failed.error?.code]).toEqual(['failed', 'insufficient_parties']);
    // Settled by the deadline's timer, not by anything before it.
    expect(Date.parse(failed.completedAt as string)).toBeGreaterThanOrEqual(deadline);
    expect((await api<Outbox>('GET', '/v1/parties/party-3/outbox')).body).toMatchObject({ bundle: null, items: 0 });
  }, 60_000);
});
