/**
 * A coordinator app over a real SQLite store in a temp directory and a fake orchestrator, with
 * tokens for every role and a snapshot of every table to prove a rejected request changed nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { SuiteId } from '@glacis/protocol';
import Database from 'better-sqlite3';
import type { LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { type AppSettings, buildApp, type CoordinatorApp } from '../src/app.js';
import { createLogger } from '../src/logger.js';
import { createMetrics } from '../src/metrics.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { Role, Store } from '../src/store/types.js';
import { createFakeOrchestrator, type FakeBehaviour, type FakeOrchestrator, fakeKeyMaterial } from '../src/testing/fake-orchestrator.js';
import { issueToken } from '../src/tokens.js';

export const PARTIES = ['alice', 'bob', 'carol'];

export interface HarnessOptions {
  parties?: string[];
  connected?: string[];
  behaviour?: FakeBehaviour;
  config?: Partial<AppSettings>;
  /** Reuse a data directory (restart tests). */
  dir?: string;
}

export interface RequestOptions {
  token?: Role | 'none' | string;
  body?: unknown;
  /** Raw payload (bypasses JSON encoding). */
  payload?: string | Buffer;
  headers?: Record<string, string>;
}

export interface Harness {
  app: CoordinatorApp;
  store: Store;
  orchestrator: FakeOrchestrator;
  dir: string;
  dbPath: string;
  tokens: Record<Role, string>;
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, opts?: RequestOptions): Promise<LightMyRequestResponse>;
  /** Every row of every table, as text: equal snapshots mean nothing changed. */
  snapshot(): string;
  /** Creates a key through the API and activates it through the store (made-up material, `publicKey` given or random). */
  activeKey(parties?: string[], threshold?: number, o?: { suite?: SuiteId; publicKey?: string }): Promise<string>;
  /** Closes the app and store (keeps the directory unless `remove`). */
  close(remove?: boolean): Promise<void>;
}

export const DEFAULT_SETTINGS: AppSettings = {
  bodyLimitBytes: 64 * 1024,
  requestTimeoutMs: 45_000,
  keepAliveTimeoutMs: 5_000,
  signingTimeoutMs: 60_000,
  approvalTimeoutMs: 86_400_000,
  bitcoinNetwork: 'regtest',
  minConnectedParties: 0,
  rateLimit: { max: 3000, windowMs: 10_000 },
  maxSigningInFlight: 4096,
  maxSigningInFlightPerKey: 1024,
};

/** Builds a harness; tokens are created on first use of a directory. */
export async function createHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'glacis-coord-'));
  const dbPath = join(dir, 'coordinator.sqlite');
  const store = openSqliteStore({ path: dbPath });
  const parties = opts.parties ?? PARTIES;
  const orchestrator = createFakeOrchestrator({
    parties,
    store,
    ...(opts.connected ? { connected: opts.connected } : {}),
    ...(opts.behaviour ? { behaviour: opts.behaviour } : {}),
  });
  const tokens = {} as Record<Role, string>;
  for (const role of ['admin', 'requester', 'approver', 'auditor'] as const)
    tokens[role] = (await issueToken(store, `test-${role}`, role)).token;
  const app = buildApp({
    config: { ...DEFAULT_SETTINGS, ...opts.config },
    store,
    orchestrator,
    logger: pino({ level: process.env.GLACIS_TEST_LOG ?? 'silent' }),
    metrics: createMetrics(),
  });
  await app.ready();

  const h: Harness = {
    app,
    store,
    orchestrator,
    dir,
    dbPath,
    tokens,
    request(method, url, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      const t = o.token ?? 'admin';
      if (t !== 'none') headers.authorization = `Bearer ${t in tokens ? tokens[t as Role] : t}`;
      if (o.body !== undefined) headers['content-type'] ??= 'application/json';
      const payload = o.payload ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
      return app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
    },
    snapshot() {
      const db = new Database(dbPath, { readonly: true });
      try {
        const tables = ['keys', 'signatures', 'operations', 'tokens', 'idempotency', 'audit', 'policies'];
        return JSON.stringify(tables.map((t) => db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()));
      } finally {
        db.close();
      }
    },
    async activeKey(ps = parties, threshold = 2, o = {}) {
      const res = await h.request('POST', '/v1/keys', { body: { suite: o.suite ?? 'ed25519', threshold, parties: ps } });
      if (res.statusCode !== 202) throw new Error(`key creation failed: ${res.statusCode} ${res.body}`);
      const { keyId } = res.json() as { keyId: string };
      const material = fakeKeyMaterial(ps, threshold, keyId);
      await store.markKeyActive(keyId, o.publicKey ? { ...material, publicKey: o.publicKey } : material);
      return keyId;
    },
    async close(remove = true) {
      await app.close();
      await orchestrator.idle();
      await store.close();
      if (remove) rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Asserts a problem+json answer and returns its body. */
export function problem(res: LightMyRequestResponse): { type: string; title: string; status: number; code: string; detail: string } {
  if (!String(res.headers['content-type']).startsWith('application/problem+json')) {
    throw new Error(`expected application/problem+json, got ${res.headers['content-type']}: ${res.body}`);
  }
  return res.json();
}

/** A second app over the harness's store whose log lines (JSON text) are captured in `lines`. */
export function appWithLogCapture(h: Harness, level = 'info'): { app: CoordinatorApp; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const app = buildApp({
    config: DEFAULT_SETTINGS,
    store: h.store,
    orchestrator: h.orchestrator,
    logger: createLogger({ level, destination }),
    metrics: createMetrics(),
  });
  return { app, lines };
}
