/**
 * The coordinator's schema, as one ordered list of migrations for every store. A migration is
 * written once; where SQLite and PostgreSQL must differ (an auto-numbered key, the append-only
 * triggers) it asks the dialect for that piece. Each runs once, in its own transaction, and is
 * recorded in `schema_migrations`; a database newer than this code is refused rather than guessed at.
 *
 * Columns keep the same names and kinds in both (JSON and times as TEXT, numbers as integers), so
 * one row mapper (sqlite-rows.ts) reads both stores.
 */
import type { Database } from 'better-sqlite3';

/** The SQL dialects the coordinator runs on. */
export type Dialect = 'sqlite' | 'postgres';

/** The pieces of DDL that differ between dialects. */
interface DialectSql {
  /** An auto-numbered primary key column named `seq`, in insertion order. */
  serialKey: string;
  /** A 64-bit integer primary key column named `seq`, numbered by the writer. */
  seqKey: string;
  /** Statements that make `table` refuse UPDATE and DELETE with 'audit log is append-only'. */
  appendOnly(table: string): string;
  /** Statements that replace the CHECK constraint of one column (see CheckChange). */
  replaceCheck(change: CheckChange): string;
}

/**
 * A column's CHECK constraint replaced, rows kept. PostgreSQL alters the constraint in place (a
 * column constraint is named `<table>_<column>_check`). SQLite cannot: it rebuilds the table from
 * `columns` (the whole column list, in the table's current order, with the new CHECK), copies the
 * rows over and re-creates `indexes` (dropped with the old table).
 */
export interface CheckChange {
  table: string;
  column: string;
  check: string;
  columns: string;
  indexes?: string;
}

const DIALECTS: Readonly<Record<Dialect, DialectSql>> = {
  sqlite: {
    serialKey: 'seq INTEGER PRIMARY KEY AUTOINCREMENT',
    seqKey: 'seq INTEGER PRIMARY KEY',
    appendOnly: (t) => `
      CREATE TRIGGER ${t}_no_update BEFORE UPDATE ON ${t} BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE TRIGGER ${t}_no_delete BEFORE DELETE ON ${t} BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;`,
    replaceCheck: (c) => `
      CREATE TABLE ${c.table}_rebuilt (${c.columns});
      INSERT INTO ${c.table}_rebuilt SELECT * FROM ${c.table};
      DROP TABLE ${c.table};
      ALTER TABLE ${c.table}_rebuilt RENAME TO ${c.table};
      ${c.indexes ?? ''}`,
  },
  postgres: {
    serialKey: 'seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    seqKey: 'seq BIGINT PRIMARY KEY',
    appendOnly: (t) => `
      CREATE FUNCTION ${t}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$;
      CREATE TRIGGER ${t}_no_update BEFORE UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${t}_append_only();
      CREATE TRIGGER ${t}_no_delete BEFORE DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${t}_append_only();
      CREATE TRIGGER ${t}_no_truncate BEFORE TRUNCATE ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION ${t}_append_only();`,
    replaceCheck: (c) => `
      ALTER TABLE ${c.table} DROP CONSTRAINT ${c.table}_${c.column}_check;
      ALTER TABLE ${c.table} ADD CONSTRAINT ${c.table}_${c.column}_check CHECK (${c.check});`,
  },
};

/** One schema change. */
export interface Migration {
  version: number;
  description: string;
  /** The statements, for one dialect. */
  sql(d: DialectSql): string;
}

