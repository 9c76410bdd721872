/**
 * The container entrypoint: runs the coordinator or a party node, initialising its data directory
 * on first start, and keeps /tmp/glacis-status.json up to date for the healthcheck.
 *
 *   coordinator                         the coordinator (default of the `coordinator` image target)
 *   party                               a party node (default of the `party` image target)
 *   lb                                  the load balancer in front of several coordinator instances (docker/lb.mjs)
 *   glacis-coordinator ARGS... | glacis-party ARGS...   one CLI command, e.g. `token create`
 *
 * Environment (docs/operations.md, "Running with Docker"):
 *   GLACIS_DATA_DIR             data directory, a volume (default /data)
 *   coordinator: GLACIS_HOST, GLACIS_PORT and the other GLACIS_* of glacis-coordinator;
 *     GLACIS_ADMIN_TOKEN_FILE   file holding the admin token (a compose secret), read into GLACIS_ADMIN_TOKEN
 *     GLACIS_DATABASE_URL_FILE  file holding the PostgreSQL URL (it holds a password), read into GLACIS_DATABASE_URL
 *   party: GLACIS_PARTY_ID (first start), GLACIS_COORDINATOR_URL, GLACIS_COORDINATOR_KEY (pinned at
 *     first start), GLACIS_KEK_FILE or GLACIS_PASSPHRASE_FILE (the keystore secret, a compose secret)
 *   lb: GLACIS_LB_LISTEN, GLACIS_LB_BACKENDS (see docker/lb.mjs)
 *   GLACIS_BOOTSTRAP_DIR, GLACIS_BOOTSTRAP_PARTIES   local demo only: see bootstrap() below
 *
 * Secrets are read from files and handed to the child process only; nothing secret is logged.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startLoadBalancer } from './lb.mjs';

const APP = '/app';
const CLI = {
  'glacis-coordinator': join(APP, 'packages/coordinator/dist/cli.js'),
  'glacis-party': join(APP, 'packages/party-node/dist/cli.js'),
};
const STATUS_FILE = '/tmp/glacis-status.json';
const DATA = process.env.GLACIS_DATA_DIR || '/data';
const NO_KEY = '00'.repeat(32);

const log = (msg, extra = {}) =>
  process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), name: 'glacis-entrypoint', msg, ...extra })}\n`);
const warn = (msg, extra = {}) =>
  process.stdout.write(`${JSON.stringify({ level: 40, time: Date.now(), name: 'glacis-entrypoint', msg, ...extra })}\n`);

class Fatal extends Error {}

/** Writes a small JSON file atomically (the healthcheck and other containers read these). */
function writeJson(path, value) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value)}\n`, { mode: 0o644 });
  renameSync(tmp, path);
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function status(value) {
  writeJson(STATUS_FILE, { ...value, pid: process.pid, at: new Date().toISOString() });
}

/** Runs one CLI command to completion; returns its parsed JSON output (or null for none). */
function cli(name, args, env = process.env) {
  const r = spawnSync(process.execPath, [CLI[name], ...args], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Fatal(`${name} ${args[0]} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
  const out = r.stdout.trim();
  return out ? JSON.parse(out.split('\n').pop()) : null;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits for a file another container writes; fails after GLACIS_BOOTSTRAP_TIMEOUT_MS (default 5 min). */
async function waitForFile(path, what) {
  const deadline = Date.now() + Number(process.env.GLACIS_BOOTSTRAP_TIMEOUT_MS || 300_000);
  let said = false;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Fatal(`gave up waiting for ${what} (${path})`);
    if (!said) log(`waiting for ${what}`, { path });
    said = true;
    await sleep(200);
  }
  return readJson(path);
}

/**
 * LOCAL DEMO ONLY (docker-compose.yml): the public identity keys are exchanged through a volume
 * that every container mounts at GLACIS_BOOTSTRAP_DIR, so that `docker compose up` needs no other
 * step. Each container publishes its own public key there and pins the others' on first sight
 * (trust on first use); a key already pinned is never replaced, a different one is reported.
 * Production exchanges keys out of band and pins them by hand (docs/operations.md).
 */
