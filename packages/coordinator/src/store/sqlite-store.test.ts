import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { type StoreHarness, storeContract } from '../../test/store-contract.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';
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

  test('a database of schema 2 with unsettled work gets claimable leases for it when migrated', async () => {
    const h = sqliteHarness();
    try {
      // Schema 2 as a coordinator before work leases left it: one pending key, one signing request.
      mkdirSync(dirname(h.path), { recursive: true });
      const v2 = new Database(h.path);
      migrate(v2, () => 'x', 2);
      v2.exec(`INSERT INTO keys (key_id, operation_id, suite, threshold, parties, status, created_at, requested_by)
                 VALUES ('key_a', 'op_a', 'ed25519', 2, '["alice","bob"]', 'active', 'x', 't'),
                        ('key_p', 'op_p', 'ed25519', 2, '["alice","bob"]', 'pending', 'x', 't');
               INSERT INTO operations (operation_id, key_id, type, status, created_at)
                 VALUES ('op_a', 'key_a', 'dkg', 'completed', 'x'), ('op_p', 'key_p', 'dkg', 'pending', 'x');
               INSERT INTO signatures (signature_id, key_id, message, approvals, status, created_at, deadline, requested_by)
                 VALUES ('sig_1', 'key_a', '00', '[]', 'pending', 'x', 'x', 't'),
                        ('sig_2', 'key_a', '00', '[]', 'completed', 'x', 'x', 't');`);
      v2.close();

      const migrated = await h.openAgain();
      const claimed = await migrated.claimWork({ owner: 'a', ttlMs: 1_000, limit: 10 });
      expect(claimed.map((l) => [l.kind, l.id, l.epoch]).sort()).toEqual([
        ['key', 'key_p', 2],
        ['signature', 'sig_1', 2],
      ]);
      await migrated.close();
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

  test('a version-3 database keeps its keys, operations and work leases through the lifecycle migration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glacis-v3-'));
    try {
      const v3 = new Database(join(dir, 'db.sqlite'));
      migrate(v3, () => 'x', 3);
      v3.exec(`INSERT INTO keys (key_id, operation_id, suite, threshold, parties, status, created_at, requested_by)
                 VALUES ('key_old', 'op_old', 'ed25519', 2, '["alice","bob"]', 'active', 'x', 't'),
                        ('key_new', 'op_new', 'ed25519', 2, '["alice","bob"]', 'pending', 'y', 't');
               INSERT INTO operations (operation_id, key_id, type, status, created_at)
                 VALUES ('op_old', 'key_old', 'dkg', 'completed', 'x'), ('op_new', 'key_new', 'dkg', 'pending', 'y');
               INSERT INTO work_leases (kind, id, owner, epoch, expires_at) VALUES ('key', 'key_new', 'c-1', 3, 0);`);
      v3.close();
      const store = openSqliteStore({ path: join(dir, 'db.sqlite') });
      expect(await store.getKey('key_old')).toMatchObject({ status: 'active', generation: 0, lineage: [] });
      expect(await store.getOperation('op_old')).toMatchObject({
        type: 'dkg',
        status: 'completed',
        params: {},
        progress: null,
        requestedBy: null,
      });
      // The lease keeps its epoch: its next claim is a takeover, as before the migration.
      expect(await store.claimWork({ owner: 'a', ttlMs: 1_000, limit: 10 })).toMatchObject([{ kind: 'key', id: 'key_new', epoch: 4 }]);
      // The rebuilt operations table keeps numbering after the rows it copied; it takes drills.
      await store.createOperation({
        operationId: 'op_drill',
        keyId: 'key_old',
        type: 'drill',
        params: {},
        createdAt: 'z',
        requestedBy: 't',
      });
      await store.close();
      const db = new Database(join(dir, 'db.sqlite'), { readonly: true });
      try {
        expect(db.prepare('SELECT operation_id, seq FROM operations ORDER BY seq').all()).toEqual([
          { operation_id: 'op_old', seq: 1 },
          { operation_id: 'op_new', seq: 2 },
          { operation_id: 'op_drill', seq: 3 },
        ]);
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
