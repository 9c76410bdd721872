/**
 * Coordinator configuration: `<dataDir>/coordinator.json`, validated with zod, then overridden by
 * the environment (GLACIS_HOST, GLACIS_PORT, GLACIS_ADMIN_TOKEN, GLACIS_LOG_LEVEL, GLACIS_PORT_FILE,
 * GLACIS_SIGNING_TIMEOUT_MS, GLACIS_DKG_TIMEOUT_MS, GLACIS_RATE_LIMIT_MAX, GLACIS_RATE_LIMIT_WINDOW_MS,
 * GLACIS_MAX_SIGNING_IN_FLIGHT, GLACIS_MAX_SIGNING_IN_FLIGHT_PER_KEY, GLACIS_TLS_CERT_FILE, GLACIS_TLS_KEY_FILE,
 * GLACIS_DATABASE_URL, GLACIS_LEASE_TTL_MS, GLACIS_LIFECYCLE_TIMEOUT_MS, GLACIS_DRILL_TIMEOUT_MS, GLACIS_AUTO_REPAIR,
 * GLACIS_APPROVAL_TIMEOUT_MS, GLACIS_OFFLINE_DEADLINE_MS, GLACIS_BITCOIN_NETWORK, GLACIS_AGGREGATION_WORKERS).
 * The file holds public material only (party identity keys, token hashes); the admin token comes
 * from the environment and is hashed before it reaches the store.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { BITCOIN_NETWORKS, fromHex, hexSchema, MAX_PARTIES, partyIdSchema } from '@glacis/protocol';
import { z } from 'zod';
import { DEMO_ADMIN_TOKEN_SHA256, isDemoMode } from './demo-secrets.js';
import type { ConfiguredToken } from './tokens.js';
import { hashToken, ROLES, TOKEN_NAME_PATTERN } from './tokens.js';

/** The config file's name inside the data directory. */
export const CONFIG_FILE = 'coordinator.json';

const partySchema = z.strictObject({
  partyId: partyIdSchema,
  identityKey: hexSchema.length(64),
  /** `offline`: an air-gapped party reached by bundles through its outbox and inbox (docs/offline.md). */
  mode: z.enum(['online', 'offline']).default('online'),
});
const tokenSchema = z.strictObject({
  name: z.string().regex(TOKEN_NAME_PATTERN),
  role: z.enum(ROLES as ['admin', 'requester', 'approver', 'auditor']),
  sha256: hexSchema.length(64),
});
const ms = (dflt: number, min: number, max: number) => z.int().min(min).max(max).default(dflt);

/** The JSON config file. Every field has a default, so `{}` is a valid (party-less) file. */
export const configFileSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.int().min(0).max(65535).default(8700),
  parties: z
    .array(partySchema)
    .max(MAX_PARTIES)
    .default([])
    .refine((ps) => new Set(ps.map((p) => p.partyId)).size === ps.length, 'parties: duplicate partyId'),
  /** The coordinator's Ed25519 identity seed (32 bytes, hex), relative to the data directory. */
  identitySeedFile: z.string().min(1).default('identity.seed'),
  /** SQLite database file, relative to the data directory. */
  databaseFile: z.string().min(1).default('coordinator.sqlite'),
  bodyLimitBytes: z
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(64 * 1024),
  // Must exceed the longest ?wait= (30 s), or a waiting request is cut off before it can answer.
  requestTimeoutMs: ms(45_000, 31_000, 600_000),
  keepAliveTimeoutMs: ms(5_000, 1_000, 600_000),
  dkgTimeoutMs: ms(120_000, 1_000, 3_600_000),
  /** How long a signing request may take before it fails with `insufficient_parties`. */
  signingTimeoutMs: ms(120_000, 1_000, 86_400_000),
  /**
   * How long a signing request that needs an offline party's share may wait for the trip to the
   * vault and back (default 24 h, at most 31 days) before it fails with `insufficient_parties`.
   */
  offlineDeadlineMs: ms(86_400_000, 1_000, 31 * 86_400_000),
  /**
   * With several instances on PostgreSQL: how long an instance's claim on a request or DKG lasts
   * without a heartbeat (renewed every third of it). Work of an instance that died is taken over
   * after at most this long (docs/operations.md, "Several coordinators").
   */
  leaseTtlMs: ms(10_000, 500, 600_000),
  /** How long a refresh, repair or reshare may take until every new holder confirmed (then it only completes). */
  lifecycleTimeoutMs: ms(120_000, 1_000, 3_600_000),
  /** How long a drill waits for every holder's proof. */
  drillTimeoutMs: ms(30_000, 1_000, 3_600_000),
  /**
   * Self-recovery: when a committee member comes back without its share of an active key (or with
   * one of another generation), the coordinator repairs it itself — for every key (`true`), or for
   * the keys listed in `autoRepairKeys` only. Default: wait for an admin's POST …/repair.
   */
  autoRepair: z.boolean().default(false),
  autoRepairKeys: z.array(z.string().max(128)).max(100_000).default([]),
  /** How long a request may await approval before it fails with `approval_timeout` (default 24 h, at most 31 days). */
  approvalTimeoutMs: ms(86_400_000, 60_000, 31 * 86_400_000),
  /**
   * The chain the coordinator renders Bitcoin addresses for when it evaluates the distributed
   * policy for a request (to decide whether it awaits approval). Parties read PSBTs with their own setting.
   */
  bitcoinNetwork: z.enum(BITCOIN_NETWORKS).default('bitcoin'),
  /** Readiness needs at least this many connected parties (0: the store alone decides). */
  minConnectedParties: z.int().min(0).max(MAX_PARTIES).default(0),
  tokens: z.array(tokenSchema).default([]),
  /** Requests per token (per client address on routes without one) in each window; then 429. */
  rateLimit: z
    .strictObject({ max: z.int().min(1).max(1_000_000).default(3000), windowMs: ms(10_000, 1_000, 3_600_000) })
    .default({ max: 3000, windowMs: 10_000 }),
  /** Signing requests accepted but not settled, over all keys and per key; then 429 capacity_exceeded. */
  maxSigningInFlight: z.int().min(1).max(1_000_000).default(4096),
  maxSigningInFlightPerKey: z.int().min(1).max(1_000_000).default(1024),
  /** Party WebSocket connections still authenticating; more are refused (503) at the upgrade. */
  maxUnauthenticatedSockets: z.int().min(1).max(100_000).default(256),
  /** Bytes a party connection may send before it has authenticated (the auth frame is ~300). */
  maxPreAuthBytes: z
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(16 * 1024),
  /**
   * Worker threads that verify signature shares and aggregate; 0 does it on the event loop.
   * Default: one less than the machine's cores (so none on one core).
   */
  aggregationWorkers: z.int().min(0).max(64).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Serve REST and /v1/ws over TLS with this certificate chain and key (PEM files, relative to the data directory). */
  tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
});

