/**
 * SQLite schema, as an ordered list of migrations. Each runs once, in its own transaction, and is
 * recorded in `schema_migrations`; a database newer than this code is refused rather than guessed at.
 */
import type { Database } from 'better-sqlite3';

interface Migration {
  version: number;
  description: string;
  sql: string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'keys, signatures, operations, tokens, idempotency, audit',
    sql: `
      CREATE TABLE keys (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key_id TEXT NOT NULL UNIQUE,
        operation_id TEXT NOT NULL,
        label TEXT,
        suite TEXT NOT NULL,
        threshold INTEGER NOT NULL,
        parties TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'failed')),
        public_key TEXT,
        verifying_shares TEXT,
        group_commitment TEXT,
        certificate TEXT,
        error TEXT,
        created_at TEXT NOT NULL,
        settled_at TEXT,
        requested_by TEXT NOT NULL
      );
      CREATE INDEX keys_pending ON keys (seq) WHERE status = 'pending';

      CREATE TABLE signatures (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        signature_id TEXT NOT NULL UNIQUE,
        key_id TEXT NOT NULL REFERENCES keys (key_id),
        message TEXT NOT NULL,
        context TEXT,
        approvals TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'signing', 'completed', 'failed', 'rejected')),
        signature TEXT,
        signers TEXT,
        excluded TEXT NOT NULL DEFAULT '[]',
        error TEXT,
        created_at TEXT NOT NULL,
        completed_at TEXT,
        deadline TEXT NOT NULL,
        requested_by TEXT NOT NULL
      );
      CREATE INDEX signatures_by_key ON signatures (key_id, seq);
      CREATE INDEX signatures_unsettled ON signatures (seq) WHERE status IN ('pending', 'signing');

      CREATE TABLE operations (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        operation_id TEXT NOT NULL UNIQUE,
        key_id TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('dkg', 'refresh', 'repair', 'reshare')),
        status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
        error TEXT,
        created_at TEXT NOT NULL,
        completed_at TEXT
      );

      CREATE TABLE tokens (
        name TEXT PRIMARY KEY,
        token_sha256 TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'requester', 'auditor')),
        created_at TEXT NOT NULL
      );

      CREATE TABLE idempotency (
        idem_key TEXT NOT NULL,
        route TEXT NOT NULL,
        token_name TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status_code INTEGER NOT NULL,
        response TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (idem_key, route, token_name)
      );

      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      -- Append-only by construction; the hash chain catches whoever drops these triggers.
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    `,
  },
  {
    version: 2,
    description: 'tokens.source: who installed a token, so the configuration can revoke its own',
    // Rows of version 1 were made by `token create` unless their name is the environment's admin
    // token; a token from coordinator.json is adopted as such at the next start that still lists it.
    sql: `
      ALTER TABLE tokens ADD COLUMN source TEXT NOT NULL DEFAULT 'cli' CHECK (source IN ('cli', 'config', 'env'));
      UPDATE tokens SET source = 'env' WHERE name = 'env-admin';
    `,
  },
  {
    version: 3,
    description: 'key lifecycle: key generation and lineage; drill operations, their parameters and progress',
    // SQLite cannot change a CHECK constraint in place: the operations table is rebuilt, rows kept.
    sql: `
      ALTER TABLE keys ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE keys ADD COLUMN lineage TEXT NOT NULL DEFAULT '[]';
      CREATE TABLE operations_v3 (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        operation_id TEXT NOT NULL UNIQUE,
        key_id TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('dkg', 'refresh', 'repair', 'reshare', 'drill')),
        status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
        error TEXT,
        created_at TEXT NOT NULL,
        completed_at TEXT,
        params TEXT NOT NULL DEFAULT '{}',
        progress TEXT,
        requested_by TEXT
      );
      INSERT INTO operations_v3 (seq, operation_id, key_id, type, status, error, created_at, completed_at)
        SELECT seq, operation_id, key_id, type, status, error, created_at, completed_at FROM operations;
      DROP TABLE operations;
      ALTER TABLE operations_v3 RENAME TO operations;
      CREATE INDEX operations_pending ON operations (key_id) WHERE status = 'pending';
    `,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings `db` to SCHEMA_VERSION (or to `target`, for tests that build an older database); throws if
 * the file was written by a newer coordinator.
 */
export function migrate(db: Database, now: () => string, target: number = SCHEMA_VERSION): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  const current = row.v ?? 0;
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema version ${current} is newer than this coordinator (${SCHEMA_VERSION}); refusing to open it`);
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)');
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.description, now());
    })();
  }
}
