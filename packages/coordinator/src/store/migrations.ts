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
  /** For a change that one dialect makes in place and the other by rebuilding a table. */
  dialect: Dialect;
  /** An auto-numbered primary key column named `seq`, in insertion order. */
  serialKey: string;
  /** A 64-bit integer primary key column named `seq`, numbered by the writer. */
  seqKey: string;
  /** Statements that make `table` refuse UPDATE and DELETE with 'audit log is append-only'. */
  appendOnly(table: string): string;
}

const DIALECTS: Readonly<Record<Dialect, DialectSql>> = {
  sqlite: {
    dialect: 'sqlite',
    serialKey: 'seq INTEGER PRIMARY KEY AUTOINCREMENT',
    seqKey: 'seq INTEGER PRIMARY KEY',
    appendOnly: (t) => `
      CREATE TRIGGER ${t}_no_update BEFORE UPDATE ON ${t} BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE TRIGGER ${t}_no_delete BEFORE DELETE ON ${t} BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;`,
  },
  postgres: {
    dialect: 'postgres',
    serialKey: 'seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    seqKey: 'seq BIGINT PRIMARY KEY',
    appendOnly: (t) => `
      CREATE FUNCTION ${t}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$;
      CREATE TRIGGER ${t}_no_update BEFORE UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${t}_append_only();
      CREATE TRIGGER ${t}_no_delete BEFORE DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${t}_append_only();
      CREATE TRIGGER ${t}_no_truncate BEFORE TRUNCATE ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION ${t}_append_only();`,
  },
};

const SIGNATURE_STATUSES = "'pending', 'awaiting_approval', 'signing', 'completed', 'failed', 'rejected'";
const ROLES = "'admin', 'requester', 'approver', 'auditor'";

/**
 * Migration 4's table changes in SQLite: a CHECK constraint cannot change in place, so `signatures`
 * and `tokens` are rebuilt with their rows (and `signatures_by_key`, dropped with the table, made
 * again). The new columns go last, where PostgreSQL's ADD COLUMN puts them.
 */
const SQLITE_V4_TABLES = `
  CREATE TABLE signatures_v4 (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    signature_id TEXT NOT NULL UNIQUE,
    key_id TEXT NOT NULL REFERENCES keys (key_id),
    message TEXT,
    context TEXT,
    approvals TEXT NOT NULL,
    status TEXT NOT NULL CONSTRAINT signatures_status_check CHECK (status IN (${SIGNATURE_STATUSES})),
    signature TEXT,
    signers TEXT,
    excluded TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    created_at TEXT NOT NULL,
    completed_at TEXT,
    deadline TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    intent TEXT,
    signatures TEXT,
    finalized TEXT
  );
  INSERT INTO signatures_v4 (seq, signature_id, key_id, message, context, approvals, status, signature, signers, excluded,
                             error, created_at, completed_at, deadline, requested_by)
    SELECT seq, signature_id, key_id, message, context, approvals, status, signature, signers, excluded,
           error, created_at, completed_at, deadline, requested_by FROM signatures;
  DROP TABLE signatures;
  ALTER TABLE signatures_v4 RENAME TO signatures;
  CREATE INDEX signatures_by_key ON signatures (key_id, seq);

  CREATE TABLE tokens_v4 (
    name TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CONSTRAINT tokens_role_check CHECK (role IN (${ROLES})),
    created_at TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'cli' CHECK (source IN ('cli', 'config', 'env'))
  );
  INSERT INTO tokens_v4 (name, token_sha256, role, created_at, source) SELECT name, token_sha256, role, created_at, source FROM tokens;
  DROP TABLE tokens;
  ALTER TABLE tokens_v4 RENAME TO tokens;
`;

/**
 * Migration 4's table changes in PostgreSQL, in place. The constraints replaced are the ones
 * migration 1 declared inline, under the names PostgreSQL gave them (`<table>_<column>_check`).
 */
const POSTGRES_V4_TABLES = `
  ALTER TABLE signatures ALTER COLUMN message DROP NOT NULL,
    ADD COLUMN intent TEXT,
    ADD COLUMN signatures TEXT,
    ADD COLUMN finalized TEXT,
    DROP CONSTRAINT signatures_status_check,
    ADD CONSTRAINT signatures_status_check CHECK (status IN (${SIGNATURE_STATUSES}));
  DROP INDEX signatures_unsettled;
  ALTER TABLE tokens DROP CONSTRAINT tokens_role_check,
    ADD CONSTRAINT tokens_role_check CHECK (role IN (${ROLES}));
`;

const OPERATION_TYPES = "'dkg', 'refresh', 'repair', 'reshare', 'drill'";
const WORK_KINDS = "'signature', 'key', 'operation'";

/**
 * Migration 6's table changes in SQLite: `operations` (a type more, and the operation's parameters,
 * progress and requester) and `work_leases` (a kind more) are rebuilt with their rows; the indexes
 * dropped with them are made again. The new columns go last, where PostgreSQL's ADD COLUMN puts them.
 */
