/**
 * A real PostgreSQL server for the tests that need one, named by GLACIS_TEST_DATABASE_URL (a role
 * that may create databases; `.ci/run` starts a throwaway cluster with Debian's `pg_virtualenv`).
 * Without it those tests skip with a one-line reason; REQUIRE_POSTGRES=1 turns that into a failure,
 * so a CI that is meant to have a server cannot pass by skipping. Each caller gets a database of
 * its own, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type PostgresStatus = { ok: true; url: string } | { ok: false; reason: string };

/** Whether a server is configured; prints the reason when the caller's tests will skip. */
export function postgresOrSkip(suite: string): PostgresStatus {
  const url = process.env.GLACIS_TEST_DATABASE_URL;
  if (url) return { ok: true, url };
  const reason = 'GLACIS_TEST_DATABASE_URL is not set (run under pg_virtualenv, as .ci/run does)';
  if (process.env.REQUIRE_POSTGRES === '1') throw new Error(`REQUIRE_POSTGRES=1 but ${reason}`);
  console.warn(`[${suite}] SKIPPED: ${reason}`);
  return { ok: false, reason };
}

/** A fresh, empty database on the server at `adminUrl`. */
export interface TestDatabase {
  url: string;
  /** Drops it, ending whatever connections are still open to it. */
  drop(): Promise<void>;
}

async function admin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `glacis_test_${randomBytes(6).toString('hex')}`;
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** Runs one statement on `url` as an operator with direct database access would. */
export function sqlOn(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  return admin(url, (c) => c.query(text, values));
}
