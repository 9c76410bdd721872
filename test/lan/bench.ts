/**
 * The isolated-LAN test bench, as tests use it: picks a mode, starts test/lan/controller.mjs in it
 * and drives it over stdin/stdout.
 *
 * - `netns`: the controller runs under `unshare -rnm --propagation private --pid --fork
 *   --kill-child sh test/lan/sandbox.sh …`: a user, network, mount and PID namespace of its own,
 *   where it builds a bridged LAN of network namespaces. Nothing it does can reach the machine's
 *   network, and everything (processes, namespaces, iptables rules) dies with the sandbox.
 * - `loopback-proxy`: where namespaces cannot be made (no unshare, no iptables, user namespaces
 *   forbidden), the same hosts run as processes on 127.0.0.1 and each party's proxy emulates cuts,
 *   latency and loss.
 *
 * GLACIS_LAN_MODE=netns makes netns mode mandatory (CI: a broken sandbox must fail, not degrade);
 * GLACIS_LAN_MODE=loopback forces the fallback; unset (or `auto`) picks netns when it works.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const CONTROLLER = join(HERE, 'controller.mjs');
const SANDBOX = join(HERE, 'sandbox.sh');
const UNSHARE = ['-rnm', '--propagation', 'private', '--pid', '--fork', '--kill-child'];

export type LanMode = 'netns' | 'loopback-proxy';
export interface ModeChoice {
  mode: LanMode;
  /** Why this mode (always set for loopback-proxy). */
  reason: string;
}

/** Decides the mode: probes for a working sandbox with namespaces and iptables (≈ 0.1 s). */
export function chooseMode(env: NodeJS.ProcessEnv = process.env): ModeChoice {
  const wanted = env.GLACIS_LAN_MODE ?? 'auto';
  if (wanted === 'loopback') return { mode: 'loopback-proxy', reason: 'GLACIS_LAN_MODE=loopback' };
  if (wanted !== 'auto' && wanted !== 'netns') throw new Error(`GLACIS_LAN_MODE must be netns, loopback or auto, not "${wanted}"`);
  const why = probeNetns();
  if (why === undefined) return { mode: 'netns', reason: 'unshare -rnm sandbox with network namespaces and iptables' };
  if (wanted === 'netns') throw new Error(`GLACIS_LAN_MODE=netns, but network namespaces cannot be used here: ${why}`);
  return { mode: 'loopback-proxy', reason: why };
}

function probeNetns(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  const missing = ['unshare', 'ip', 'iptables'].filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  if (missing.length > 0) return `${missing.join(', ')} not installed`;
  const r = spawnSync(
    'unshare',
    [
      ...UNSHARE,
      'sh',
      SANDBOX,
      'sh',
      '-c',
      'ip netns add gl-probe && ip netns exec gl-probe iptables -w -S >/dev/null && ip -n gl-probe link add b0 type bridge && ip netns del gl-probe',
    ],
    { encoding: 'utf8', timeout: 15_000 },
  );
  if (r.status === 0) return undefined;
  const err = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0];
  return `cannot create network namespaces (${err})`;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

export interface BenchOptions {
  parties?: number;
  signingTimeoutMs?: number;
  dkgTimeoutMs?: number;
  reconnect?: { initialMs: number; maxMs: number };
  partyEnv?: Record<string, Record<string, string>>;
}

export interface LinkShape {
  delayMs?: number;
  jitterMs?: number;
  upMs?: number;
  upJitterMs?: number;
  downMs?: number;
  downJitterMs?: number;
}