const SQLITE_V6_TABLES = `
  CREATE TABLE operations_v6 (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id TEXT NOT NULL UNIQUE,
    key_id TEXT NOT NULL,
    type TEXT NOT NULL CONSTRAINT operations_type_check CHECK (type IN (${OPERATION_TYPES})),
    status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
    error TEXT,
    created_at TEXT NOT NULL,
    completed_at TEXT,
    params TEXT NOT NULL DEFAULT '{}',
    progress TEXT,
    requested_by TEXT
  );
  INSERT INTO operations_v6 (seq, operation_id, key_id, type, status, error, created_at, completed_at)
    SELECT seq, operation_id, key_id, type, status, error, created_at, completed_at FROM operations;
  DROP TABLE operations;
  ALTER TABLE operations_v6 RENAME TO operations;

  CREATE TABLE work_leases_v6 (
    kind TEXT NOT NULL CONSTRAINT work_leases_kind_check CHECK (kind IN (${WORK_KINDS})),
    id TEXT NOT NULL,
    owner TEXT,
    epoch BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, id)
  );
  INSERT INTO work_leases_v6 (kind, id, owner, epoch, expires_at) SELECT kind, id, owner, epoch, expires_at FROM work_leases;
  DROP TABLE work_leases;
  ALTER TABLE work_leases_v6 RENAME TO work_leases;
  CREATE INDEX work_leases_by_expiry ON work_leases (expires_at);
`;

/** Migration 6's table changes in PostgreSQL, in place (constraint names as migration 4 explains). */
const POSTGRES_V6_TABLES = `
  ALTER TABLE operations ADD COLUMN params TEXT NOT NULL DEFAULT '{}',
    ADD COLUMN progress TEXT,
    ADD COLUMN requested_by TEXT,
    DROP CONSTRAINT operations_type_check,
    ADD CONSTRAINT operations_type_check CHECK (type IN (${OPERATION_TYPES}));
  ALTER TABLE work_leases DROP CONSTRAINT work_leases_kind_check,
    ADD CONSTRAINT work_leases_kind_check CHECK (kind IN (${WORK_KINDS}));
`;

/** One schema change. */
export interface Migration {
  version: number;
  description: string;
  /** The statements, for one dialect. */
  sql(d: DialectSql): string;
}

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
    description: 'typed intents, approvals workflow (awaiting_approval, approver role), distributed policies',
    // A request of version 3 signed raw bytes: its intent is the raw intent of its message, read
    // from `message` (intent stays NULL for those rows). Two CHECK constraints change (a status and
    // a role more): PostgreSQL alters them; SQLite cannot, so it rebuilds the two tables with their
    // rows. Either way the columns, constraints' meaning and index names end up the same. No request
    // awaits approval yet, so work_leases needs nothing.
    sql: (d) => `
      ${d.dialect === 'sqlite' ? SQLITE_V4_TABLES : POSTGRES_V4_TABLES}
      CREATE INDEX signatures_by_status ON signatures (status, seq);
      CREATE INDEX signatures_unsettled ON signatures (seq) WHERE status IN ('pending', 'awaiting_approval', 'signing');

      CREATE TABLE policies (
        version BIGINT PRIMARY KEY,
        digest TEXT NOT NULL,
        signed TEXT NOT NULL,
        distributed_at TEXT NOT NULL,
        distributed_by TEXT NOT NULL
      );
    `,
  },
  {
    version: 5,
    description: 'offline parties: preprocessed commitments (each drawn once) and bundle sequences',
    // A commitment is drawn once: used_by is set in the transaction that hands it out and never
    // cleared, so neither a second request nor a restarted coordinator can put its nonce in a second
    // package. One row per hiding point: the same commitment received again is the same row.
    sql: (d) => `
      CREATE TABLE offline_commitments (
        ${d.serialKey},
        party_id TEXT NOT NULL,
        key_id TEXT NOT NULL,
        hiding TEXT NOT NULL,
        binding TEXT NOT NULL,
        received_at TEXT NOT NULL,
        used_by TEXT,
        used_at TEXT,
        UNIQUE (party_id, key_id, hiding)
      );
      CREATE INDEX offline_commitments_unused ON offline_commitments (party_id, key_id, seq) WHERE used_by IS NULL;
      CREATE TABLE offline_bundles (
        party_id TEXT PRIMARY KEY,
        inbox_sequence BIGINT,
        outbox_sequence BIGINT
      );
    `,
  },
  {
    version: 6,
    description: 'key lifecycle: key generation and lineage; drill operations, their parameters and progress; leases on operations',
    // Lifecycle operations (refresh, repair, reshare, drill) are unsettled work like DKGs and
    // signing requests: each has a `work_leases` row of kind 'operation' while it is pending. None
    // was ever accepted before this migration (the routes answered 501), so none needs a lease now.
    // Two CHECK constraints change (an operation type and a work kind more): PostgreSQL alters them;
    // SQLite rebuilds the two tables with their rows.
    sql: (d) => `
      ALTER TABLE keys ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE keys ADD COLUMN lineage TEXT NOT NULL DEFAULT '[]';
      ${d.dialect === 'sqlite' ? SQLITE_V6_TABLES : POSTGRES_V6_TABLES}
      CREATE INDEX operations_pending ON operations (key_id) WHERE status = 'pending';
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
