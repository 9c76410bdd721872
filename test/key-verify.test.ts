/**
 * A desk checks the keys of a real cluster (`npm start`'s processes) with `glacis keys verify`
 * against the trust file of the parties' own identities: every suite's untouched key passes;
 * a coordinator whose database was edited (a compromised coordinator, here a second SQLite
 * connection beside the running one) serves a swapped public key, a certificate short of a
 * party, another threshold, and the desk refuses each, with the reason. `glacis audit verify`
 * reads the same chain `glacis-coordinator audit verify` reads, and catches an edited event.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Envelope, generateIdentity, SUITE_IDS, type SuiteId, toHex } from '@glacis/protocol';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { COORDINATOR_CLI, startLocalCluster } from '../scripts/local-cluster.mjs';
import { runGlacis } from './support/glacis-cli.js';
import { rng } from './support/in-process-cluster.js';
import { restClient } from './support/rest-client.js';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;
type Key = { keyId: string; status: string; publicKey: string; threshold: number; error: unknown };

const dataDir = mkdtempSync(join(tmpdir(), 'glacis-keyverify-'));
let cluster: Cluster;
let api: ReturnType<typeof restClient>;
const keys = new Map<SuiteId, Key>();

beforeAll(async () => {
  cluster = await startLocalCluster({ dataDir, port: 0, parties: 3 });
  api = restClient(cluster.baseUrl, cluster.adminToken);
  for (const suite of SUITE_IDS) {
    const res = await api<Key>('POST', '/v1/keys?wait=30000', { suite, threshold: 2 });
    expect(res.body.status, JSON.stringify(res.body.error)).toBe('active');
    keys.set(suite, res.body);
  }
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const glacis = (...args: string[]) => runGlacis(cluster.baseUrl, cluster.adminToken, ...args);
const verify = (keyId: string) => glacis('keys', 'verify', keyId, '--trust', cluster.trustFile);

/** Runs `sql` on the coordinator's database through a second connection, beside the running coordinator. */
function tamper(sql: string, ...params: unknown[]): void {
  const db = new Database(join(dataDir, 'coordinator', 'coordinator.sqlite'));
  try {
    expect(db.prepare(sql).run(...params).changes).toBe(1);
  } finally {
    db.close();
  }
}
const keyOf = (suite: SuiteId) => keys.get(suite) as Key;

describe('glacis keys verify', () => {
  it.each(SUITE_IDS)('accepts the untouched %s key', async (suite) => {
    const key = keyOf(suite);
    const r = await verify(key.keyId);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      keyId: key.keyId,
      suite,
      threshold: 2,
      parties: cluster.parties,
      publicKey: key.publicKey,
    });
  });

  it('refuses a public key swapped in the coordinator’s database for one the coordinator made alone', async () => {
    const key = keyOf('ed25519');
    const own = toHex(generateIdentity(rng).publicKey); // an Ed25519 key whose secret the attacker holds
    tamper('UPDATE keys SET public_key = ? WHERE key_id = ?', own, key.keyId);
    // The coordinator now tells every desk to fund the attacker's key.
    expect((await api<Key>('GET', `/v1/keys/${key.keyId}`)).body.publicKey).toBe(own);
    const r = await verify(key.keyId);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`key ${key.keyId} REFUSED (public_key_mismatch): the coordinator serves publicKey ${own}`);
    expect(r.stderr).toContain(`but the committee confirmed ${key.publicKey}`);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'public_key_mismatch' });
  });

  it('refuses a certificate from which a party’s confirmation was removed', async () => {
    const key = keyOf('secp256k1-tr');
    const db = new Database(join(dataDir, 'coordinator', 'coordinator.sqlite'), { readonly: true });
    const row = db.prepare('SELECT certificate FROM keys WHERE key_id = ?').get(key.keyId) as { certificate: string };
    db.close();
    const [dropped, ...rest] = JSON.parse(row.certificate) as Envelope[];
    tamper('UPDATE keys SET certificate = ? WHERE key_id = ?', JSON.stringify(rest), key.keyId);
    const r = await verify(key.keyId);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`REFUSED (certificate_invalid): no confirmation from ${dropped?.from}`);
  });

  it('refuses a key whose threshold the coordinator changed', async () => {
    const key = keyOf('p256');
    tamper('UPDATE keys SET threshold = 3 WHERE key_id = ?', key.keyId);
    const r = await verify(key.keyId);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('REFUSED (certificate_invalid): confirmations are for another key, suite or threshold');
  });

  it('refuses a key one of whose parties the desk does not pin', async () => {
    const { parties } = JSON.parse(readFileSync(cluster.trustFile, 'utf8')) as { parties: Record<string, string> };
    const { 'party-3': _unpinned, ...two } = parties;
    const partial = join(dataDir, 'two-parties.json');
    writeFileSync(partial, JSON.stringify({ parties: two }));
    const r = await glacis('keys', 'verify', keyOf('ed448').keyId, '--trust', partial);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('REFUSED (untrusted_party): committee member party-3 is not in the trust file');
  });
});

describe('glacis audit verify', () => {
  it('reads the chain glacis-coordinator audit verify reads, and catches an edited event', async () => {
    const local = spawnSync(process.execPath, [COORDINATOR_CLI, 'audit', 'verify', '--data-dir', join(dataDir, 'coordinator')], {
      encoding: 'utf8',
    });
    expect(local.status, local.stderr).toBe(0);
    const { head, headSeq } = JSON.parse(local.stdout) as { head: string; headSeq: number };
    // Anchored at the head the operator's own check saw (the coordinator may have appended since).
    const remote = await glacis('audit', 'verify', '--anchor', `${headSeq}:${head}`);
    expect(remote.status, remote.stderr).toBe(0);
    expect(JSON.parse(remote.stdout)).toMatchObject({ ok: true });
    expect(JSON.parse(remote.stdout).headSeq).toBeGreaterThanOrEqual(headSeq);

    const db = new Database(join(dataDir, 'coordinator', 'coordinator.sqlite'));
    try {
      db.exec('DROP TRIGGER audit_no_update');
      db.prepare("UPDATE audit SET type = 'nothing_to_see' WHERE seq = 2").run();
    } finally {
      db.close();
    }
    const broken = await glacis('audit', 'verify');
    expect(broken.status).toBe(3);
    expect(JSON.parse(broken.stdout)).toMatchObject({ ok: false, brokenAt: 2 });
    expect(broken.stderr).toContain('audit chain broken at event 2');
  });
});
