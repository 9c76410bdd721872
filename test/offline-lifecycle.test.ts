/**
 * The key lifecycle with an air-gapped member, every piece a separate OS process: the coordinator,
 * party-1, party-2 and party-4 online, and party-3 only as `glacis-party offline …` commands on its
 * data directory (test/support/offline-vault.ts), taken offline after an online DKG of a 2-of-3 key.
 * A refresh and then a reshare run through the REST API with party-3's part carried by bundles
 * (`glacis parties outbox|inbox` at the desk, files to the vault): the trips are counted against
 * docs/offline.md, the public key never changes, and after each operation a signature that needs
 * the vault's new share (its online partner the only other signer) verifies with a verifier that
 * shares no code with Glacis.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { PARTY_CLI, startLocalCluster } from '../scripts/local-cluster.mjs';
import { runGlacis } from './support/glacis-cli.js';
import { verifyIndependently } from './support/independent-verify.js';
import { type OfflineVault, takeOffline } from './support/offline-vault.js';
import { cli } from './support/reenrol.js';
import { restClient } from './support/rest-client.js';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;
type Key = { keyId: string; publicKey: string; parties: string[]; threshold: number; generation: number; status: string };
type Operation = { operationId: string; type: string; status: string; error: { code: string; message: string } | null };
type Sig = { signatureId: string; status: string; signature: string | null; signers: string[] | null; error: unknown };
type Outbox = { bundle: string | null; items: number; keyIds: string[]; signatureIds: string[]; operationIds: string[] };
type Result = { kind: string; status?: string; [k: string]: unknown };

const dataDir = mkdtempSync(join(tmpdir(), 'glacis-offline-lifecycle-'));
const media = join(dataDir, 'media');
let cluster: Cluster;
let api: ReturnType<typeof restClient>;
let vault: OfflineVault;
let keyId: string;
let publicKey: string;
let carried = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const getKey = async () => (await api<Key>('GET', `/v1/keys/${keyId}`)).body;
const getOp = async (id: string) => (await api<Operation>('GET', `/v1/operations/${id}`)).body;

/** party-3's holdings as its own CLI lists them. */
async function vaultHoldings(): Promise<{ keyId: string; generation: number; status?: string }[]> {
  const out = await cli(PARTY_CLI, ['keys', 'list', '--data-dir', vault.dir, '--json'], { GLACIS_KEK_FILE: cluster.kekFile('party-3') });
  return JSON.parse(out).keys;
}

/** The outbox once it holds something, or undefined once `done()` says nothing more will come. */
async function nextOutbox(done: () => Promise<boolean>): Promise<Outbox | undefined> {
  for (;;) {
    const out = (await api<Outbox>('GET', '/v1/parties/party-3/outbox')).body;
    if (out.items > 0) return out;
    if (await done()) return undefined;
    await sleep(100);
  }
}

/** One trip: the desk writes the outbox to a file, the vault processes it, its answer (if any) is delivered. */
async function trip(): Promise<{ results: Result[]; answered: boolean }> {
  const n = ++carried;
  const request = join(media, `trip-${n}.glacis-bundle`);
  const out = await runGlacis(cluster.baseUrl, cluster.adminToken, 'parties', 'outbox', 'party-3', '--out', request);
  expect(out.status, out.stderr).toBe(0);
  const answer = join(media, `trip-${n}-answer.glacis-bundle`);
  const done = await vault.run(['process', '--in', request, '--out', answer, '--yes']);
  if (done.out === null) return { results: done.results as Result[], answered: false };
  const delivered = await runGlacis(cluster.baseUrl, cluster.adminToken, 'parties', 'inbox', 'party-3', '--in', answer);
  expect(delivered.status, delivered.stderr).toBe(0);
  return { results: done.results as Result[], answered: true };
}

/** The vault's results that end its part of an operation. */
const FINAL = new Set(['switched', 'retired', 'repaired', 'proved', 'completed', 'aborted', 'failed']);

/**
 * Runs operation `operationId` to its end, carrying party-3's bundles whenever its outbox holds
 * something, until the vault reports its part over (the certificate switched its share). Then one
 * more trip: the certificate is still carried (the last word waits to its deadline) and the vault
 * takes the repeat for what it is, with nothing to say and nothing to send.
 */
async function carryThrough(operationId: string): Promise<{ op: Operation; trips: Result[][]; answers: number }> {
  const trips: Result[][] = [];
  let answers = 0;
  const settled = async () => (await getOp(operationId)).status !== 'pending';
  while (!trips.at(-1)?.some((r) => FINAL.has(String(r.status)))) {
    const out = await nextOutbox(settled);
    if (!out) break;
    const t = await trip();
    trips.push(t.results);
    if (t.answered) answers++;
    expect(trips.length, JSON.stringify(trips)).toBeLessThan(8);
  }
  const op = await getOp(operationId);
  if (op.status === 'completed') {
    expect((await api<Outbox>('GET', '/v1/parties/party-3/outbox')).body.operationIds).toContain(operationId);
    expect(await trip()).toEqual({ results: [], answered: false });
  }
  return { op, trips, answers };
}

