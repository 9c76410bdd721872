#!/usr/bin/env node
/**
 * The LAN bench's controller: builds the network, runs a coordinator and N party nodes as
 * separate hosts, and breaks their links on command. The test (test/lan/bench.ts) drives it with
 * one JSON request per line on stdin and reads one JSON answer per line on stdout
 * ({"id","ok","result"|"error"}); its own diagnostics go to stderr.
 *
 *   node test/lan/controller.mjs --mode netns      (only inside test/lan/sandbox.sh, under unshare)
 *   node test/lan/controller.mjs --mode loopback
 *
 * netns: a bridge in a "switch" namespace; one namespace per host (coordinator, party-1..N) with
 * one veth into the switch and an address in 10.231.0.0/24; this process's own namespace (the
 * sandbox's, which has no other link and no route) is the "desk", the custody desk's REST client,
 * on 10.231.0.100. Cuts and loss are iptables rules in the switch namespace (physdev, statistic).
 * Every party reaches the coordinator through its own proxy.mjs, which runs inside the party's
 * namespace, on the party's side of the wire, and adds latency and jitter (the kernel has no
 * netem). Processes run as `ip netns exec NS node …` (exec in place: the PID is node's).
 *
 * loopback: the same hosts as processes on 127.0.0.1, each party behind its proxy; the proxies
 * emulate what the switch does in netns mode (cut = silence, loss = retransmission delays).
 *
 * The controller exits when stdin closes, after stopping everything it started (by PID) and
 * deleting its namespaces; in netns mode it is PID 1 of the sandbox, so the kernel also kills
 * whatever is left when it exits, however it exits.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { COORDINATOR_CLI, initCluster, PARTY_CLI, waitFor } from '../../scripts/local-cluster.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const PROXY = join(HERE, 'proxy.mjs');
// A party with a fault injected (test only; the production CLI has no such switch).
const FAULTY_PARTY = join(HERE, '..', 'support', 'faulty-party.mjs');
const { values: args } = parseArgs({ options: { mode: { type: 'string' } } });
const MODE = args.mode;
if (MODE !== 'netns' && MODE !== 'loopback') {
  process.stderr.write('usage: controller.mjs --mode netns|loopback\n');
  process.exit(64);
}

const NET = '10.231.0';
const COORD_ADDR = `${NET}.10`;
const DESK_ADDR = `${NET}.100`;
const COORD_PORT = 8700;
const PROXY_PORT = 7000;
const nsOf = (host) => `gl-${host}`;
const portOf = (host) => `s-${host}`; // the host's switch port (veth end in the switch namespace)
const addrOf = (host) => (host === 'coordinator' ? COORD_ADDR : `${NET}.${20 + Number(host.split('-')[1])}`);

const log = (...a) => process.stderr.write(`[lan-controller] ${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sh(cmd, argv) {
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`${cmd} ${argv.join(' ')}: ${(e.stderr || e.message).trim()}`);
  }
}
const ip = (...a) => sh('ip', a);
const inNs = (ns, cmd, ...a) => sh('ip', ['netns', 'exec', ns, cmd, ...a]);
const swIptables = (...a) => inNs(nsOf('sw'), 'iptables', '-w', ...a);

// ---------------------------------------------------------------------------------------------
// State

let dataDir;
let adminToken;
let parties = [];
let baseUrl;
let coordinatorKey;
let upOpts;
const hosts = []; // namespaces created, for teardown
const procs = new Map(); // name → { child, pid, exited }
const proxies = new Map(); // party → { child, port, pending: Map, nextId, tripped: Promise|undefined }
const cut = new Set(); // parties whose switch port drops everything
let lossRate = 0;

function emit(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Network (netns mode)

function assertFreshNamespace() {
  const links = ip('-o', 'link', 'show').trim().split('\n').filter(Boolean);
  const routes = ip('-4', 'route', 'show').trim();
  if (links.length !== 1 || routes !== '') {
    throw new Error(
      `refusing to build the LAN: this network namespace is not the sandbox's (links: ${links.length}, routes: ${routes || 'none'})`,
    );
  }
}

function buildLan(names) {
  assertFreshNamespace();
  const sw = nsOf('sw');
  ip('netns', 'add', sw);
  hosts.push(sw);
  ip('-n', sw, 'link', 'set', 'lo', 'up');
  ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', sw, 'link', 'set', 'br0', 'up');
  // Bridged IPv4 goes through the switch's iptables (br_netfilter): that is where cuts and loss live.
  inNs(sw, 'sh', '-c', 'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables');
  swIptables('-N', 'GLACIS_CUT');
  swIptables('-N', 'GLACIS_LOSS');
  swIptables('-A', 'FORWARD', '-j', 'GLACIS_CUT');
  swIptables('-A', 'FORWARD', '-j', 'GLACIS_LOSS');
  for (const host of ['coordinator', ...names]) {
    const ns = nsOf(host);
    ip('netns', 'add', ns);
    hosts.push(ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('link', 'add', portOf(host), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('link', 'set', portOf(host), 'netns', sw);
    ip('-n', sw, 'link', 'set', portOf(host), 'master', 'br0', 'up');
    ip('-n', ns, 'addr', 'add', `${addrOf(host)}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
  }
  // The desk: this namespace, plugged into the switch.
  ip('link', 'add', 'desk', 'type', 'veth', 'peer', 'name', portOf('desk'));
  ip('link', 'set', portOf('desk'), 'netns', sw);
  ip('-n', sw, 'link', 'set', portOf('desk'), 'master', 'br0', 'up');
  ip('addr', 'add', `${DESK_ADDR}/24`, 'dev', 'desk');
  ip('link', 'set', 'desk', 'up');
}

function teardownLan() {
  for (const ns of hosts.reverse()) {
    try {
      ip('netns', 'del', ns);
    } catch (e) {
      log(`teardown: ${e.message}`);
    }
  }
  hosts.length = 0;
}

function cutRules(party) {
  return [
    ['-m', 'physdev', '--physdev-in', portOf(party), '-j', 'DROP'],
    ['-m', 'physdev', '--physdev-out', portOf(party), '-j', 'DROP'],
  ];
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Starts `argv` (node + script + args) on `host`; its output goes to logs/<name>.log. */
function startProcess(name, host, argv, env, stdio = 'log') {
  const logFile = join(dataDir, 'logs', `${name}.log`);
  const fd = openSync(logFile, 'a');
  const [cmd, cmdArgs] = MODE === 'netns' ? ['ip', ['netns', 'exec', nsOf(host), process.execPath, ...argv]] : [process.execPath, argv];
  const child = spawn(cmd, cmdArgs, {
    stdio: stdio === 'pipe' ? ['pipe', 'pipe', fd] : ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  closeSync(fd);
  const proc = { name, child, pid: child.pid, exited: false };
  proc.exit = new Promise((r) =>
    child.once('exit', (code, signal) => {
      proc.exited = true;
      emit({ event: 'exited', name, pid: child.pid, code, signal });
      r({ code, signal });
    }),
  );
  procs.set(name, proc);
  emit({ event: 'spawned', name, pid: child.pid });
  return proc;
}

async function stopProcess(name, signal = 'SIGTERM', graceMs = 5000) {
  const proc = procs.get(name);
  if (!proc || proc.exited) return;
  try {
    process.kill(proc.pid, signal);
  } catch {
    return;
  }
  const t = setTimeout(() => {
    if (!proc.exited) {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {}
    }
  }, graceMs);
  await proc.exit;
  clearTimeout(t);
}

// ---------------------------------------------------------------------------------------------
// The desk's REST client

async function api(method, path, body) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

/** Every party connected, its newest connection (or message) no older than `since`. */
async function waitConnected(names, since, ms = 30_000) {
  await waitFor(
    async () => {
      const r = await api('GET', '/v1/parties');
      if (r.status !== 200) return false;
      const byId = new Map(r.body.parties.map((p) => [p.partyId, p]));
      return names.every((n) => {
        const p = byId.get(n);
        return p?.connected && p.lastSeenAt && Date.parse(p.lastSeenAt) >= since;
      });
    },
    `${names.join(', ')} to (re)connect`,
    ms,
  );
}

// ---------------------------------------------------------------------------------------------
// Proxies

function startProxy(party) {
  const [listen, target] =
    MODE === 'netns' ? [`127.0.0.1:${PROXY_PORT}`, `${COORD_ADDR}:${COORD_PORT}`] : ['127.0.0.1:0', `127.0.0.1:${new URL(baseUrl).port}`];
  const proc = startProcess(`proxy-${party}`, party, [PROXY, '--listen', listen, '--target', target], {}, 'pipe');
  const px = { proc, pending: new Map(), nextId: 1, onTrip: [] };
  proxies.set(party, px);
  px.listening = new Promise((resolveListening, reject) => {
    proc.exit.then(() => reject(new Error(`proxy for ${party} exited`)));
    createInterface({ input: proc.child.stdout }).on('line', (line) => {
      const m = JSON.parse(line);
      if (m.event === 'listening') resolveListening(m.port);
      else if (m.event === 'tripped') {
        px.tripped = true;
        for (const f of px.onTrip.splice(0)) f(true);
      } else if (m.id !== undefined) {
        const p = px.pending.get(m.id);
        px.pending.delete(m.id);
        if (p) m.ok ? p.resolve(m) : p.reject(new Error(`proxy ${party}: ${m.error}`));
      }
    });
  });
  return px;
}

function proxyCmd(party, cmd) {
  const px = proxies.get(party);
  if (!px) throw new Error(`no proxy for ${party}`);
  const id = px.nextId++;
  return new Promise((res, rej) => {
    px.pending.set(id, { resolve: res, reject: rej });
    px.proc.child.stdin.write(`${JSON.stringify({ id, ...cmd })}\n`);
  });
}

// ---------------------------------------------------------------------------------------------
// Hosts

function configureParty(party, proxyPort) {
  const file = join(dataDir, party, 'party.json');
  const cfg = JSON.parse(readFileSync(file, 'utf8'));
  cfg.coordinator = { url: `ws://127.0.0.1:${proxyPort}/v1/ws`, identityKey: coordinatorKey };
  cfg.reconnect = upOpts.reconnect ?? { initialMs: 100, maxMs: 1000 };
  writeFileSync(file, `${JSON.stringify(cfg, null, 2)}\n`);
}

/** Starts `party`: the real CLI, or with `fault` (faulty-party.mjs) a party that misbehaves. */
function startParty(party, { fault, env = {} } = {}) {
  const dir = join(dataDir, party);
  const argv = fault ? [FAULTY_PARTY, '--data-dir', dir, '--fault', fault] : [PARTY_CLI, 'serve', '--data-dir', dir];
  return startProcess(party, party, argv, { GLACIS_KEK_FILE: join(dataDir, 'secrets', `${party}.kek`), ...env });
}

async function startCoordinator() {
  const portFile = join(dataDir, 'coordinator', 'port');
  if (existsSync(portFile)) rmSync(portFile);
  startProcess('coordinator', 'coordinator', [COORDINATOR_CLI, 'serve', '--data-dir', join(dataDir, 'coordinator')], {
    GLACIS_HOST: MODE === 'netns' ? COORD_ADDR : '127.0.0.1',
    GLACIS_PORT: MODE === 'netns' ? String(COORD_PORT) : String(upOpts.coordinatorPort ?? 0),
    GLACIS_PORT_FILE: portFile,
    GLACIS_ADMIN_TOKEN: adminToken,
    GLACIS_WIRE_LOG: join(dataDir, 'logs', 'wire.jsonl'),
    GLACIS_SIGNING_TIMEOUT_MS: String(upOpts.signingTimeoutMs ?? 10_000),
    GLACIS_DKG_TIMEOUT_MS: String(upOpts.dkgTimeoutMs ?? 30_000),
  });
  const port = await waitFor(
    () => {
      const v = existsSync(portFile) ? readFileSync(portFile, 'utf8').trim() : '';
      return v ? Number(v) : undefined;
    },
    'the coordinator to listen',
    30_000,
  );
  baseUrl = MODE === 'netns' ? `http://${COORD_ADDR}:${port}` : `http://127.0.0.1:${port}`;
  upOpts.coordinatorPort = port;
  await waitFor(async () => (await fetch(`${baseUrl}/v1/health`)).status > 0, 'the coordinator to answer the desk', 30_000);
}

// ---------------------------------------------------------------------------------------------
// Operations

const ops = {
  async up(o) {
    upOpts = { ...o };
    dataDir = mkdtempSync(join(tmpdir(), `glacis-lan-${MODE}-`));
    mkdirSync(join(dataDir, 'logs'), { recursive: true });
    const init = initCluster({ dataDir, parties: o.parties ?? 5 });
    parties = init.parties;
    adminToken = init.adminToken;
    coordinatorKey = init.coordinatorKey;
    if (MODE === 'netns') buildLan(parties);
    await startCoordinator();
    for (const p of parties) startProxy(p);
    for (const p of parties) configureParty(p, await proxies.get(p).listening);
    const since = Date.now();
    for (const p of parties) startParty(p, { env: o.partyEnv?.[p] });
    await waitConnected(parties, since);
    return {
      mode: MODE,
      dataDir,
      parties,
      coordinator: baseUrl,
      addresses:
        MODE === 'netns'
          ? Object.fromEntries([['desk', DESK_ADDR], ...['coordinator', ...parties].map((h) => [h, addrOf(h)])])
          : { coordinator: '127.0.0.1', ...Object.fromEntries(parties.map((p) => [p, '127.0.0.1'])) },
    };
  },

  api: ({ method, path, body }) => api(method, path, body),

  /** Silently drops everything to and from `names` (the connection stays up at both ends). */
  async partition({ names }) {
    for (const p of names) {
      if (cut.has(p)) continue;
      cut.add(p);
      if (MODE === 'netns') for (const r of cutRules(p)) swIptables('-A', 'GLACIS_CUT', ...r);
      else await proxyCmd(p, { cmd: 'partition', on: true });
    }
    return { cut: [...cut] };
  },

  /** Ends partitions, trip-wire holds and half-open sockets of `names`. */
  async heal({ names }) {
    for (const p of names) {
      if (cut.has(p) && MODE === 'netns') for (const r of cutRules(p)) swIptables('-D', 'GLACIS_CUT', ...r);
      cut.delete(p);
      await proxyCmd(p, { cmd: 'release' });
    }
    return { cut: [...cut] };
  },

  /**
   * The party loses its connection while its link is down: its side is reset, the RST to the
   * coordinator is lost, so the coordinator keeps a half-open connection. The party must
   * reconnect by itself once the link is back.
   */
  async disconnect({ names }) {
    await ops.partition({ names });
    for (const p of names) await proxyCmd(p, { cmd: 'reset', staleUpstream: MODE !== 'netns' });
    return { cut: [...cut] };
  },

  /**
   * The coordinator gives up on `names`' connections while they are cut off (as its TCP does after
   * ~15 minutes of unanswered retransmissions): its sockets go, its RSTs are lost on the cut link,
   * and the parties' sides stay half-open. netns: `ss -K` in the coordinator's namespace destroys
   * the sockets; loopback: the proxies do the same to their coordinator-side sockets.
   */
  async abandon({ names }) {
    for (const p of names) {
      if (!cut.has(p)) throw new Error(`abandon ${p}: cut it off first`);
      if (MODE === 'netns') inNs(nsOf('coordinator'), 'ss', '-K', 'dst', addrOf(p));
      else await proxyCmd(p, { cmd: 'abandon' });
    }
    return {};
  },

  /** Latency and jitter on the links of `names` (ms, each direction unless up/down given). */
  async shape({ names, delayMs = 0, jitterMs = 0, upMs, upJitterMs, downMs, downJitterMs }) {
    for (const p of names) {
      await proxyCmd(p, {
        cmd: 'shape',
        upMs: upMs ?? delayMs,
        upJitterMs: upJitterMs ?? jitterMs,
        downMs: downMs ?? delayMs,
        downJitterMs: downJitterMs ?? jitterMs,
      });
    }
    return {};
  },

  /** Random loss of `rate` on every link: real packets in netns mode, retransmission delays in loopback. */
  async loss({ rate }) {
    lossRate = rate;
    if (MODE === 'netns') {
      swIptables('-F', 'GLACIS_LOSS');
      if (rate > 0) swIptables('-A', 'GLACIS_LOSS', '-m', 'statistic', '--mode', 'random', '--probability', String(rate), '-j', 'DROP');
    } else {
      for (const p of parties) await proxyCmd(p, { cmd: 'shape', lossRate: rate });
    }
    return { lossRate };
  },

  /** How much loss the bench has injected so far: packets dropped by the switch, or chunks the proxies delayed as lost. */
  async lossStats() {
    if (MODE === 'netns') {
      const out = swIptables('-vnxL', 'GLACIS_LOSS');
      const dropped = out
        .split('\n')
        .filter((l) => l.includes('statistic'))
        .reduce((n, l) => n + Number(l.trim().split(/\s+/)[0]), 0);
      return { unit: 'packets dropped by the switch', count: dropped };
    }
    let count = 0;
    for (const p of parties) count += (await proxyCmd(p, { cmd: 'stats' })).lost;
    return { unit: 'chunks delayed as lost by the proxies', count };
  },

  /** Arms `party`'s trip wire: after the next downstream chunk containing `pattern`, its uplink goes silent. */
  async trip({ party, pattern }) {
    const px = proxies.get(party);
    px.tripped = false;
    await proxyCmd(party, { cmd: 'trip', pattern });
    return {};
  },

  async waitTrip({ party, ms }) {
    const px = proxies.get(party);
    if (px.tripped) return { tripped: true };
    const tripped = await Promise.race([new Promise((r) => px.onTrip.push(r)), sleep(ms).then(() => false)]);
    return { tripped };
  },

  async proxyStats({ party }) {
    return proxyCmd(party, { cmd: 'stats' });
  },

  /** Back to a clean network: no cut, no delay, no loss, fresh connections for everyone. */
  async reset() {
    await ops.heal({ names: parties });
    await ops.loss({ rate: 0 });
    await ops.shape({ names: parties });
    for (const p of parties) await proxyCmd(p, { cmd: 'reset', staleUpstream: false });
    const since = Date.now();
    await waitConnected(parties, since);
    return {};
  },

  /** Restarts a party process (SIGTERM, then start, with `fault` if given) and waits for it to reconnect. */
  async restartParty({ party, fault }) {
    await stopProcess(party);
    const since = Date.now();
    startParty(party, { fault, env: upOpts.partyEnv?.[party] });
    await waitConnected([party], since);
    return { pid: procs.get(party).pid };
  },

  async waitConnected({ names, since, ms }) {
    await waitConnected(names ?? parties, since ?? 0, ms);
    return {};
  },

  async down() {
    await shutdown();
    return {};
  },
};

let shutdownStarted;
function shutdown() {
  shutdownStarted ??= (async () => {
    const order = [...parties, ...parties.map((p) => `proxy-${p}`), 'coordinator'];
    await Promise.all(order.map((n) => stopProcess(n, 'SIGTERM', 3000).catch(() => undefined)));
    if (MODE === 'netns') teardownLan();
    if (dataDir && !process.env.GLACIS_KEEP_TEST_DATA) rmSync(dataDir, { recursive: true, force: true });
    else if (dataDir) log(`kept ${dataDir}`);
  })();
  return shutdownStarted;
}

createInterface({ input: process.stdin }).on('line', async (line) => {
  if (!line.trim()) return;
  let req;
  try {
    req = JSON.parse(line);
    const fn = ops[req.op];
    if (!fn) throw new Error(`unknown op ${req.op}`);
    emit({ id: req.id, ok: true, result: await fn(req) });
  } catch (e) {
    log(`${req?.op ?? '?'} failed: ${e.stack ?? e.message}`);
    emit({ id: req?.id, ok: false, error: e.message });
  }
});
process.stdin.on('end', () => {
  shutdown().finally(() => process.exit(0));
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => shutdown().finally(() => process.exit(0)));
log(`mode ${MODE}, pid ${process.pid}, ${resolve(HERE)}`);
