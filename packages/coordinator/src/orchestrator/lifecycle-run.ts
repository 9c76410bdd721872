/**
 * What every lifecycle run (refresh and reshare: successor-run.ts; repair-run.ts; drill-run.ts)
 * shares: the services it uses, its settle paths, and the relay of party-to-party traffic. The
 * coordinator relays and checks what only it can see; it never holds a secret (every box is
 * opaque to it) and it switches a key only on a certificate it verified (store one transaction).
 *
 * Relay rules: a participant's broadcast goes to every other participant (a second, different
 * broadcast of the same type from the same party is its own signed equivocation); a directed
 * message goes to its one participant recipient; a party's signed `lifecycle_abort` ends the
 * operation with its code and is relayed to every other participant, where a member that
 * confirmed the successor takes it as proof that no certificate can ever exist.
 */
import { BROADCAST, canonicalJson, type Envelope, type Message, type PublicKeyPackage } from '@glacis/protocol';
import type { Logger } from 'pino';
import type { CoordinatorCrashPoint } from '../crash-points.js';
import type { Clock, OrchestratorMetrics, PartyLink } from './ports.js';
import type { LifecycleKind } from './session-id.js';
import {
  type AuditRecord,
  type ErrorInfo,
  type JsonObject,
  type KeyChange,
  type OperationRecord,
  type OrchestratorStore,
  publicPackageOf,
} from './store-port.js';

/** What runs use. */
export interface RunContext {
  store: OrchestratorStore;
  link: PartyLink;
  clock: Clock;
  logger: Logger;
  metrics: OrchestratorMetrics;
  /** The coordinator's pinned identity key of a party. */
  keyOf: (partyId: string) => Uint8Array | undefined;
  /** How long a refresh, repair or reshare may take before its certificate is complete. */
  timeoutMs: number;
  /** How long a drill waits for the holders' proofs. */
  drillTimeoutMs: number;
  rng: (n: number) => Uint8Array;
  /** Test-only crash injection (crash-points.ts). */
  crash: (point: CoordinatorCrashPoint) => void;
  /** The run settled (the driver forgets it; late messages of its session are still relayed). */
  onSettled(run: LifecycleRun, outcome: 'completed' | 'failed'): void;
  /** A key switched to a successor: signing continues on the new material. */
  onKeySwitched(keyId: string, key: PublicKeyPackage): void;
  /** A party now holds the current generation of a key (repaired, or it confirmed the successor). */
  onShareHeld(keyId: string, partyId: string): void;
  /**
   * Tells every participant of `run` that the coordinator aborted it; a participant not connected
   * now is told when it connects (so that one that never confirmed signs its abandonment).
   */
  abort(run: LifecycleRun, code: string, message: string): void;
}

/** One running operation. */
export interface LifecycleRun {
  readonly op: OperationRecord;
  readonly sessionId: string;
  /** Everyone the session's messages go between. */
  readonly participants: readonly string[];
  start(): Promise<void>;
  onMessage(partyId: string, msg: Message, env: Envelope): void;
  onConnected(partyId: string): void;
  onDisconnected(partyId: string): void;
  /** What a participant reported on (re)connecting: the confirmed successors it holds staged. */
  onKeySync?(partyId: string, staged: readonly { keyId: string; sessionId: string; confirm: Envelope }[]): void;
}

/** A key row's public package. */
export const packageOf = publicPackageOf;

/** Settling, progress and timers of one run: every path that ends it goes through here, once. */
export interface RunLifecycle {
  readonly settled: boolean;
  /** Records where the run stands (public data), merged into what was recorded before; resolves once written. */
  progress(p: JsonObject): Promise<void>;
  /** Settles completed with the change to its key and its audit event, in one store transaction. */
  complete(audit: AuditRecord, change?: KeyChange): Promise<boolean>;
  /** Settles failed; parties are told by the caller. */
  fail(error: ErrorInfo, culprits?: readonly string[]): Promise<void>;
  /** Arms (or re-arms) the run's one timer. */
  timer(ms: number, fn: () => void): void;
  stopTimer(): void;
}

export function runLifecycle(ctx: RunContext, run: () => LifecycleRun, type: LifecycleKind): RunLifecycle {
  let settled = false;
  let timer: { cancel(): void } | undefined;
  let recorded: JsonObject = {};
  const op = () => run().op;
  let writes = Promise.resolve();
  const write = (fn: () => unknown) => {
    writes = writes.then(fn).then(
      () => undefined,
      (e: unknown) => ctx.logger.error({ operationId: op().operationId, err: (e as Error).message }, 'lifecycle store write failed'),
    );
    return writes;
  };
  const settle = (outcome: 'completed' | 'failed') => {
    settled = true;
    timer?.cancel();
    ctx.metrics.lifecycleEnded(type, outcome);
    ctx.onSettled(run(), outcome);
  };
  return {
    get settled() {
      return settled;
    },
    progress(p) {
      recorded = { ...(op().progress ?? {}), ...recorded, ...p };
      const snapshot = recorded;
      return write(() => ctx.store.setOperationProgress(op().operationId, snapshot));
    },
    async complete(audit, change) {
      if (settled) return false;
      await writes;
      try {
        await ctx.store.completeOperation(op().operationId, change, audit);
      } catch (e) {
        await this.fail({ code: 'operation_conflict', message: (e as Error).message });
        return false;
      }
      settle('completed');
      return true;
    },
    async fail(error, culprits = []) {
      if (settled) return;
      settle('failed');
      const message = culprits.length > 0 ? `${error.message} (culprits: ${culprits.join(', ')})` : error.message;
      const { operationId, keyId } = op();
      ctx.logger.warn({ operationId, keyId, type, code: error.code, culprits }, 'lifecycle operation failed');
      await write(() =>
        ctx.store.failOperation(
          operationId,
          { code: error.code, message },
          { type: `${type}_failed`, data: { operationId, keyId, code: error.code, message, culprits: [...culprits] } },
        ),
      );
    },
    timer(ms, fn) {
      timer?.cancel();
      timer = ctx.clock.setTimeout(fn, ms);
    },
    stopTimer() {
      timer?.cancel();
      timer = undefined;
    },
  };
}

/**
 * The relay of one session's party-to-party traffic. Returns a ProtocolError-like verdict to fail
 * the operation with when a participant provably misbehaved in what the coordinator relays.
 */
export interface SessionRelay {
  /** Relays `env` (of a participant); returns a failure when the message proves its sender cheated. */
  relay(from: string, msg: Message, env: Envelope): { code: string; message: string; culprits: string[] } | undefined;
}

export function createSessionRelay(ctx: Pick<RunContext, 'link'>, participants: readonly string[]): SessionRelay {
  const broadcasts = new Map<string, unknown>(); // `${type}:${from}` → body
  return {
    relay(from, msg, env) {
      if (msg.to === BROADCAST) {
        const slot = `${msg.type}:${from}`;
        const prev = broadcasts.get(slot);
        if (prev !== undefined) {
          if (canonicalJson(prev) === canonicalJson(msg.body)) return undefined; // a duplicate
          return { code: 'lifecycle_equivocation', message: `${from} broadcast two different ${msg.type}`, culprits: [from] };
        }
        broadcasts.set(slot, msg.body);
        for (const p of participants) if (p !== from) ctx.link.forward(p, env);
        return undefined;
      }
      if (participants.includes(msg.to) && msg.to !== from) ctx.link.forward(msg.to, env);
      return undefined;
    },
  };
}
