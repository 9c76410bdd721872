/**
 * The PostgreSQL store's connections: a pool for queries and transactions, the mapping of server
 * and network failures to `store_unavailable`, schema migrations, and one listening connection
 * for settle notifications that reconnects by itself.
 */

import pg from 'pg';
import { CoordinatorError } from '../errors.js';
import { CREATE_MIGRATIONS_TABLE, migrationSql, pendingMigrations, SCHEMA_VERSION } from './migrations.js';
import { LOCKS, SQL } from './pg-sql.js';

/** How the store talks to the server. */
export interface PgConnectionOptions {
  /** `postgres://user:password@host:port/database`; a secret (it may hold a password): never logged. */
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /**
   * A statement, a connection attempt or a lock wait that takes longer fails (default 10 s), so an
   * instance cut off from the server finds out instead of hanging; the server ends a transaction
   * left idle as long, so a cut-off instance cannot hold a lock (the audit chain's) for good.
   */
  timeoutMs?: number;
}

const INT8_OID = 20;
// Serialisation failures and deadlocks are the server asking for the transaction to be run again.
const RETRY = new Set(['40001', '40P01']);
// Classes 08 (connection), 53 (resources), 57 (operator intervention: shutdown), 58 (system I/O).
const UNAVAILABLE_CLASS = /^(08|53|57|58)/;
const NETWORK = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/;

/** True for a failure that says "the database is not available", not "this statement was wrong". */
export function isUnavailable(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_CLASS.test(code) || NETWORK.test(code))) return true;
  const message = e instanceof Error ? e.message : '';
  return /timeout|Connection terminated|not queryable|Client has encountered a connection error|Cannot use a pool after calling end/i.test(
    message,
  );
}

/** The pool, with a typed transaction helper. */
export interface PgConnection {
  readonly pool: pg.Pool;
  /** Runs `fn` in one transaction (READ COMMITTED), retried on serialisation failures and deadlocks. */
  tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T>;
  /** One statement outside a transaction. */
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  end(): Promise<void>;
  readonly closed: boolean;
}

/** Turns a driver failure into the store's error: `store_unavailable`, or the original error. */
export function mapError(e: unknown): unknown {
  if (e instanceof CoordinatorError) return e;
  if (isUnavailable(e)) return new CoordinatorError('store_unavailable', 'the store is unavailable', { cause: e });
  return e;
}

/** Client settings shared by the pool and the listening connection. */
export function clientConfig(o: PgConnectionOptions): pg.ClientConfig {
  const timeoutMs = o.timeoutMs ?? 10_000;
  return {
    connectionString: o.url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    keepAlive: true,
    options: `-c statement_timeout=${timeoutMs} -c lock_timeout=${timeoutMs} -c idle_in_transaction_session_timeout=${timeoutMs}`,
    types: {
      // seq, epoch and lease times are BIGINT; every one of them is below 2^53.
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  };
}

/** A pool on `o.url`. */
export function createPgConnection(o: PgConnectionOptions): PgConnection {
  const pool = new pg.Pool({ ...clientConfig(o), max: o.poolSize ?? 10 });
  // An idle connection the server or the network drops is removed by the pool; without this
  // listener its 'error' event would end the process.
  pool.on('error', () => undefined);
  let closed = false;

  async function tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (closed) throw new CoordinatorError('store_unavailable', 'the store is closed');
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw mapError(e);
      }
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        // A connection that timed out or dropped may still owe the answer to a statement: never reuse it.
        if (isUnavailable(e)) broken = e instanceof Error ? e : new Error(String(e));
        else
          await client.query('ROLLBACK').catch((r: unknown) => {
            broken = r instanceof Error ? r : new Error(String(r));
          });
        const code = (e as { code?: unknown }).code;
        if (typeof code === 'string' && RETRY.has(code) && attempt < 4) continue;
        throw mapError(e);
      } finally {
        client.release(broken);
      }
    }
  }

  return {
    pool,
    tx,
    async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      if (closed) throw new CoordinatorError('store_unavailable', 'the store is closed');
      try {
        return (await pool.query<R>(text, values)).rows;
      } catch (e) {
        throw mapError(e);
      }
    },
    async end() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
    get closed() {
      return closed;
    },
  };
}

/**
 * Brings the database to SCHEMA_VERSION (or to `target`, for tests that build an older database) in
 * one transaction, under an advisory lock so that instances starting together migrate once; throws
 * if a newer coordinator wrote it.
 */
export async function migratePg(conn: PgConnection, now: () => string, target: number = SCHEMA_VERSION): Promise<void> {
  await conn.tx(async (c) => {
    await c.query(SQL.lock, [LOCKS.migrate]);
    await c.query(CREATE_MIGRATIONS_TABLE);
    const { rows } = await c.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
    for (const m of pendingMigrations(rows[0]?.v ?? 0, target)) {
      await c.query(migrationSql(m, 'postgres'));
      await c.query('INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.description,
        now(),
      ]);
    }
  });
}

/** A LISTEN connection that comes back after the server or the network drops it. */
export interface PgListener {
  close(): Promise<void>;
  /** Whether it listens right now (when not, waits rely on polling alone). */
  readonly listening: boolean;
}

/** Listens on `channel`, reconnecting with capped backoff; `onPayload` gets each notification's payload. */
export function listenPg(o: PgConnectionOptions, channel: string, onPayload: (payload: string) => void): PgListener {
  let client: pg.Client | undefined;
  let listening = false;
  let stopped = false;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;

  const schedule = () => {
    if (stopped) return;
    const delay = Math.min(5_000, 100 * 2 ** Math.min(failures++, 6));
    retry = setTimeout(connect, delay);
    retry.unref();
  };
  function connect(): void {
    if (stopped) return;
    const c = new pg.Client(clientConfig(o));
    client = c;
    let dropped = false;
    const drop = () => {
      if (dropped) return;
      dropped = true;
      listening = false;
      c.removeAllListeners('notification');
      c.end().catch(() => undefined);
      schedule();
    };
    c.on('error', drop);
    c.on('end', drop);
    c.on('notification', (n) => {
      if (n.channel === channel && n.payload !== undefined) onPayload(n.payload);
    });
    c.connect()
      .then(() => c.query(`LISTEN ${channel}`))
      .then(() => {
        if (stopped) return void c.end().catch(() => undefined);
        listening = true;
        failures = 0;
      })
      .catch(drop);
  }
  connect();
  return {
    get listening() {
      return listening;
    },
    async close() {
      stopped = true;
      if (retry) clearTimeout(retry);
      listening = false;
      await client?.end().catch(() => undefined);
    },
  };
}