const OPERATION_TYPES = "type IN ('dkg', 'refresh', 'repair', 'reshare', 'drill')";
const WORK_KINDS = "kind IN ('signature', 'key', 'operation')";

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'keys, signatures, operations, tokens, idempotency, audit',
    sql: (d) => `
      CREATE TABLE keys (
        ${d.serialKey},
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
        ${d.serialKey},
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
        ${d.serialKey},
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
        ${d.seqKey},
        at TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      -- Append-only by construction; the hash chain catches whoever drops these triggers.
      ${d.appendOnly('audit')}
    `,
  },
  {
    version: 2,
    description: 'tokens.source: who installed a token, so the configuration can revoke its own',
    // Rows of version 1 were made by `token create` unless their name is the environment's admin
    // token; a token from coordinator.json is adopted as such at the next start that still lists it.
    sql: () => `
      ALTER TABLE tokens ADD COLUMN source TEXT NOT NULL DEFAULT 'cli' CHECK (source IN ('cli', 'config', 'env'));
      UPDATE tokens SET source = 'env' WHERE name = 'env-admin';
    `,
  },
  {
    version: 3,
    description: 'work leases: which coordinator instance runs each unsettled request or DKG, with a fencing epoch',
    // One row per piece of unsettled work, removed when it settles. `expires_at` is ms since the
    // epoch on the store's clock (the database server's for PostgreSQL); 0 means free to claim.
    // Work accepted before this migration is made claimable at epoch 1 (an earlier life held
    // it), so its next claim resumes a signing request and fails an unfinished DKG, as a restart does.
    sql: () => `
      CREATE TABLE work_leases (
        kind TEXT NOT NULL CHECK (kind IN ('signature', 'key')),
        id TEXT NOT NULL,
        owner TEXT,
        epoch BIGINT NOT NULL DEFAULT 0,
        expires_at BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (kind, id)
      );
      CREATE INDEX work_leases_by_expiry ON work_leases (expires_at);
      INSERT INTO work_leases (kind, id, epoch) SELECT 'signature', signature_id, 1 FROM signatures WHERE status IN ('pending', 'signing');
      INSERT INTO work_leases (kind, id, epoch) SELECT 'key', key_id, 1 FROM keys WHERE status = 'pending';
    `,
  },
  {
    version: 4,
    description: 'key lifecycle: key generation and lineage; drill operations, their parameters and progress; leases on operations',
    // Lifecycle operations (refresh, repair, reshare, drill) are unsettled work like DKGs and
    // signing requests: each has a `work_leases` row of kind 'operation' while it is pending. None
    // was ever accepted before this migration (the routes answered 501), so none needs a lease now.
    sql: (d) => `
      ALTER TABLE keys ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE keys ADD COLUMN lineage TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE operations ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE operations ADD COLUMN progress TEXT;
      ALTER TABLE operations ADD COLUMN requested_by TEXT;
      ${d.replaceCheck({
        table: 'operations',
        column: 'type',
        check: OPERATION_TYPES,
        columns: `${d.serialKey},
          operation_id TEXT NOT NULL UNIQUE,
          key_id TEXT NOT NULL,
          type TEXT NOT NULL CHECK (${OPERATION_TYPES}),
          status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
          error TEXT,
          created_at TEXT NOT NULL,
          completed_at TEXT,
          params TEXT NOT NULL DEFAULT '{}',
          progress TEXT,
          requested_by TEXT`,
      })}
      CREATE INDEX operations_pending ON operations (key_id) WHERE status = 'pending';
      ${d.replaceCheck({
        table: 'work_leases',
        column: 'kind',
        check: WORK_KINDS,
        columns: `kind TEXT NOT NULL CHECK (${WORK_KINDS}),
          id TEXT NOT NULL,
          owner TEXT,
          epoch BIGINT NOT NULL DEFAULT 0,
          expires_at BIGINT NOT NULL DEFAULT 0,
          PRIMARY KEY (kind, id)`,
        indexes: 'CREATE INDEX work_leases_by_expiry ON work_leases (expires_at);',
      })}
    `,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The SQL of `m` for `dialect`. */
export function migrationSql(m: Migration, dialect: Dialect): string {
  return m.sql(DIALECTS[dialect]);
}

/**
 * The migrations a database at `current` still needs to reach `target` (SCHEMA_VERSION; tests build
 * older databases); throws if it was written by a newer coordinator.
 */
export function pendingMigrations(current: number, target: number = SCHEMA_VERSION): readonly Migration[] {
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema version ${current} is newer than this coordinator (${SCHEMA_VERSION}); refusing to open it`);
  }
  return MIGRATIONS.filter((m) => m.version > current && m.version <= target);
}

/** Creates the migrations ledger; the same statement in both dialects. */
export const CREATE_MIGRATIONS_TABLE =
  'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)';

/**
 * Brings a SQLite database to SCHEMA_VERSION (or to `target`, for tests that build an older
 * database); throws if the file was written by a newer coordinator.
 */
export function migrate(db: Database, now: () => string, target: number = SCHEMA_VERSION): void {
  db.exec(CREATE_MIGRATIONS_TABLE);
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  const record = db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)');
  for (const m of pendingMigrations(row.v ?? 0, target)) {
    db.transaction(() => {
      db.exec(migrationSql(m, 'sqlite'));
      record.run(m.version, m.description, now());
    })();
  }
}
