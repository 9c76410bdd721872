/**
 * DESIGN.md invariant 2, end to end: a secret share (and a party's identity seed) is never logged,
 * never sent unencrypted, never written unencrypted to disk, never reaches the coordinator. A
 * cluster runs DKGs and signs with every log at its most verbose and the coordinator's wire log on;
 * afterwards each party's keystore is opened with its own secret, and every byte every process
 * wrote — logs, the wire log of all traffic the coordinator saw, its database, the parties' data
 * directories — is searched for each secret, as hex (either case), base64 and raw bytes.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeKeyShare } from '@glacis/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openKeystore } from '../packages/party-node/src/keystore/keystore.js';
// @ts-expect-error plain ESM module without types
import { startLocalCluster } from '../scripts/local-cluster.mjs';
import { restClient } from './support/rest-client.js';

const dataDir = mkdtempSync(join(tmpdir(), 'glacis-secrets-'));
const wireLog = join(dataDir, 'wire.jsonl');
const SUITES = ['ed25519', 'secp256k1-tr'] as const;

beforeAll(async () => {
  const cluster = await startLocalCluster({
    dataDir,
    port: 0,
    parties: 3,
    env: { GLACIS_WIRE_LOG: wireLog, GLACIS_LOG_LEVEL: 'trace' },
    partyEnv: { GLACIS_LOG_LEVEL: 'trace' },
  });
  try {
    const api = restClient(cluster.baseUrl, cluster.adminToken);
    for (const suite of SUITES) {
      const key = await api<{ keyId: string; status: string }>('POST', '/v1/keys?wait=30000', { suite, threshold: 2 });
      expect(key.body.status).toBe('active');
      for (const message of ['00', 'abcdef', '68656c6c6f']) {
        const s = await api<{ status: string }>('POST', `/v1/keys/${key.body.keyId}/signatures?wait=30000`, { message });
        expect(s.body.status).toBe('completed');
      }
    }
  } finally {
    await cluster.stop();
  }
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

it('no secret share or identity seed appears in clear in anything the cluster wrote', () => {
  const secrets: { what: string; bytes: Buffer }[] = [];
  for (const party of ['party-1', 'party-2', 'party-3']) {
    const kek = Buffer.from(readFileSync(join(dataDir, 'secrets', `${party}.kek`), 'utf8').trim(), 'hex');
    const keystore = openKeystore(join(dataDir, party), { kind: 'kek', kek: new Uint8Array(kek) });
    secrets.push({ what: `${party} identity seed`, bytes: Buffer.from(keystore.loadIdentity().exportSeed()) });
    for (const stored of keystore.list()) {
      secrets.push({
        what: `${party} share of ${stored.share.keyId}`,
        bytes: Buffer.from(encodeKeyShare(stored.share).signingShare, 'hex'),
      });
    }
  }
  expect(secrets).toHaveLength(3 + 3 * SUITES.length);

  const files = filesUnder(dataDir).filter((f) => !f.includes(`${join(dataDir, 'secrets')}/`));
  // The scan covers what matters: the coordinator's database and wire log, every process's log, and
  // the round-2 traffic in which shares travelled (as ciphertext) through the coordinator.
  expect(files).toContain(wireLog);
  expect(files).toContain(join(dataDir, 'coordinator', 'coordinator.sqlite'));
  expect(files.filter((f) => f.endsWith('.log')).length).toBeGreaterThanOrEqual(4);
  expect(readFileSync(wireLog, 'utf8')).toContain('"type":"dkg_round2"');

  const found: string[] = [];
  for (const file of files) {
    const content = readFileSync(file);
    const text = content.toString('latin1');
    for (const { what, bytes } of secrets) {
      const hex = bytes.toString('hex');
      const forms = [hex, hex.toUpperCase(), bytes.toString('base64'), bytes.toString('base64url')];
      if (content.includes(bytes) || forms.some((f) => text.includes(f))) found.push(`${what} in ${file}`);
    }
  }
  expect(found).toEqual([]);
});
