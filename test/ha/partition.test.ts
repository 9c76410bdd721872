/**
 * A coordinator instance cut off from the database (its connection to PostgreSQL silently
 * partitioned by a TCP proxy the test controls, while its parties stay connected) stops working
 * on its requests once its leases lapse, and writes none of their results, not even when the cut
 * heals; the other instance takes the requests over and finishes them.
 *
 * To hold work at the moment of the cut, the requests are accepted by instance A while only one of
 * the three parties (threshold 2) is up; the other two come back right after the cut.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type AuditEvent, verifyAuditChain } from '@glacis/protocol';
import pgClient from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { startHaCluster } from '../../scripts/ha-cluster.mjs';
import { verifyIndependently } from '../support/independent-verify.js';
import { createTestDatabase, postgresOrSkip, type TestDatabase } from '../support/postgres.js';
import { restClient } from '../support/rest-client.js';

type Cluster = Awaited<ReturnType<typeof startHaCluster>>;
type Sig = { status: string; signature: string | null };
const pg = postgresOrSkip('ha partition');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TTL = 3_000;

/** test/lan/proxy.mjs in front of the database: `partition(true)` holds every byte both ways. */
async function dbProxy(target: URL) {
  const child = spawn(
    process.execPath,
    ['test/lan/proxy.mjs', '--listen', '127.0.0.1:0', '--target', `${target.hostname}:${target.port}`],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const pending = new Map<number, (v: unknown) => void>();
  let listening: (port: number) => void;
  const port = new Promise<number>((r) => {
    listening = r;
  });
  lines.on('line', (line) => {
    const m = JSON.parse(line);
    if (m.event === 'listening') listening(m.port);
    else if (m.id !== undefined) pending.get(m.id)?.(m);
  });
  let id = 0;
  const cmd = (c: Record<string, unknown>) =>
    new Promise((resolve) => {
      pending.set(++id, resolve);
      child.stdin.write(`${JSON.stringify({ id, ...c })}\n`);
    });
  const via = new URL(target.toString());
  via.hostname = '127.0.0.1';
  via.port = String(await port);
  return {
    url: via.toString(),
    partition: (on: boolean) => cmd({ cmd: 'partition', on }),
    stop: () => child.stdin.end(),
  };
}

/** The instance id a coordinator logged at start (its lease owner name). */
function instanceIdOf(logFile: string): string {
  const line = readFileSync(logFile, 'utf8')
    .split('\n')
    .find((l) => l.includes('"msg":"coordinator listening"'));
  const id = line === undefined ? undefined : (JSON.parse(line) as { instance?: unknown }).instance;
  if (typeof id !== 'string') throw new Error(`no instance id in ${logFile}`);
  return id;
}

/** Which of `ids` have their signature lease held by `owner` now. */
async function signatureLeasesOf(url: string, owner: string, ids: readonly string[]): Promise<Set<string>> {
  const client = new pgClient.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ id: string }>("SELECT id FROM work_leases WHERE kind = 'signature' AND owner = $1 AND id = ANY($2)", [
      owner,
      ids,
    ]);
    return new Set(r.rows.map((row) => row.id));
  } finally {
    await client.end();
  }
}

