import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { settledFlags } from '../../../../test/support/settled-flags.js';
import { activeKey, newKey, newSig, type StoreHarness, storeContract } from '../../test/store-contract.js';
import type { LeaseFence } from '../orchestrator/store-port.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import { prepareStatements } from './sqlite-statements.js';
import { openSqliteStore } from './sqlite-store.js';

/** A SQLite file in a temp directory, on a clock the test moves. */
function sqliteHarness(): StoreHarness & { path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'glacis-store-'));
  const path = join(dir, 'sub', 'coordinator.sqlite');
  let t = Date.now();
  const open = async () => openSqliteStore({ path, now: () => t });
  return {
    path,
    open,
    openAgain: open,
    async create(version) {
      mkdirSync(dirname(path), { recursive: true });
      const db = new Database(path);
      try {
        migrate(db, () => new Date(t).toISOString(), version);
      } finally {
        db.close();
      }
    },
    async elapse(ms) {
      t += ms;
    },
    async exec(sql) {
      const db = new Database(path);
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
    dropTrigger: (name) => `DROP TRIGGER ${name}`,
    async dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('SQLite store: the store contract', () => {
  storeContract(sqliteHarness);
});

describe('SQLite store: its file', () => {
  test('creates the directory, runs migrations once, and uses a WAL journal', async () => {
    const h = sqliteHarness();
    try {
      await (await h.open()).close();
      const store = await h.openAgain();
      const db = new Database(h.path, { readonly: true });
      try {
        expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual(
          Array.from({ length: SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })),
        );
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      } finally {
        db.close();
      }
      expect(await store.ping()).toBe(true);
      await store.close();
    } finally {
      await h.dispose();
    }
  });

  test('the in-flight counts a new request is checked against walk the requests in flight, not every request of the key', async () => {
    const h = sqliteHarness();
    try {
      await (await h.open()).close();
      const db = new Database(h.path, { readonly: true });
      try {
        const q = prepareStatements(db);
        const plan = (sql: string, ...args: unknown[]) =>
          db
            .prepare(`EXPLAIN QUERY PLAN ${sql}`)
            .all(...args)
            .map((r) => (r as { detail: string }).detail)
            .join('; ');
        expect(plan(q.unsettledCountOfKey.source, 'k')).toBe('SCAN signatures USING INDEX signatures_unsettled');
        expect(plan(q.unsettledCount.source)).toMatch(/USING COVERING INDEX signatures_by_status/);
      } finally {
        db.close();
      }
    } finally {
      await h.dispose();
    }
  });

  test('schema 1 renders for SQLite as it was first written: audit.seq is the rowid, the others autoincrement', async () => {
    const h = sqliteHarness();
    try {
      await (await h.open()).close();
      const db = new Database(h.path, { readonly: true });
      try {
        const sql = (name: string) => (db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(name) as { sql: string }).sql;
        expect(sql('audit')).toMatch(/\bseq INTEGER PRIMARY KEY,/);
        expect(sql('signatures')).toMatch(/\bseq INTEGER PRIMARY KEY AUTOINCREMENT,/);
        expect(sql('audit_no_update')).toContain("RAISE(ABORT, 'audit log is append-only')");
      } finally {
        db.close();
      }
    } finally {
      await h.dispose();
    }
  });
});

describe('SQLite store: older schemas', () => {
  test('tokens of a version-1 database keep working; env-admin is known to come from the environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glacis-v1-'));
    try {
      const v1 = new Database(join(dir, 'db.sqlite'));
      migrate(v1, () => 'x', 1);
      v1.exec(
        `INSERT INTO tokens VALUES ('env-admin', '${'a'.repeat(64)}', 'admin', 'x'), ('desk', '${'b'.repeat(64)}', 'requester', 'x');`,
      );
      v1.close();
      const store = openSqliteStore({ path: join(dir, 'db.sqlite') });
      expect((await store.listTokens()).map((t) => [t.name, t.source])).toEqual([
        ['desk', 'cli'],
        ['env-admin', 'env'],
      ]);
      expect(await store.findToken('b'.repeat(64))).toMatchObject({ name: 'desk', role: 'requester' });
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('group commit: a write is acknowledged only once the WAL is on disk', () => {
  /** A WAL fsync the test holds, then releases (or fails) by hand. */
  function heldWalSync() {
    const calls: { release: () => void; fail: (e: Error) => void }[] = [];
    const walSync = () => new Promise<void>((resolve, reject) => void calls.push({ release: resolve, fail: reject }));
    return { walSync, calls };
  }
  const tick = () => new Promise((r) => setTimeout(r, 10));
  /**
   * Waits until `cond` holds (bounded), then one tick more for anything that should NOT happen to
   * show itself. A fixed tick alone failed under load: the fsync is started off the event loop.
   */
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 500 && !cond(); i++) await tick();
    await tick();
  };

  /** A file with an active key and a pending request in it, and a store on it whose WAL fsyncs the test holds. */
  async function held() {
    const h = sqliteHarness();
    const setup = await h.open();
    const keyId = await activeKey(setup);
    const sig = newSig(keyId);
    await setup.createSignature(sig);
    await setup.close();
    const { walSync, calls } = heldWalSync();
    const t = { now: Date.now() };
    const store = openSqliteStore({ path: h.path, walSync, now: () => t.now });
    return { h, store, keyId, sig, calls, t };
  }

  test('concurrent requests share one fsync; none is acknowledged, announced or readable before the fsync covering it', async () => {
    const { h, store, keyId, sig, calls } = await held();
    try {
      const settled = store.waitForSettled('signature', sig.signatureId, 5_000);
      const completion = store.completeSignature(sig.signatureId, { signature: 'ab', signers: ['alice', 'bob'] });
      const created = [store.createSignature(newSig(keyId)), store.createSignature(newSig(keyId))];
      const read = store.getSignature(sig.signatureId);
      const done = settledFlags([completion, ...created, read, settled]);
      await until(() => calls.length >= 1);
      expect(calls, 'one fsync under way; the others wait for the next').toHaveLength(1);
      expect(done, 'nothing acknowledged, announced or read while it is not durable').toEqual([false, false, false, false, false]);

      calls[0]?.release();
      await until(() => done[0] === true && calls.length >= 2);
      expect(done.slice(0, 1), 'the completion was covered by the first fsync').toEqual([true]);
      expect(done.slice(1, 4), 'the two requests and the read share the second').toEqual([false, false, false]);
      expect(calls).toHaveLength(2);
      calls[1]?.release();
      await Promise.all([...created, read]);
      expect((await read)?.status).toBe('completed');
      expect(await settled).toBe(true);
      expect(calls, 'three transactions and a read, two fsyncs').toHaveLength(2);
      await store.close();
    } finally {
      await h.dispose();
    }
  });

  test('a failed fsync: that write and every later one answer store_unavailable', async () => {
    const { h, store, calls } = await held();
    try {
      const first = store.createKey(newKey());
      await tick();
      calls[0]?.fail(new Error('EIO'));
      await expect(first).rejects.toMatchObject({ code: 'store_unavailable' });
      await expect(store.createKey(newKey())).rejects.toMatchObject({ code: 'store_unavailable' });
      await expect(store.listKeys({ limit: 10, cursor: null })).rejects.toMatchObject({ code: 'store_unavailable' });
      await store.close();
    } finally {
      await h.dispose();
    }
  });

  test('fencing is unchanged while an fsync is held: a stale fence is refused at once, the current one waits for its fsync', async () => {
    const { h, store, sig, calls, t } = await held();
    try {
      // Lease claims wait for no fsync of their own (sqlite-store.ts says why).
      const [first] = await store.claimWork({ owner: 'life-1', ttlMs: 1_000, limit: 1 });
      t.now += 2_000;
      const [second] = await store.claimWork({ owner: 'life-2', ttlMs: 1_000, limit: 1 });
      expect(calls, 'the claims asked for no fsync').toHaveLength(0);
      const fence = (l: LeaseFence | undefined): LeaseFence => ({ ...(l as LeaseFence) });

      const current = store.markSigning(sig.signatureId, fence(second));
      const done = settledFlags([current]);
      await until(() => calls.length >= 1);
      expect(calls, 'the current holder’s write waits for an fsync').toHaveLength(1);
      await expect(
        store.completeSignature(sig.signatureId, { signature: 'ab', signers: ['alice'] }, undefined, fence(first)),
        'the old holder is refused without waiting for the held fsync',
      ).rejects.toMatchObject({ code: 'lease_lost' });
      expect(done).toEqual([false]);
      calls[0]?.release();
      await current;
      expect(await store.getSignature(sig.signatureId)).toMatchObject({ status: 'signing', signature: null });
      expect(calls, 'the refused write committed nothing to make durable').toHaveLength(1);
      await store.close();
    } finally {
      await h.dispose();
    }
  });
});
