/**
 * The PostgreSQL store on a real server (GLACIS_TEST_DATABASE_URL; skipped with a reason without
 * one): the store contract, then what only several sessions on one database can show — two
 * instances claiming, creating under one idempotency key, appending to the audit chain at once,
 * and a settle on one instance answering a wait on the other.
 */
import { verifyAuditChain } from '@glacis/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createTestDatabase, postgresOrSkip, sqlOn, type TestDatabase } from '../../../../test/support/postgres.js';
import { activeKey, newKey, newOperation, newSig, type StoreHarness, storeContract } from '../../test/store-contract.js';
import { createPgConnection, migratePg } from './pg-connection.js';
import { openPostgresStore } from './pg-store.js';
import type { Store } from './types.js';

const pg = postgresOrSkip('pg-store');
const adminUrl = pg.ok ? pg.url : '';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A database of its own on the test server; leases run on the server's clock, so time really passes. */
function pgHarness(): StoreHarness {
  let db: TestDatabase | undefined;
  const openAgain = () => openPostgresStore({ url: (db as TestDatabase).url, pollMs: 100, timeoutMs: 5_000 });
  return {
    async open() {
      db = await createTestDatabase(adminUrl);
      return openAgain();
    },
    openAgain,
    async create(version) {
      db = await createTestDatabase(adminUrl);
      const conn = createPgConnection({ url: db.url });
      try {
        await migratePg(conn, () => new Date().toISOString(), version);
      } finally {
        await conn.end();
      }
    },
    elapse: sleep,
    async exec(sql) {
      await sqlOn((db as TestDatabase).url, sql);
    },
    dropTrigger: (name) => `DROP TRIGGER ${name} ON audit`,
    async dispose() {
      await db?.drop();
    },
  };
}

describe.skipIf(!pg.ok)('PostgreSQL store: the store contract', () => {
  storeContract(pgHarness);
});

