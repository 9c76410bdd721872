/**
 * The running system, as `npm start` runs it: a coordinator and five party nodes as separate OS
 * processes on 127.0.0.1, driven only through the REST API. Every signature is checked by a
 * verifier that shares no code with Glacis.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUITE_IDS, type SuiteId } from '@glacis/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { startLocalCluster } from '../scripts/local-cluster.mjs';
import { verifierName, verifyIndependently } from './support/independent-verify.js';
import { restClient } from './support/rest-client.js';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;
type Key = { keyId: string; status: string; publicKey: string; parties: string[]; error: unknown };
type Sig = { signatureId: string; status: string; signature: string; signers: string[]; error: unknown };

let cluster: Cluster;
let api: ReturnType<typeof restClient>;
const dataDir = mkdtempSync(join(tmpdir(), 'glacis-cluster-'));

beforeAll(async () => {
  // One aggregation thread, as a coordinator on a host with more cores runs it (two cores default to none),
  // so this process wires the pool in; which signatures a thread aggregates is not asserted here (the
  // thread path itself: test/aggregation-workers.test.ts).
  cluster = await startLocalCluster({ dataDir, port: 0, parties: 5, env: { GLACIS_AGGREGATION_WORKERS: '1' } });
  api = restClient(cluster.baseUrl, cluster.adminToken);
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function createKey(suite: SuiteId, threshold: number, parties: string[]): Promise<Key> {
  const res = await api<Key>('POST', '/v1/keys?wait=30000', { suite, threshold, parties });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.status, JSON.stringify(res.body.error)).toBe('active');
  return res.body;
}

/** secp256k1-tr signs 32-byte digests (a sighash), as libsecp256k1's BIP-340 API expects. */
const messageFor = (suite: SuiteId, text: string) =>
  suite === 'secp256k1-tr' ? createHash('sha256').update(text).digest() : Buffer.from(text);

async function signAndVerify(key: Key, suite: SuiteId, text: string): Promise<Sig> {
  const message = messageFor(suite, text);
  const res = await api<Sig>('POST', `/v1/keys/${key.keyId}/signatures?wait=30000`, { message: message.toString('hex') });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.status, JSON.stringify(res.body.error)).toBe('completed');
  expect(verifyIndependently(suite, key.publicKey, message, res.body.signature), `${verifierName(suite)} rejected the signature`).toBe(
    true,
  );
  expect(verifyIndependently(suite, key.publicKey, messageFor(suite, `${text}!`), res.body.signature)).toBe(false);
  return res.body;
}

describe('multi-process cluster', () => {
  for (const suite of SUITE_IDS) {
    it(`${suite}: 2-of-3 and 3-of-5 DKG, then signatures verified by ${verifierName(suite)}`, async () => {
      const small = await createKey(suite, 2, ['party-1', 'party-2', 'party-3']);
      const big = await createKey(suite, 3, cluster.parties);
      for (let i = 0; i < 3; i++) await signAndVerify(small, suite, `${suite} 2-of-3 #${i}`);
      for (let i = 0; i < 3; i++) await signAndVerify(big, suite, `${suite} 3-of-5 #${i}`);
    });
  }

  it('a party restarted between DKG and signing still signs', async () => {
    const key = await createKey('ed25519', 3, ['party-1', 'party-2', 'party-3']);
    await cluster.kill('party-2', 'SIGKILL');
    cluster.startParty('party-2');
    await cluster.waitConnected(5);
    const sig = await signAndVerify(key, 'ed25519', 'after a restart');
    expect(sig.signers).toContain('party-2'); // 3-of-3: the restarted party had to sign
  });

  it('2-of-3 signs with one of the three parties stopped', async () => {
    const key = await createKey('secp256k1-tr', 2, ['party-3', 'party-4', 'party-5']);
    await cluster.kill('party-4', 'SIGTERM');
    const sig = await signAndVerify(key, 'secp256k1-tr', 'one party down');
    expect(sig.signers.sort()).toEqual(['party-3', 'party-5']);
    cluster.startParty('party-4');
    await cluster.waitConnected(5);
  });
});