/** The config file as written (defaults not applied). */
export type ConfigFile = z.input<typeof configFileSchema>;

/** Validated configuration with paths resolved and environment applied. */
export interface CoordinatorConfig extends Omit<z.output<typeof configFileSchema>, 'tokens' | 'tls'> {
  dataDir: string;
  /** Absolute paths. */
  databasePath: string;
  identitySeedPath: string;
  /** Where to write the bound port once listening (GLACIS_PORT_FILE), or null. */
  portFile: string | null;
  /**
   * GLACIS_DATABASE_URL: a PostgreSQL database (`postgres://…`) shared by every instance, or null
   * for the SQLite file. A secret (it may hold a password): never logged, never in an error.
   */
  databaseUrl: string | null;
  tokens: ConfiguredToken[];
  /** Absolute paths of the TLS certificate chain and key, or null for plain HTTP. */
  tls: { certPath: string; keyPath: string } | null;
}

/** Builds the configuration from parsed file contents and the environment. Throws with every issue listed. */
export function parseConfig(raw: unknown, dataDir: string, env: Record<string, string | undefined> = {}): CoordinatorConfig {
  const merged = { ...(raw as Record<string, unknown>) };
  // A number from the environment stays a string if it is not one, so the schema reports it.
  const num = (v: string) => (/^\d+$/.test(v) ? Number(v) : v);
  if (env.GLACIS_HOST) merged.host = env.GLACIS_HOST;
  if (env.GLACIS_PORT) merged.port = num(env.GLACIS_PORT);
  if (env.GLACIS_LOG_LEVEL) merged.logLevel = env.GLACIS_LOG_LEVEL;
  if (env.GLACIS_SIGNING_TIMEOUT_MS) merged.signingTimeoutMs = num(env.GLACIS_SIGNING_TIMEOUT_MS);
  if (env.GLACIS_DKG_TIMEOUT_MS) merged.dkgTimeoutMs = num(env.GLACIS_DKG_TIMEOUT_MS);
  if (env.GLACIS_LIFECYCLE_TIMEOUT_MS) merged.lifecycleTimeoutMs = num(env.GLACIS_LIFECYCLE_TIMEOUT_MS);
  if (env.GLACIS_DRILL_TIMEOUT_MS) merged.drillTimeoutMs = num(env.GLACIS_DRILL_TIMEOUT_MS);
  if (env.GLACIS_AUTO_REPAIR) merged.autoRepair = env.GLACIS_AUTO_REPAIR === '1' || env.GLACIS_AUTO_REPAIR === 'true';
  if (env.GLACIS_APPROVAL_TIMEOUT_MS) merged.approvalTimeoutMs = num(env.GLACIS_APPROVAL_TIMEOUT_MS);
  if (env.GLACIS_OFFLINE_DEADLINE_MS) merged.offlineDeadlineMs = num(env.GLACIS_OFFLINE_DEADLINE_MS);
  if (env.GLACIS_BITCOIN_NETWORK) merged.bitcoinNetwork = env.GLACIS_BITCOIN_NETWORK;
  if (env.GLACIS_TLS_CERT_FILE || env.GLACIS_TLS_KEY_FILE) {
    // Both or neither: a certificate without its key (or the reverse) is a mistake, not plain HTTP.
    merged.tls = { certFile: env.GLACIS_TLS_CERT_FILE ?? '', keyFile: env.GLACIS_TLS_KEY_FILE ?? '' };
  }
  if (env.GLACIS_AGGREGATION_WORKERS) merged.aggregationWorkers = num(env.GLACIS_AGGREGATION_WORKERS);
  if (env.GLACIS_MAX_SIGNING_IN_FLIGHT) merged.maxSigningInFlight = num(env.GLACIS_MAX_SIGNING_IN_FLIGHT);
  if (env.GLACIS_MAX_SIGNING_IN_FLIGHT_PER_KEY) merged.maxSigningInFlightPerKey = num(env.GLACIS_MAX_SIGNING_IN_FLIGHT_PER_KEY);
  if (env.GLACIS_RATE_LIMIT_MAX || env.GLACIS_RATE_LIMIT_WINDOW_MS) {
    const given = (merged.rateLimit ?? {}) as Record<string, unknown>;
    merged.rateLimit = {
      ...given,
      ...(env.GLACIS_RATE_LIMIT_MAX ? { max: num(env.GLACIS_RATE_LIMIT_MAX) } : {}),
      ...(env.GLACIS_RATE_LIMIT_WINDOW_MS ? { windowMs: num(env.GLACIS_RATE_LIMIT_WINDOW_MS) } : {}),
    };
  }
  if (env.GLACIS_LEASE_TTL_MS) merged.leaseTtlMs = num(env.GLACIS_LEASE_TTL_MS);
  const databaseUrl = env.GLACIS_DATABASE_URL ? env.GLACIS_DATABASE_URL : null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\/[^\s]+$/.test(databaseUrl)) {
    // The value may hold a password: say what is wrong with it, never what it is.
    throw new Error('invalid coordinator configuration: GLACIS_DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const r = configFileSchema.safeParse(merged);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid coordinator configuration: ${issues}`);
  }
  const { tokens: fileTokens, tls, ...rest } = r.data;
  const tokens: ConfiguredToken[] = [...fileTokens];
  const admin = env.GLACIS_ADMIN_TOKEN;
  if (admin !== undefined && admin !== '') {
    if (admin.length < 16) throw new Error('invalid coordinator configuration: GLACIS_ADMIN_TOKEN must be at least 16 characters');
    tokens.push({ name: 'env-admin', role: 'admin', token: admin });
  }
  if (!isDemoMode(env)) {
    for (const t of tokens) {
      if (('token' in t ? hashToken(t.token) : t.sha256) === DEMO_ADMIN_TOKEN_SHA256)
        throw new Error(
          `invalid coordinator configuration: token "${t.name}" is the public demo admin token from deploy/secrets/; use your own secrets (GLACIS_SECRETS_DIR, docs/operations.md), or set GLACIS_DEMO=1 for the local demo only`,
        );
    }
  }
  const resolve = (p: string) => (isAbsolute(p) ? p : join(dataDir, p));
  return {
    ...rest,
    dataDir,
    databasePath: resolve(rest.databaseFile),
    identitySeedPath: resolve(rest.identitySeedFile),
    portFile: env.GLACIS_PORT_FILE ? env.GLACIS_PORT_FILE : null,
    databaseUrl,
    tokens,
    tls: tls ? { certPath: resolve(tls.certFile), keyPath: resolve(tls.keyFile) } : null,
  };
}