describe.skipIf(!pg.ok)('PostgreSQL store: several instances on one database', () => {
  let db: TestDatabase;
  let a: Store;
  let b: Store;
  beforeEach(async () => {
    db = await createTestDatabase(adminUrl);
    // Two instances migrating at once: the advisory lock lets one do it.
    const open = () => openPostgresStore({ url: db.url, pollMs: 100 });
    [a, b] = await Promise.all([open(), open()]);
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    await db.drop();
  });

  test('two instances claiming at once never take the same work (FOR UPDATE SKIP LOCKED)', async () => {
    const keyId = await activeKey(a);
    const ids = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const s = newSig(keyId);
      await a.createSignature(s);
      ids.add(s.signatureId);
    }
    const takenBy = new Map<string, string>();
    const claimer = async (store: Store, owner: string) => {
      for (;;) {
        const leases = await store.claimWork({ owner, ttlMs: 60_000, limit: 3 });
        if (leases.length === 0 && takenBy.size === ids.size) return;
        for (const l of leases) {
          expect(takenBy.has(l.id), `${l.id} claimed by ${takenBy.get(l.id)} and ${owner}`).toBe(false);
          takenBy.set(l.id, owner);
        }
      }
    };
    await Promise.all([claimer(a, 'a'), claimer(b, 'b'), claimer(a, 'a2'), claimer(b, 'b2')]);
    expect(new Set(takenBy.keys())).toEqual(ids);
    expect(new Set(takenBy.values()).size).toBeGreaterThan(1);
  });

  test('a claim waits for nothing: work held by a fenced write in progress is skipped, not blocked on', async () => {
    const s = newSig(await activeKey(a));
    await a.createSignature(s);
    const [lease] = await a.claimWork({ owner: 'a', ttlMs: 300, limit: 1 });
    await sleep(400);
    // Hold the lease row locked in another session, as a fenced write in its transaction does.
    const pgm = await import('pg');
    const holder = new pgm.default.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query("SELECT * FROM work_leases WHERE kind = 'signature' AND id = $1 FOR UPDATE", [s.signatureId]);
      expect(await b.claimWork({ owner: 'b', ttlMs: 300, limit: 1 })).toEqual([]);
      await holder.query('ROLLBACK');
    } finally {
      await holder.end();
    }
    expect(await b.claimWork({ owner: 'b', ttlMs: 300, limit: 1 })).toMatchObject([{ id: s.signatureId, epoch: (lease?.epoch ?? 0) + 1 }]);
  });

  test('one idempotency key sent to two instances at once makes one request; the other answers as a replay', async () => {
    const keyId = await activeKey(a);
    for (let round = 0; round < 10; round++) {
      const scope = { key: `idem-${round}`, route: `POST /v1/keys/${keyId}/signatures`, tokenName: 'desk' };
      const claimFor = (sig: { signatureId: string }) => ({
        scope,
        requestHash: 'same-body',
        response: { statusCode: 202, body: { signatureId: sig.signatureId, status: 'pending' } },
      });
      const [s1, s2] = [newSig(keyId), newSig(keyId)];
      const results = await Promise.all([a.createSignature(s1, claimFor(s1)), b.createSignature(s2, claimFor(s2))]);
      const created = results.filter((r) => r.created);
      const replayed = results.filter((r) => !r.created);
      expect(created).toHaveLength(1);
      expect(replayed).toHaveLength(1);
      const winner = created[0]?.created ? created[0].record.signatureId : '';
      expect(replayed[0]?.created === false && replayed[0].previous.response.body.signatureId).toBe(winner);
    }
    expect((await a.listSignatures(keyId, { limit: 100, cursor: null })).items).toHaveLength(10);
    const requested = (await a.listAudit({ limit: 500, cursor: null })).items.filter((e) => e.type === 'signature_requested');
    expect(requested).toHaveLength(10);
  });

  test('appends from two instances at once form one verifying chain with no gap', async () => {
    const burst = (store: Store, who: string) => Promise.all(Array.from({ length: 30 }, (_, i) => store.appendAudit('e', { who, i })));
    await Promise.all([burst(a, 'a'), burst(b, 'b')]);
    const { items } = await b.listAudit({ limit: 500, cursor: null });
    expect(items.map((e) => e.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(verifyAuditChain(items).ok).toBe(true);
  });

  test('a settle on one instance answers a wait on the other', async () => {
    const k = newKey();
    await a.createKey(k);
    const waiting = b.waitForSettled('key', k.keyId, 10_000);
    await sleep(50);
    await a.markKeyActive(k.keyId, { publicKey: 'aa', verifyingShares: {}, groupCommitment: [], certificate: [] });
    expect(await waiting).toBe(true);
  });

  test('a key switched on one instance is announced on the other, after the commit that switched it', async () => {
    const keyId = await activeKey(a);
    const heard: { keyId: string; generation: number | undefined }[] = [];
    const stop = b.onKeySwitched((id) => {
      void b.getKey(id).then((k) => heard.push({ keyId: id, generation: k?.generation }));
    });
    // b listens on a connection of its own, set up after it opened: wait until a probe gets through.
    await expect
      .poll(
        async () => {
          await sqlOn(db.url, "SELECT pg_notify('glacis_settled', 'key_switched:probe')");
          return heard.some((x) => x.keyId === 'probe');
        },
        { timeout: 10_000, interval: 100 },
      )
      .toBe(true);
    const created = await a.createOperation(newOperation(keyId, 'refresh'));
    const material = {
      threshold: 2,
      parties: ['alice', 'bob'],
      verifyingShares: { alice: '0a', bob: '0b' },
      groupCommitment: ['0c', '0d'],
    };
    await a.completeOperation(created.created ? created.record.operationId : '', {
      expectedGeneration: 0,
      link: { operation: 'refresh', sessionId: 'refresh-op_x', confirmations: [] },
      material,
    });
    await expect.poll(() => heard.filter((x) => x.keyId === keyId), { timeout: 10_000 }).toEqual([{ keyId, generation: 1 }]);
    stop();
  }, 30_000);

  test('without a notification (a row settled behind the store) the wait still answers, by polling', async () => {
    const k = newKey();
    await a.createKey(k);
    const waiting = b.waitForSettled('key', k.keyId, 10_000);
    await sleep(50);
    await sqlOn(db.url, "UPDATE keys SET status = 'failed' WHERE key_id = $1", [k.keyId]);
    expect(await waiting).toBe(true);
  });

  test('an unreachable server is store_unavailable, and the store opens once it answers', async () => {
    const url = new URL(db.url);
    url.port = '1';
    await expect(openPostgresStore({ url: url.toString(), timeoutMs: 2_000 })).rejects.toMatchObject({ code: 'store_unavailable' });
  });
});
