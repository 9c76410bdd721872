/**
 * Drives test/support/hostile-coordinator.mjs from a test: starts the process, sends it one step
 * at a time, and keeps every envelope it reports. The step language is described in the .mjs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Envelope, MessageType } from '@glacis/protocol';

const ENTRY = fileURLToPath(new URL('./hostile-coordinator.mjs', import.meta.url));

type OneOrMore<T> = T | T[];

/** Which envelopes a rule or a selection means; every field given must match. */
export interface Match {
  dir?: 'up' | 'down';
  party?: OneOrMore<string>;
  origin?: OneOrMore<'party' | 'upstream' | 'hostile'>;
  type?: OneOrMore<MessageType>;
  sessionId?: OneOrMore<string>;
  sessionPrefix?: string;
  from?: OneOrMore<string>;
  to?: OneOrMore<string>;
  keyId?: OneOrMore<string>;
  code?: OneOrMore<string>;
  /** Only records numbered this or later (`mark()`). */
  since?: number;
}

/** An envelope the hostile coordinator saw or sent, and what it did with it. */
export interface Seen {
  n: number;
  dir: 'up' | 'down';
  party: string;
  origin: 'party' | 'upstream' | 'hostile';
  action: 'passed' | 'held' | 'dropped' | 'rewritten' | 'kept' | 'relayed' | 'released' | 'sent' | 'replayed' | 'delivered' | 'lost';
  envelope: Envelope;
}

export type Step =
  | { do: 'hold'; bucket: string; match: Match }
  | { do: 'release'; bucket: string; reverse?: boolean }
  | { do: 'drop'; match: Match }
  | { do: 'rewrite'; match: Match; set: Record<string, unknown>; reseal?: boolean }
  | { do: 'relay-dkg'; sessionId: string; members: string[] }
  | { do: 'unrule'; rule: number }
  | { do: 'send'; to: OneOrMore<string>; message: { type: MessageType; sessionId: string; body: unknown } }
  | { do: 'replay'; select: Match; nth?: number; to?: string }
  | { do: 'deliver'; to: string; envelope: Envelope }
  | { do: 'await'; select: Match; count?: number; timeoutMs?: number }
  | { do: 'cut'; party?: string }
  | { do: 'mark' };

export interface HostileCoordinator {
  /** The URL parties dial (they pin the genuine coordinator key, which this process holds). */
  readonly url: string;
  /** Every envelope reported so far, in order. */
  readonly seen: readonly Seen[];
  /** The number the next record will get (for `since`). */
  mark(): Promise<number>;
  /** Runs one step; resolves with its answer, rejects with the process's reason. */
  run(step: Step): Promise<Record<string, unknown>>;
  /** Adds a rule; resolves with its id (for `unrule`). */
  rule(step: Extract<Step, { do: 'hold' | 'drop' | 'rewrite' | 'relay-dkg' }>): Promise<number>;
  /** Waits for `count` envelopes matching `select`, and resolves with them. */
  awaitSeen(select: Match, count?: number, timeoutMs?: number): Promise<Seen[]>;
  /** Connection events as reported (`connected` with its mode, `disconnected`). */
  readonly connections: readonly { event: 'connected' | 'disconnected'; party: string; mode?: 'proxied' | 'standalone' }[];
  stop(): Promise<void>;
}

/** Starts the hostile coordinator on the coordinator data directory `coordDir`; `upstream`: the real one. */
export async function startHostileCoordinator(o: { coordDir: string; upstream?: string }): Promise<HostileCoordinator> {
  const args = [ENTRY, '--data-dir', o.coordDir, '--port', '0', ...(o.upstream ? ['--upstream', o.upstream] : [])];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const seen: Seen[] = [];
  const connections: HostileCoordinator['connections'][number][] = [];
  const pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  let stderr = '';
  let nextId = 1;
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`hostile coordinator exited (${code}): ${stderr}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const e = JSON.parse(line) as { event: string; id?: number; error?: string; url?: string } & Record<string, unknown>;
      switch (e.event) {
        case 'listening':
          resolve(e.url as string);
          break;
        case 'seen':
          seen.push(e as unknown as Seen);
          break;
        case 'connected':
        case 'disconnected':
          connections.push(e as unknown as HostileCoordinator['connections'][number]);
          break;
        case 'done':
        case 'failed': {
          const p = pending.get(e.id as number);
          pending.delete(e.id as number);
          if (e.event === 'done') p?.resolve(e);
          else p?.reject(new Error(`hostile coordinator: ${e.error}`));
          break;
        }
      }
    });
  });
  const run = (step: Step) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.stdin?.write(`${JSON.stringify({ ...step, id })}\n`);
    });
  return {
    url,
    seen,
    connections,
    mark: async () => (await run({ do: 'mark' })).n as number,
    run,
    rule: async (step) => (await run(step)).rule as number,
    awaitSeen: async (select, count = 1, timeoutMs = 15_000) => (await run({ do: 'await', select, count, timeoutMs })).envelopes as Seen[],
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