/** A signature that needs the vault: `partner` down or not, the request's outbox carried once. */
async function signsWithVault(text: string, others: readonly string[]): Promise<void> {
  const pre = join(media, `pre-${carried}.glacis-bundle`);
  await vault.run(['preprocess', '--key', keyId, '--count', '2', '--out', pre]);
  const delivered = await runGlacis(cluster.baseUrl, cluster.adminToken, 'parties', 'inbox', 'party-3', '--in', pre);
  expect(delivered.status, delivered.stderr).toBe(0);
  const message = Buffer.from(text);
  const accepted = await api<Sig>('POST', `/v1/keys/${keyId}/signatures`, { message: message.toString('hex') });
  expect(accepted.status).toBe(202);
  await nextOutbox(async () => false);
  const t = await trip();
  expect(t.results).toEqual([expect.objectContaining({ kind: 'signed', requestId: accepted.body.signatureId })]);
  const done = await api<Sig>('GET', `/v1/signatures/${accepted.body.signatureId}?wait=20000`);
  expect(done.body.status, JSON.stringify(done.body.error)).toBe('completed');
  expect(done.body.signers).toEqual([...others, 'party-3'].sort());
  expect(verifyIndependently('ed25519', publicKey, message, done.body.signature as string)).toBe(true);
}

beforeAll(async () => {
  mkdirSync(media, { recursive: true });
  cluster = await startLocalCluster({ dataDir, port: 0, parties: 4 });
  api = restClient(cluster.baseUrl, cluster.adminToken);
  const created = await api<Key>('POST', '/v1/keys?wait=30000', {
    suite: 'ed25519',
    threshold: 2,
    parties: ['party-1', 'party-2', 'party-3'],
  });
  expect(created.body.status).toBe('active');
  ({ keyId, publicKey } = created.body);
  vault = await takeOffline(cluster, 'party-3');
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
  if (!process.env.GLACIS_KEEP_TEST_DATA) rmSync(dataDir, { recursive: true, force: true });
});

describe('the key lifecycle with an offline member', () => {
  it('refresh: every share replaced in three round trips and the certificate; a repeat of it changes nothing; the vault signs with its new share', async () => {
    const accepted = await api<Operation>('POST', `/v1/keys/${keyId}/refresh`, {});
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const { op, trips, answers } = await carryThrough(accepted.body.operationId);
    expect(op).toMatchObject({ type: 'refresh', status: 'completed', error: null });
    // docs/offline.md: rounds 1 and 2 out; the confirmation and a test commitment out; the test share out; the certificate in.
    expect(trips.map((t) => t.map((r) => r.status))).toEqual([['joined'], ['confirmed'], ['test_signed'], ['switched']]);
    expect(answers).toBe(3);
    expect(await getKey()).toMatchObject({ publicKey, generation: 1, parties: ['party-1', 'party-2', 'party-3'] });
    expect((await vaultHoldings()).find((k) => k.keyId === keyId)?.generation).toBe(1);

    await cluster.kill('party-1', 'SIGTERM');
    await signsWithVault('refreshed in the vault', ['party-2']);
    cluster.startParty('party-1');
    await cluster.waitConnected(3);
  }, 180_000);

  it('reshare to party-1, party-3, party-4: the vault receives its new share through bundles, party-2 destroys its share; the vault signs', async () => {
    const accepted = await api<Operation>('POST', `/v1/keys/${keyId}/reshare`, {
      threshold: 2,
      parties: ['party-1', 'party-3', 'party-4'],
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    const { op, trips, answers } = await carryThrough(accepted.body.operationId);
    expect(op, JSON.stringify(trips)).toMatchObject({ type: 'reshare', status: 'completed', error: null });
    // A new member that does not deal: the start and every dealing in, the confirmation and a test commitment out; the test share out; the certificate in.
    expect(trips.map((t) => t.map((r) => r.status))).toEqual([['confirmed'], ['test_signed'], ['switched']]);
    expect(answers).toBe(2);
    expect(await getKey()).toMatchObject({ publicKey, generation: 2, threshold: 2, parties: ['party-1', 'party-3', 'party-4'] });
    expect((await vaultHoldings()).find((k) => k.keyId === keyId)?.generation).toBe(2);
    // party-2 left the committee: on the certificate it destroyed its share.
    const party2 = await cli(PARTY_CLI, ['keys', 'list', '--data-dir', join(dataDir, 'party-2'), '--json'], {
      GLACIS_KEK_FILE: cluster.kekFile('party-2'),
    });
    expect(JSON.parse(party2).keys.map((k: { keyId: string }) => k.keyId)).not.toContain(keyId);

    await cluster.kill('party-1', 'SIGTERM');
    await signsWithVault('reshared into the vault', ['party-4']);
  }, 180_000);
});