/** Reads `<dataDir>/coordinator.json` (absent: all defaults) and applies the environment. */
export function loadConfig(dataDir: string, env: Record<string, string | undefined> = process.env): CoordinatorConfig {
  const path = join(dataDir, CONFIG_FILE);
  let raw: unknown = {};
  if (existsSync(path)) {
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new Error(`invalid coordinator configuration: ${path} is not JSON (${(e as Error).message})`);
    }
  }
  return parseConfig(raw, dataDir, env);
}

/** Writes `<dataDir>/coordinator.json` atomically (temp file, fsync, rename, fsync directory). */
export function writeConfigFile(dataDir: string, file: ConfigFile): void {
  configFileSchema.parse(file);
  const path = join(dataDir, CONFIG_FILE);
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(file, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  // The rename is durable only once the directory entry is on disk too.
  const dir = openSync(dataDir, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** The parties configured `mode: "offline"`. */
export function offlinePartyIds(config: Pick<CoordinatorConfig, 'parties'>): string[] {
  return config.parties.filter((p) => p.mode === 'offline').map((p) => p.partyId);
}

/** The configured parties as the orchestrator takes them: party id → pinned identity key. */
export function partyKeys(config: Pick<CoordinatorConfig, 'parties'>): Map<string, Uint8Array> {
  return new Map(config.parties.map((p) => [p.partyId, fromHex(p.identityKey, `parties.${p.partyId}.identityKey`)]));
}