describe.skipIf(!pg.ok)('an instance cut off from the database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'glacis-ha-cut-'));
  let db: TestDatabase;
  let proxy: Awaited<ReturnType<typeof dbProxy>>;
  let cluster: Cluster;
  const api = (name: string) => restClient(cluster.baseUrl(name), cluster.adminToken);

  beforeAll(async () => {
    db = await createTestDatabase(pg.ok ? pg.url : '');
    proxy = await dbProxy(new URL(db.url));
    cluster = await startHaCluster({
      dataDir,
      databaseUrl: db.url,
      databaseUrls: [proxy.url, db.url],
      env: { GLACIS_LEASE_TTL_MS: String(TTL), GLACIS_SIGNING_TIMEOUT_MS: '60000' },
    });
  });
  afterAll(async () => {
    await proxy?.partition(false);
    await cluster?.stop();
    proxy?.stop();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops writing once its leases lapse; the other instance finishes its requests', async () => {
    const [a, b] = cluster.names as [string, string];
    const [, p2, p3] = cluster.parties as [string, string, string];
    const key = (
      await api(b)<{ keyId: string; publicKey: string; status: string }>('POST', '/v1/keys?wait=30000', { suite: 'ed25519', threshold: 2 })
    ).body;
    expect(key.status).toBe('active');

    // Only p1 up: A accepts (and so holds) requests it cannot finish yet.
    await cluster.kill(p2, 'SIGTERM');
    await cluster.kill(p3, 'SIGTERM');
    const messages = new Map<string, Buffer>();
    for (let i = 0; i < 3; i++) {
      const message = Buffer.from(`cut ${i}`);
      const r = await api(a)<{ signatureId: string }>('POST', `/v1/keys/${key.keyId}/signatures`, { message: message.toString('hex') });
      expect(r.status).toBe(202);
      messages.set(r.body.signatureId, message);
    }
    for (const id of messages.keys()) {
      for (let i = 0; i < 100 && (await api(b)<Sig>('GET', `/v1/signatures/${id}`)).body.status !== 'signing'; i++) await sleep(50);
      expect((await api(b)<Sig>('GET', `/v1/signatures/${id}`)).body.status).toBe('signing');
    }

    // The requests A runs. The accepting instance claims a request right after inserting it, but
    // the other instance's claim loop can take a fresh one first (it is claimable until claimed):
    // what this test says about A giving requests up holds for those A holds.
    const heldByA = await signatureLeasesOf(db.url, instanceIdOf(join(dataDir, 'logs', `${a}.log`)), [...messages.keys()]);
    expect(heldByA.size, 'A holds none of the requests it accepted').toBeGreaterThan(0);

    // Cut A from the database, then bring the parties back: they reach both instances.
    await proxy.partition(true);
    cluster.startParty(p2);
    cluster.startParty(p3);

    // B takes the requests over once A's leases lapse, and finishes them; ?wait= on B sees it.
    for (const [id, message] of messages) {
      const r = await api(b)<Sig>('GET', `/v1/signatures/${id}?wait=30000`);
      expect(r.body.status, id).toBe('completed');
      expect(verifyIndependently('ed25519', key.publicKey, message, r.body.signature as string)).toBe(true);
    }

    // Heal the cut: whatever A still had in hand must not reach the database (the fence refuses it).
    await proxy.partition(false);
    await sleep(3 * TTL);
    await cluster.waitInstance(a);

    const events: AuditEvent[] = (await api(b)<{ events: AuditEvent[] }>('GET', '/v1/audit?limit=500')).body.events;
    expect(verifyAuditChain(events)).toMatchObject({ ok: true });
    for (const id of messages.keys()) {
      const settles = events.filter(
        (e) =>
          e.type.startsWith('signature_') && e.type !== 'signature_requested' && (e.data as { signatureId?: unknown }).signatureId === id,
      );
      expect(
        settles.map((e) => e.type),
        id,
      ).toEqual(['signature_completed']);
    }
    // A gave each request it held up when it could no longer be sure of its lease.
    const lost = readFileSync(join(dataDir, 'logs', `${a}.log`), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"msg":"lease lost; work stopped here"'));
    for (const id of heldByA)
      expect(
        lost.some((l) => l.includes(`"id":"${id}"`)),
        `A never gave ${id} up`,
      ).toBe(true);
    // A is back in service after the cut: it accepts and finishes a new request.
    const after = await api(a)<Sig>('POST', `/v1/keys/${key.keyId}/signatures?wait=30000`, { message: '0102' });
    expect(after.body.status).toBe('completed');
  }, 300_000);
});