function bootstrapDir() {
  const dir = process.env.GLACIS_BOOTSTRAP_DIR;
  if (!dir) return null;
  const parties = (process.env.GLACIS_BOOTSTRAP_PARTIES || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return { dir, parties };
}

async function prepareCoordinator() {
  const env = { ...process.env };
  if (!existsSync(join(DATA, 'coordinator.json'))) {
    const { identityKey } = cli('glacis-coordinator', ['init', '--data-dir', DATA]);
    log('coordinator initialised', { identityKey });
  }
  const { identityKey } = cli('glacis-coordinator', ['identity', '--data-dir', DATA]);
  const boot = bootstrapDir();
  if (boot) {
    writeJson(join(boot.dir, 'coordinator.json'), { identityKey });
    for (const partyId of boot.parties) {
      const file = join(boot.dir, `${partyId}.json`);
      const pinned = (readJson(join(DATA, 'coordinator.json')).parties ?? []).find((p) => p.partyId === partyId);
      if (!pinned) {
        const offered = await waitForFile(file, `the identity key of ${partyId}`);
        cli('glacis-coordinator', ['add-party', '--data-dir', DATA, '--party-id', partyId, '--identity-key', offered.identityKey]);
        log('party registered', { partyId, identityKey: offered.identityKey });
      } else if (existsSync(file) && readJson(file).identityKey !== pinned.identityKey) {
        warn('a different identity key is offered for a registered party; keeping the registered one', { partyId });
      }
    }
  }
  const tokenFile = process.env.GLACIS_ADMIN_TOKEN_FILE;
  if (tokenFile) {
    let token;
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (e) {
      throw new Fatal(`cannot read GLACIS_ADMIN_TOKEN_FILE ${tokenFile}: ${e.message}`);
    }
    // The coordinator itself refuses the demo token unless GLACIS_DEMO=1; say so early in the demo too.
    if (token.includes('local-demo-only'))
      warn('the admin token is the public demo secret of deploy/secrets/ (GLACIS_DEMO=1): never use it for anything real');
    env.GLACIS_ADMIN_TOKEN = token;
  }
  delete env.GLACIS_ADMIN_TOKEN_FILE;
  const urlFile = process.env.GLACIS_DATABASE_URL_FILE;
  if (urlFile) {
    try {
      env.GLACIS_DATABASE_URL = readFileSync(urlFile, 'utf8').trim();
      if (env.GLACIS_DATABASE_URL.includes('local-demo-only'))
        warn('the database password is the committed demo secret: replace deploy/secrets/ before any real use');
    } catch (e) {
      throw new Fatal(`cannot read GLACIS_DATABASE_URL_FILE ${urlFile}: ${e.message}`);
    }
  }
  delete env.GLACIS_DATABASE_URL_FILE;
  status({ role: 'coordinator', port: Number(process.env.GLACIS_PORT || 8700) });
  return { args: ['serve', '--data-dir', DATA], env };
}

async function prepareParty() {
  const cfgPath = join(DATA, 'party.json');
  let identityKey;
  if (!existsSync(cfgPath)) {
    const partyId = process.env.GLACIS_PARTY_ID;
    if (!partyId) throw new Fatal('GLACIS_PARTY_ID is required to initialise a party');
    const args = ['init', '--data-dir', DATA, '--party-id', partyId];
    if (process.env.GLACIS_COORDINATOR_URL) args.push('--coordinator-url', process.env.GLACIS_COORDINATOR_URL);
    if (process.env.GLACIS_COORDINATOR_KEY) args.push('--coordinator-key', process.env.GLACIS_COORDINATOR_KEY);
    ({ identityKey } = cli('glacis-party', args));
    log('party initialised', { partyId, identityKey });
  } else {
    ({ identityKey } = cli('glacis-party', ['identity', '--data-dir', DATA]));
  }
  const cfg = readJson(cfgPath);
  const boot = bootstrapDir();
  if (boot) {
    writeJson(join(boot.dir, `${cfg.partyId}.json`), { partyId: cfg.partyId, identityKey });
    const pins = [];
    const offeredKey = (name) => {
      const file = join(boot.dir, `${name}.json`);
      return existsSync(file) ? readJson(file).identityKey : undefined;
    };
    if (cfg.coordinator.identityKey === NO_KEY) {
      const coordinator = await waitForFile(join(boot.dir, 'coordinator.json'), 'the identity key of the coordinator');
      const url = process.env.GLACIS_COORDINATOR_URL || cfg.coordinator.url;
      pins.push('--coordinator', `${url}=${coordinator.identityKey}`);
    } else if ((offeredKey('coordinator') ?? cfg.coordinator.identityKey) !== cfg.coordinator.identityKey) {
      warn('a different coordinator identity key is offered; keeping the pinned one');
    }
    for (const peer of boot.parties.filter((p) => p !== cfg.partyId)) {
      const pinned = cfg.peers?.[peer];
      if (!pinned) {
        const offered = await waitForFile(join(boot.dir, `${peer}.json`), `the identity key of ${peer}`);
        pins.push('--peer', `${peer}=${offered.identityKey}`);
      } else if ((offeredKey(peer) ?? pinned) !== pinned) {
        warn('a different identity key is offered for a pinned peer; keeping the pinned one', { peer });
      }
    }
    if (pins.length > 0) {
      cli('glacis-party', ['pin', '--data-dir', DATA, ...pins]);
      log('keys pinned', { pins: pins.filter((_, i) => i % 2 === 1) });
    }
  }
  status({ role: 'party', connected: false });
  return { args: ['serve', '--data-dir', DATA], env: process.env };
}

/** Runs `name args` as the container's main process: signals forwarded, its exit code ours. */
function runChild(name, args, env, onLine) {
  const child = spawn(process.execPath, [CLI[name], ...args], { env, stdio: ['inherit', onLine ? 'pipe' : 'inherit', 'inherit'] });
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  if (onLine) {
    // The party's log goes on to `docker logs` unchanged; the entrypoint only watches it.
    child.stdout.pipe(process.stdout);
    createInterface({ input: child.stdout }).on('line', onLine);
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGTERM' || signal === 'SIGINT' ? 0 : 1)));
}

/** Follows the party's connection from its own log lines ("connected to coordinator", ...). */
function partyLogWatcher() {
  return (line) => {
    let msg;
    try {
      msg = JSON.parse(line).msg;
    } catch {
      return;
    }
    if (msg === 'connected to coordinator') status({ role: 'party', connected: true });
    else if (msg === 'disconnected from coordinator') status({ role: 'party', connected: false });
  };
}

async function main(argv) {
  const [command = process.env.GLACIS_ROLE, ...rest] = argv;
  // Stopped while still preparing (e.g. waiting for a peer's key): nothing to clean up.
  const early = () => process.exit(0);
  const child = (name, args, env, onLine) => {
    process.off('SIGTERM', early).off('SIGINT', early);
    runChild(name, args, env, onLine);
  };
  process.on('SIGTERM', early).on('SIGINT', early);
  switch (command) {
    case 'coordinator': {
      const { args, env } = await prepareCoordinator();
      child('glacis-coordinator', args, env);
      return undefined;
    }
    case 'party': {
      const { args, env } = await prepareParty();
      child('glacis-party', args, env, partyLogWatcher());
      return undefined;
    }
    case 'lb': {
      const listen = process.env.GLACIS_LB_LISTEN || '0.0.0.0:8700';
      const backends = (process.env.GLACIS_LB_BACKENDS || '').split(',').filter(Boolean);
      if (backends.length === 0) throw new Fatal('GLACIS_LB_BACKENDS is empty (host:port,host:port)');
      process.off('SIGTERM', early).off('SIGINT', early);
      for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
      const lb = await startLoadBalancer({
        listen,
        backends,
        checkMs: Number(process.env.GLACIS_LB_CHECK_MS || 2000),
        log: (f, m) => log(m, f),
      });
      status({ role: 'lb', port: lb.port });
      return undefined;
    }
    case 'glacis-coordinator':
    case 'glacis-party':
      child(command, rest, process.env);
      return undefined;
    default:
      console.error(
        `glacis entrypoint: unknown command ${JSON.stringify(command ?? '')}\nusage: coordinator | party | lb | glacis-coordinator ARGS... | glacis-party ARGS...`,
      );
      return 64;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (e) => {
    console.error(`glacis entrypoint: ${e instanceof Fatal ? e.message : (e?.stack ?? String(e))}`);
    process.exit(1);
  },
);
