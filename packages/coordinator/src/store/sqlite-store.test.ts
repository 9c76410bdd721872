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
