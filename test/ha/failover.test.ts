/**
 * No coordinator instance is a single point of failure (issue 17). Two instances on one real
 * PostgreSQL database, three parties linked to both, a steady stream of signing requests sent to
 * both instances; one instance is SIGKILLed every few seconds (at least 20 times) and restarted.
 *
 * Every request that got a 2xx settles completed (or failed with a reason; none is lost); each
 * idempotency key names one request, across instances and crashes; no request is settled twice
 * (one settle event in the audit log per request: no signature is produced twice); the one audit
 * chain verifies; and `?wait=` answers on either instance, for results the other one produced.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuditEvent, verifyAuditChain } from '@glacis/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { startHaCluster } from '../../scripts/ha-cluster.mjs';
import { verifyIndependently } from '../support/independent-verify.js';
import { createTestDatabase, postgresOrSkip, type TestDatabase } from '../support/postgres.js';
import { restClient } from '../support/rest-client.js';

type Cluster = Awaited<ReturnType<typeof startHaCluster>>;
type Sig = { signatureId: string; status: string; signature: string | null; error: { code: string; message: string } | null };
const KILLS = 22;
const pg = postgresOrSkip('ha failover');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!pg.ok)('two coordinator instances on PostgreSQL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'glacis-ha-'));
  let db: TestDatabase;
  let cluster: Cluster;
  const api = (name: string) => restClient(cluster.baseUrl(name), cluster.adminToken);

  beforeAll(async () => {
    db = await createTestDatabase(pg.ok ? pg.url : '');
    cluster = await startHaCluster({
      dataDir,
      databaseUrl: db.url,
      // One admin token drives the whole load and then reads every request back on both instances:
      // on a quiet machine that is well over the default 3000 requests per 10 s, and a 429 is the
      // rate limit doing its job, not a failover fault (the bench raises it the same way).
      env: { GLACIS_LEASE_TTL_MS: '3000', GLACIS_SIGNING_TIMEOUT_MS: '45000', GLACIS_RATE_LIMIT_MAX: '1000000' },
    });
  });
  afterAll(async () => {
    await cluster?.stop();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`every accepted request settles once while one instance or the other is SIGKILLed ${KILLS} times`, async () => {
    const [a, b] = cluster.names as [string, string];
    const key = (
      await api(a)<{ keyId: string; publicKey: string; status: string }>('POST', '/v1/keys?wait=30000', { suite: 'ed25519', threshold: 2 })
    ).body;
    expect(key.status).toBe('active');

    const idsByIdemKey = new Map<string, Set<string>>();
    const messageOf = new Map<string, Buffer>();
    const seenOn = new Map<string, Set<string>>(); // signatureId → instances whose ?wait= saw it settled
    let running = true;

    /** One closed-loop request: submitted to `first` (then the other while it is down), followed to its end on both. */
    async function submit(n: number, first: number): Promise<void> {
      const idem = randomUUID();
      const message = createHash('sha256').update(`ha failover ${n}`).digest();
      for (let attempt = 0; ; attempt++) {
        const name = cluster.names[(first + attempt) % 2] as string;
        let r: { status: number; body: { signatureId: string } };
        try {
          r = await api(name)(
            'POST',
            `/v1/keys/${key.keyId}/signatures`,
            { message: message.toString('hex') },
            { 'idempotency-key': idem },
          );
        } catch {
          await sleep(20);
          continue;
        }
        if (r.status >= 500) {
          await sleep(20);
          continue;
        }
        expect([200, 202], JSON.stringify(r.body)).toContain(r.status);
        const set = idsByIdemKey.get(idem) ?? new Set();
        set.add(r.body.signatureId);
        idsByIdemKey.set(idem, set);
        messageOf.set(r.body.signatureId, message);
        // A retry on the other instance must answer with the same request.
        if (attempt === 0 && n % 3 === 0) continue;
        for (let k = 0; ; k++) {
          const on = cluster.names[(first + k + 1) % 2] as string;
          try {
            const s = await api(on)<Sig>('GET', `/v1/signatures/${r.body.signatureId}?wait=5000`);
            if (s.status === 200 && !['pending', 'signing'].includes(s.body.status)) {
              const seen = seenOn.get(r.body.signatureId) ?? new Set();
              seen.add(on);
              seenOn.set(r.body.signatureId, seen);
              return;
            }
          } catch {
            await sleep(20);
          }
        }
      }
    }

    const load = (async () => {
      let n = 0;
      const client = async (c: number) => {
        while (running) await submit(n++, c % 2);
      };
      await Promise.all([client(0), client(1), client(2), client(3)]);
    })();

    for (let k = 0; k < KILLS; k++) {
      await sleep(1_500 + Math.random() * 1_500);
      const victim = cluster.names[Math.random() < 0.5 ? 0 : 1] as string;
      await cluster.kill(victim, 'SIGKILL');
      await sleep(Math.random() * 1_000);
      cluster.startInstance(victim);
      await cluster.waitInstance(victim);
    }
    running = false;
    await load;
    await cluster.waitConnected();

    // Each idempotency key named one request, whichever instance answered and however often.
    for (const [idem, set] of idsByIdemKey) expect(set.size, `idempotency key ${idem} gave several requests`).toBe(1);

    // Every accepted request is settled, and ?wait= answers on both instances for each.
    let completed = 0;
    for (const [id, message] of messageOf) {
      for (const name of [a, b]) {
        const r = await api(name)<Sig>('GET', `/v1/signatures/${id}?wait=30000`);
        expect(r.status).toBe(200);
        expect(['completed', 'failed'], `${id} is ${r.body.status} on ${name}`).toContain(r.body.status);
        if (r.body.status === 'failed') expect(r.body.error?.code, `${id} failed without a reason`).toBeTruthy();
      }
      const s = (await api(b)<Sig>('GET', `/v1/signatures/${id}`)).body;
      if (s.status === 'completed') {
        completed++;
        expect(verifyIndependently('ed25519', key.publicKey, message, s.signature as string)).toBe(true);
      }
    }

    // One audit chain, and one settle per request in it: no request was signed twice.
    const events: AuditEvent[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { events: AuditEvent[]; nextCursor: string | null } } = await api(a)(
        'GET',
        `/v1/audit?limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      );
      events.push(...page.body.events);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(verifyAuditChain(events)).toMatchObject({ ok: true });
    const settles = new Map<string, number>();
    for (const e of events) {
      if (!['signature_completed', 'signature_failed', 'signature_rejected'].includes(e.type)) continue;
      const id = String((e.data as { signatureId: string }).signatureId);
      settles.set(id, (settles.get(id) ?? 0) + 1);
    }
    for (const id of messageOf.keys()) expect(settles.get(id), `${id} settled ${settles.get(id) ?? 0} times`).toBe(1);

    const both = [...seenOn.values()].filter((s) => s.size > 0).length;
    console.log(
      `[ha failover] ${messageOf.size} accepted, ${completed} completed, ${KILLS} instance kills, ${both} followed to the end by ?wait=`,
    );
    expect(messageOf.size).toBeGreaterThanOrEqual(20);
    expect(completed).toBeGreaterThan(0);
  }, 900_000);
});
