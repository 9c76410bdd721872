/**
 * A whole Glacis cluster on 127.0.0.1 as real OS processes: one coordinator and N party nodes,
 * each with its own data directory under one root. Used by `npm start`, `npm run demo`, the
 * multi-process tests and the benchmarks, so all of them run the system the same way.
 *
 * First start initialises everything (identities, pinned keys both ways, an admin token, and a
 * desk's trust file of the party identities); later starts reuse the directory, so keys and
 * shares survive restarts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const COORDINATOR_CLI = join(ROOT, 'packages/coordinator/dist/cli.js');
export const PARTY_CLI = join(ROOT, 'packages/party-node/dist/cli.js');
/** The desk's CLI, `glacis` (packages/client). */
export const CLIENT_CLI = join(ROOT, 'packages/client/dist/cli.js');
/** The trust file a desk of this cluster uses with `glacis keys verify`, under the data directory. */
export const TRUST_FILE = 'trust.json';

function runCli(cli, args, env = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cli} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

const partyName = (i) => `party-${i}`;

/**
 * Each local party's keystore is sealed with its own key-encryption key, kept in
 * <dataDir>/secrets (mode 0600). A real deployment keeps that secret off the party's disk
 * (docs/operations.md); for a local cluster convenience wins.
 */
function partyKekFile(dataDir, name) {
  const dir = join(dataDir, 'secrets');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${name}.kek`);
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  return file;
}

/**
 * Creates the cluster's directories and identities if they do not exist yet.
 * @returns {{ adminToken: string, generatedToken: boolean, parties: string[] }}
 */
export function initCluster({ dataDir, parties, adminToken }) {
  const coordDir = join(dataDir, 'coordinator');
  const names = Array.from({ length: parties }, (_, i) => partyName(i + 1));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!existsSync(join(coordDir, 'coordinator.json'))) runCli(COORDINATOR_CLI, ['init', '--data-dir', coordDir]);
  const coordKey = JSON.parse(runCli(COORDINATOR_CLI, ['identity', '--data-dir', coordDir])).identityKey;
  const keys = {};
  for (const name of names) {
    const dir = join(dataDir, name);
    const env = { GLACIS_KEK_FILE: partyKekFile(dataDir, name) };
    const out = existsSync(join(dir, 'party.json'))
      ? runCli(PARTY_CLI, ['identity', '--data-dir', dir], env)
      : runCli(PARTY_CLI, ['init', '--data-dir', dir, '--party-id', name, '--coordinator-key', coordKey], env);
    keys[name] = JSON.parse(out).identityKey;
  }
  // What a desk pins for `glacis keys verify`: each party's identity as the party itself reports it
  // (`glacis-party identity`), not as the coordinator does.
  writeFileSync(join(dataDir, TRUST_FILE), `${JSON.stringify({ parties: keys }, null, 2)}\n`);
  for (const name of names) {
    runCli(COORDINATOR_CLI, ['add-party', '--data-dir', coordDir, '--party-id', name, '--identity-key', keys[name]]);
    const peers = names.filter((n) => n !== name).flatMap((n) => ['--peer', `${n}=${keys[n]}`]);
    runCli(PARTY_CLI, ['pin', '--data-dir', join(dataDir, name), ...peers]);
  }
  let token = adminToken;
  let generated = false;
  const tokenFile = join(dataDir, 'admin-token');
  if (!token && existsSync(tokenFile)) token = readFileSync(tokenFile, 'utf8').trim();
  if (!token) {
    token = `glc_${randomBytes(24).toString('base64url')}`;
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    generated = true;
  }
  return { adminToken: token, generatedToken: generated, parties: names, coordinatorKey: coordKey, trustFile: join(dataDir, TRUST_FILE) };
}

function startProcess(cli, args, logFile, env, nodeArgs = []) {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, cli, ...args], { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  return child;
}

/**
 * GET `url` as JSON: fetch for http, node:https with the cluster's private CA for https (fetch has
 * no per-request CA). Resolves { status, body }.
 */
export function getJson(url, caFile) {
  if (!url.startsWith('https:')) return fetch(url).then(async (r) => ({ status: r.status, body: await r.json() }));
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { ca: readFileSync(caFile) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });
}

/** Polls `fn` until it returns something truthy (resolved with it) or `timeoutMs` pass. */
export async function waitFor(fn, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/**
 * Starts (initialising if needed) a cluster and resolves once every party is connected.
 * `port: 0` picks a free port (tests).
 */
export async function startLocalCluster({
  dataDir,
  port = 8700,
  parties = 3,
  adminToken,
  env = {},
  partyEnv = {},
  timeoutMs = 30_000,
  // { certFile, keyFile, caFile, pin }: the coordinator serves TLS, parties dial wss:// pinned to `pin`.
  tls,
  // Tests only: ({ wsUrl, coordDir }) => Promise<url>, called once the coordinator listens; the
  // parties dial the URL it resolves (a relay in front of the coordinator) instead of wsUrl.
  relay,
  // Flags for node itself, every process (the bench's `--profile` opens each one's inspector).
  nodeArgs = [],
  // Extra `glacis-party pin` arguments for every party (policy administrators, Bitcoin network).
  partyPins = [],
}) {
  const init = initCluster({ dataDir, parties, adminToken });
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const coordDir = join(dataDir, 'coordinator');
  const portFile = join(coordDir, 'port');
  const children = new Map();
  const coordinatorEnv = {
    GLACIS_PORT: String(port),
    GLACIS_HOST: '127.0.0.1',
    GLACIS_ADMIN_TOKEN: init.adminToken,
    GLACIS_PORT_FILE: portFile,
    ...(tls ? { GLACIS_TLS_CERT_FILE: tls.certFile, GLACIS_TLS_KEY_FILE: tls.keyFile } : {}),
    ...env,
  };
  let boundPort;
  /** (Re)starts the coordinator; after the first start it keeps its port, so parties find it again. */
  const startCoordinator = (extraEnv = {}) => {
    if (existsSync(portFile)) writeFileSync(portFile, '');
    const portEnv = boundPort === undefined ? {} : { GLACIS_PORT: String(boundPort) };
    const child = startProcess(
      COORDINATOR_CLI,
      ['serve', '--data-dir', coordDir],
      join(logDir, 'coordinator.log'),
      { ...coordinatorEnv, ...portEnv, ...extraEnv },
      nodeArgs,
    );
    children.set('coordinator', child);
    return child;
  };
  startCoordinator();
  const actualPort = await waitFor(
    () => {
      const v = existsSync(portFile) ? readFileSync(portFile, 'utf8').trim() : '';
      return v ? Number(v) : undefined;
    },
    'the coordinator to listen',
    timeoutMs,
  );
  boundPort = actualPort;
  const baseUrl = `${tls ? 'https' : 'http'}://127.0.0.1:${actualPort}`;
  const wsUrl = `${tls ? 'wss' : 'ws'}://127.0.0.1:${actualPort}/v1/ws`;
  const tlsPins = tls ? ['--coordinator-tls-pin', tls.pin, '--coordinator-ca', tls.caFile] : [];
  const partyUrl = relay ? await relay({ wsUrl, coordDir }) : wsUrl;
  for (const name of init.parties) {
    runCli(PARTY_CLI, [
      'pin',
      '--data-dir',
      join(dataDir, name),
      '--coordinator',
      `${partyUrl}=${init.coordinatorKey}`,
      ...tlsPins,
      ...partyPins,
    ]);
  }
  /**
   * (Re)starts a party. `launch` runs another entry point than `glacis-party serve` (tests: a party
   * that misbehaves on purpose, test/support/faulty-party.mjs); `--data-dir` is appended to its args.
   */
  const startParty = (name, extraEnv = {}, launch = { cli: PARTY_CLI, args: ['serve'] }) => {
    const child = startProcess(
      launch.cli,
      [...launch.args, '--data-dir', join(dataDir, name)],
      join(logDir, `${name}.log`),
      { GLACIS_KEK_FILE: partyKekFile(dataDir, name), ...partyEnv, ...extraEnv },
      nodeArgs,
    );
    children.set(name, child);
    return child;
  };
  for (const name of init.parties) startParty(name);
  const health = async () => (await getJson(`${baseUrl}/v1/health`, tls?.caFile)).body;
  const cluster = {
    dataDir,
    coordinatorKey: init.coordinatorKey,
    /** The key-encryption key file of a party (what its operator keeps off the data directory). */
    kekFile: (name) => partyKekFile(dataDir, name),
    baseUrl,
    wsUrl,
    port: actualPort,
    adminToken: init.adminToken,
    generatedToken: init.generatedToken,
    parties: init.parties,
    trustFile: init.trustFile,
    logDir,
    children,
    startParty,
    startCoordinator,
    /** Resolves once the coordinator answers /v1/health (after a restart). */
    waitCoordinator: (ms = timeoutMs) =>
      waitFor(async () => (await getJson(`${baseUrl}/v1/health`, tls?.caFile)).status > 0, 'the coordinator', ms),
    /** Resolves when `n` parties (default all) are connected. */
    waitConnected: (n = init.parties.length, ms = timeoutMs) =>
      waitFor(async () => (await health()).parties?.connected >= n, `${n} connected parties`, ms),
    /** Sends `signal` to one process and waits for it to exit. */
    async kill(name, signal = 'SIGKILL') {
      const child = children.get(name);
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
    async stop() {
      await Promise.all([...children.keys()].map((n) => cluster.kill(n, 'SIGTERM')));
    },
  };
  await cluster.waitConnected();
  return cluster;
}