export interface Bench {
  readonly mode: LanMode;
  readonly reason: string;
  readonly dataDir: string;
  readonly parties: string[];
  readonly addresses: Record<string, string>;
  /** A REST call from the desk host (admin token). */
  api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>>;
  /** The link goes silent: nothing in or out, no connection is told (a pulled cable, a dead switch port). */
  partition(...names: string[]): Promise<void>;
  /** The link comes back (and any trip-wire hold ends). */
  heal(...names: string[]): Promise<void>;
  /** Partition, and the party's own connection is reset; the coordinator's side stays half-open. */
  disconnect(...names: string[]): Promise<void>;
  shape(names: string[], shape: LinkShape): Promise<void>;
  /** Random loss on every link. */
  loss(rate: number): Promise<void>;
  /** A counter of injected loss; compare two readings taken while one loss rate is set. */
  lossStats(): Promise<{ unit: string; count: number }>;
  /**
   * While they are cut off, the coordinator gives up on `names`' connections (as its TCP would after
   * a long cut); the parties' sides stay half-open and nobody tells them.
   */
  abandon(...names: string[]): Promise<void>;
  /** After the next coordinator → `party` chunk containing `pattern`, `party`'s uplink goes silent. */
  armTrip(party: string, pattern: string): Promise<void>;
  waitTrip(party: string, ms: number): Promise<boolean>;
  /** No cut, delay or loss; every party on a fresh connection. */
  reset(): Promise<void>;
  /** Restarts `party`; with `fault`, as a party that misbehaves on purpose (test/support/faulty-party.mjs). */
  restartParty(party: string, fault?: 'corrupt-shares'): Promise<void>;
  /** Waits until `names` are connected with activity since `since` (epoch ms). */
  waitConnected(names: string[], since: number, ms?: number): Promise<void>;
  /** A node's log (pino JSON lines), parsed. */
  logOf(name: string): Record<string, unknown>[];
  /** A JSON-lines file under the bench's data directory, parsed. */
  readJsonl(path: string): Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startBench(choice: ModeChoice, opts: BenchOptions = {}): Promise<Bench> {
  const netns = choice.mode === 'netns';
  const child: ChildProcess = netns
    ? spawn('unshare', [...UNSHARE, 'sh', SANDBOX, process.execPath, CONTROLLER, '--mode', 'netns'], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(process.execPath, [CONTROLLER, '--mode', 'loopback'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => {
    stderr.push(d.toString());
    if (stderr.length > 200) stderr.shift();
    if (process.env.GLACIS_LAN_DEBUG) process.stderr.write(d);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let dead = false;
  void exited.then(() => {
    dead = true;
    for (const p of pending.values()) p.reject(new Error(`LAN controller exited; its last words:\n${stderr.join('').slice(-4000)}`));
    pending.clear();
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  // Loopback mode: the controller shares our PID namespace; remember its children so that a
  // crashed controller cannot leave them behind (netns mode: the PID namespace takes care of it).
  const spawned = new Map<string, number>();
  let nextId = 1;
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    let m: { id?: number; ok?: boolean; result?: unknown; error?: string; event?: string; name?: string; pid?: number };
    try {
      m = JSON.parse(line);
    } catch {
      stderr.push(`(stdout) ${line}\n`);
      return;
    }
    if (m.event === 'spawned' && m.name && m.pid) spawned.set(m.name, m.pid);
    if (m.event === 'exited' && m.name && spawned.get(m.name) === m.pid) spawned.delete(m.name);
    if (m.id === undefined) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (!p) return;
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`LAN controller: ${m.error}`));
  });

  function call<T>(op: string, params: Record<string, unknown> = {}): Promise<T> {
    if (dead) return Promise.reject(new Error(`LAN controller is gone; its last words:\n${stderr.join('').slice(-4000)}`));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.stdin?.write(`${JSON.stringify({ id, op, ...params })}\n`);
    });
  }

  let up: { dataDir: string; parties: string[]; addresses: Record<string, string> };
  try {
    up = await call('up', { ...opts });
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }

  const bench: Bench = {
    mode: choice.mode,
    reason: choice.reason,
    dataDir: up.dataDir,
    parties: up.parties,
    addresses: up.addresses,
    api: (method, path, body) => call('api', { method, path, body }),
    partition: async (...names) => void (await call('partition', { names })),
    heal: async (...names) => void (await call('heal', { names })),
    disconnect: async (...names) => void (await call('disconnect', { names })),
    shape: async (names, shape) => void (await call('shape', { names, ...shape })),
    loss: async (rate) => void (await call('loss', { rate })),
    armTrip: async (party, pattern) => void (await call('trip', { party, pattern })),
    waitTrip: async (party, ms) => (await call<{ tripped: boolean }>('waitTrip', { party, ms })).tripped,
    reset: async () => void (await call('reset')),
    lossStats: () => call('lossStats'),
    abandon: async (...names) => void (await call('abandon', { names })),
    restartParty: async (party, fault) => void (await call('restartParty', { party, fault })),
    waitConnected: async (names, since, ms) => void (await call('waitConnected', { names, since, ms })),
    logOf: (name) => bench.readJsonl(join('logs', `${name}.log`)),
    readJsonl(path) {
      const text = readFileSync(join(up.dataDir, path), 'utf8');
      const out: Record<string, unknown>[] = [];
      for (const line of text.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          out.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // a line still being written
        }
      }
      return out;
    },
    async stop() {
      if (!dead) {
        await Promise.race([call('down').catch(() => undefined), exited, new Promise((r) => setTimeout(r, 20_000))]);
        child.stdin?.end();
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      }
      if (!dead) {
        // unshare --kill-child takes the sandbox (PID 1 and everything under it) down with it.
        child.kill('SIGKILL');
        await exited;
      }
      if (!netns) {
        for (const pid of spawned.values()) {
          try {
            process.kill(pid, 0);
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    },
  };
  return bench;
}
