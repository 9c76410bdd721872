/**
 * A refresh whose coordinator instance dies, with two instances on one real PostgreSQL database
 * and three parties linked to both. The operation is work with a lease like a signing request: the
 * instance that accepted it runs it alone; when it dies, the other claims the lapsed lease and
 * takes the operation over.
 *
 *   - Killed once the starts were out (crash point `lifecycle-started`, before any confirmation):
 *     the rounds lived in the parties' memory, so the other instance fails it with
 *     `coordinator_restarted`; the key is exactly as it was, no party is left holding a successor,
 *     the key signs, and the next refresh (on the surviving instance) completes.
 *   - Killed once the successor was certified (`lifecycle-certified`): nobody can abandon it any
 *     more, so the other instance resumes it at its test signature and switches the key.
 *
 * Each operation is settled once (one audit event), and the key signs after each, checked by an
 * independent verifier.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuditEvent, verifyAuditChain } from '@glacis/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { startHaCluster } from '../../scripts/ha-cluster.mjs';
// @ts-expect-error plain ESM module without types
import { PARTY_CLI } from '../../scripts/local-cluster.mjs';
import { verifyIndependently } from '../support/independent-verify.js';
import { createTestDatabase, postgresOrSkip, type TestDatabase } from '../support/postgres.js';
import { cli } from '../support/reenrol.js';
import { restClient } from '../support/rest-client.js';

type Cluster = Awaited<ReturnType<typeof startHaCluster>>;
type Key = { keyId: string; publicKey: string; generation: number; verifyingShares: Record<string, string> };
type Op = { operationId: string; status: string; error: { code: string } | null };
const pg = postgresOrSkip('ha lifecycle takeover');

describe.skipIf(!pg.ok)('a lifecycle operation whose coordinator instance dies', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'glacis-ha-lifecycle-'));
  let db: TestDatabase;
  let cluster: Cluster;
  const api = (name: string) => restClient(cluster.baseUrl(name), cluster.adminToken);
  const dead = (name: string) => {
    const c = cluster.children.get(name);
    return c !== undefined && (c.exitCode !== null || c.signalCode !== null);
  };

  beforeAll(async () => {
    db = await createTestDatabase(pg.ok ? pg.url : '');
    cluster = await startHaCluster({ dataDir, databaseUrl: db.url, env: { GLACIS_LEASE_TTL_MS: '3000' } });
  });
  afterAll(async () => {
    await cluster?.stop();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await fn().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Restarts `name` with `env` (a crash point armed, or none) and waits for every party on it. */
  async function restart(name: string, env: Record<string, string> = {}): Promise<void> {
    await cluster.kill(name, 'SIGTERM');
    cluster.startInstance(name, env);
    await cluster.waitInstance(name);
    await cluster.waitConnected(cluster.parties.length, name);
  }

  /** Refreshes on `on`, which dies at `point`; follows the operation to its end on `other`. */
  async function refreshKilledAt(keyId: string, on: string, other: string, point: string): Promise<Op> {
    await restart(on, { GLACIS_TEST_CRASH_POINTS: `${point}:1` });
    const accepted = await api(on)<Op>('POST', `/v1/keys/${keyId}/refresh`, {});
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    await until(`${on} to die at ${point}`, async () => (dead(on) ? true : undefined));
    const op = await until(`${other} to settle the refresh`, async () => {
      const o = (await api(other)<Op>('GET', `/v1/operations/${accepted.body.operationId}?wait=10000`)).body;
      return o.status === 'pending' ? undefined : o;
    });
    await restart(on);
    return op;
  }

  async function signs(on: string, key: Key, text: string): Promise<void> {
    const message = Buffer.from(text);
    const r = await api(on)<{ status: string; signature: string }>('POST', `/v1/keys/${key.keyId}/signatures?wait=30000`, {
      message: message.toString('hex'),
    });
    expect(r.body.status).toBe('completed');
    expect(verifyIndependently('ed25519', key.publicKey, message, r.body.signature)).toBe(true);
  }

  const staged = async (party: string) =>
    JSON.parse(
      await cli(PARTY_CLI, ['lifecycle', 'list', '--data-dir', join(dataDir, party)], {
        GLACIS_KEK_FILE: join(dataDir, 'secrets', `${party}.kek`),
      }),
    ).staged as unknown[];

  it('fails cleanly, the key unchanged, before the certificate; resumes and switches after it', async () => {
    const [a, b] = cluster.names as [string, string];
    const key = (await api(a)<Key & { status: string }>('POST', '/v1/keys?wait=30000', { suite: 'ed25519', threshold: 2 })).body;
    expect(key.status).toBe('active');

    // Before the certificate: taken over and failed, nothing switched anywhere.
    const early = await refreshKilledAt(key.keyId, a, b, 'lifecycle-started');
    expect(early).toMatchObject({ status: 'failed', error: { code: 'coordinator_restarted' } });
    const unchanged = (await api(b)<Key>('GET', `/v1/keys/${key.keyId}`)).body;
    expect(unchanged).toMatchObject({ generation: 0, publicKey: key.publicKey, verifyingShares: key.verifyingShares });
    await until('no party to hold a staged successor', async () => {
      for (const p of cluster.parties) if ((await staged(p)).length > 0) return undefined;
      return true;
    });
    await signs(b, key, 'after a refresh taken over before its certificate');
    const next = (await api(b)<Op>('POST', `/v1/keys/${key.keyId}/refresh?wait=30000`, {})).body;
    expect(next).toMatchObject({ status: 'completed' });

    // After the certificate: resumed by the other instance at its test signature.
    const late = await refreshKilledAt(key.keyId, b, a, 'lifecycle-certified');
    expect(late).toMatchObject({ status: 'completed', error: null });
    const switched = (await api(a)<Key>('GET', `/v1/keys/${key.keyId}`)).body;
    expect(switched).toMatchObject({ generation: 2, publicKey: key.publicKey });
    expect(switched.verifyingShares).not.toEqual(unchanged.verifyingShares);
    await signs(a, key, 'after a refresh resumed by the other instance');
    await signs(b, key, 'on the instance that died, restarted');

    // One settle per operation, in one chain.
    const events: AuditEvent[] = (await api(a)<{ events: AuditEvent[] }>('GET', '/v1/audit?limit=500')).body.events;
    expect(verifyAuditChain(events)).toMatchObject({ ok: true });
    const settles = events.filter((e) => ['key_refreshed', 'refresh_failed'].includes(e.type)).map((e) => e.type);
    expect(settles).toEqual(['refresh_failed', 'key_refreshed', 'key_refreshed']);
  }, 600_000);
});
