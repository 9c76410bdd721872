/**
 * What every lifecycle run (refresh and reshare: successor-run.ts; repair-run.ts; drill-run.ts)
 * shares: the services it uses, its settle paths, and the relay of party-to-party traffic. The
 * coordinator relays and checks what only it can see; it never holds a secret (every box is
 * opaque to it) and it switches a key only on a certificate it verified (store one transaction).
 *
 * Relay rules: a participant's broadcast goes to every other participant; a directed message goes
 * to its one participant recipient; the same message again is a duplicate, and a second, different
 * one of the same type from the same party (to the same recipient) is its own signed equivocation.
 * A party's signed `lifecycle_abort` ends the operation with its code and is relayed to every other
 * participant, where a member that confirmed the successor takes it as proof that no certificate
 * can ever exist. An offline participant (docs/offline.md) is reached through its outbox
 * (lifecycle-courier.ts), and an operation with one runs to the offline deadline.
 *
 * With work leases (lease-keeper.ts) an operation runs only where its lease is, and every write
 * carries the lease's fence; a run whose lease is lost stops at once, writing and sending nothing
 * more, for the instance that claims it next (lifecycle-driver.ts `takeOver`).
 */
import { BROADCAST, canonicalJson, type Envelope, type Message, type PublicKeyPackage } from '@glacis/protocol';
import type { Logger } from 'pino';
import type { CoordinatorCrashPoint } from '../crash-points.js';
import { isCoordinatorError } from '../errors.js';
import { type Courier, createCourier, type OfflineLifecyclePort } from './lifecycle-courier.js';
import type { Clock, OrchestratorMetrics, PartyLink } from './ports.js';
import { encodeSessionId, type LifecycleKind } from './session-id.js';
import {
  type AuditRecord,
  type ErrorInfo,
  type JsonObject,
  type KeyChange,
  type LeaseFence,
  type OperationRecord,
  type OrchestratorStore,
  publicPackageOf,
} from './store-port.js';

/** Which operations this instance may run, when it shares the store with other instances. */
export interface OperationLeases {
  /** The operation's fence while this instance surely holds its lease; undefined once it does not. */
  fence(operationId: string): LeaseFence | undefined;
  /** The operation settled, or was given up, here: its lease is no longer needed. */
  release(operationId: string): void;
}

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
  /** Work leases; without them every operation is this process's to run (one instance, tests). */
  leases?: OperationLeases;
  /** Parties reached by bundles (docs/offline.md): their outboxes and deadline. */
  offline?: OfflineLifecyclePort;
  /**
   * The run settled, or stopped here because its lease was lost (`abandoned`): the driver forgets
   * it (late messages of its session are still relayed).
   */
  onSettled(run: LifecycleRun, outcome: 'completed' | 'failed' | 'abandoned'): void;
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
  /** Stops the run here without writing or sending anything more (its lease was lost). */
  abandon(): void;
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
  /** Stops here without writing anything more: the lease was lost, another instance takes over. */
  abandon(): void;
  /** True while this instance may still write and send for the run (it surely holds the lease). */
  holdsLease(): boolean;
  /** Arms (or re-arms) the run's one timer. */
  timer(ms: number, fn: () => void): void;
  stopTimer(): void;
}

export function runLifecycle(ctx: RunContext, run: () => LifecycleRun, type: LifecycleKind): RunLifecycle {
  let settled = false;
  let timer: { cancel(): void } | undefined;
  let recorded: JsonObject = {};
  const op = () => run().op;
  const log = () => ctx.logger.child({ operationId: op().operationId, keyId: op().keyId, type });
  /** The fence to write with (undefined without leases); false once the lease is not surely ours. */
  const fence = (): LeaseFence | undefined | false => (ctx.leases ? (ctx.leases.fence(op().operationId) ?? false) : undefined);
  let writes = Promise.resolve();
  /** Queues a fenced write; a lost lease (before, or refused by the store) abandons the run instead. */
  const write = (fn: (f: LeaseFence | undefined) => unknown) => {
    writes = writes
      .then(() => {
        const f = fence();
        if (f === false) return abandon('the lease is no longer surely held here');
        return fn(f);
      })
      .then(
        () => undefined,
        (e: unknown) => {
          if (isCoordinatorError(e) && e.code === 'lease_lost') return abandon(e.message);
          log().error({ err: (e as Error).message }, 'lifecycle store write failed');
        },
      );
    return writes;
  };
  const stop = () => {
    settled = true;
    timer?.cancel();
  };
  const settle = (outcome: 'completed' | 'failed') => {
    stop();
    ctx.metrics.lifecycleEnded(type, outcome);
    ctx.onSettled(run(), outcome);
  };
  /** Ends the run here, writing nothing: the instance that claims its lease next decides its fate. */
  function abandon(why: string): void {
    const wasRunning = !settled;
    stop();
    ctx.leases?.release(op().operationId);
    if (!wasRunning) return;
    log().warn({ why }, 'lease lost: lifecycle operation stopped here');
    ctx.onSettled(run(), 'abandoned');
  }
  return {
    get settled() {
      return settled;
    },
    progress(p) {
      recorded = { ...(op().progress ?? {}), ...recorded, ...p };
      const snapshot = recorded;
      if (settled) return writes;
      return write((f) => ctx.store.setOperationProgress(op().operationId, snapshot, f));
    },
    async complete(audit, change) {
      if (settled) return false;
      await writes;
      const f = fence();
      if (settled) return false;
      if (f === false) {
        abandon('the lease is no longer surely held here');
        return false;
      }
      try {
        await ctx.store.completeOperation(op().operationId, change, audit, f);
      } catch (e) {
        if (isCoordinatorError(e) && e.code === 'lease_lost') {
          abandon(e.message);
          return false;
        }
        await this.fail({ code: 'operation_conflict', message: (e as Error).message });
        return false;
      }
      settle('completed');
      ctx.leases?.release(op().operationId);
      return true;
    },
    async fail(error, culprits = []) {
      if (settled) return;
      const f = fence();
      if (f === false) return abandon('the lease is no longer surely held here');
      settle('failed');
      const message = culprits.length > 0 ? `${error.message} (culprits: ${culprits.join(', ')})` : error.message;
      const { operationId, keyId } = op();
      log().warn({ code: error.code, culprits }, 'lifecycle operation failed');
      // Queued behind the progress writes, but with the fence read now: the run is settled here.
      writes = writes
        .then(() =>
          ctx.store.failOperation(
            operationId,
            { code: error.code, message },
            { type: `${type}_failed`, data: { operationId, keyId, code: error.code, message, culprits: [...culprits] } },
            f,
          ),
        )
        .catch((e: unknown) => log().warn({ err: (e as Error).message }, 'lifecycle failure not recorded here'))
        .finally(() => ctx.leases?.release(operationId));
      await writes;
    },
    abandon: () => abandon('the lease was lost'),
    holdsLease: () => !settled && fence() !== false,
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

/** What a run that relays between its participants (refresh, reshare, repair) is built in. */
export interface RunShell {
  readonly run: LifecycleRun;
  readonly life: RunLifecycle;
  readonly courier: Courier;
  readonly sessionId: string;
  /** Everyone the session's messages go between, fixed at start (setting it starts the relay between them). */
  participants: readonly string[];
  readonly relay: SessionRelay;
  /** Tells every participant that the run failed and settles it failed, once. */
  failAll(code: string, message: string, culprits?: readonly string[]): Promise<void>;
}

/**
 * The shell of a relaying run of `op`: its session, courier (`ready`: when an offline participant
 * may have its messages), relay and settling. `handlers` are the run's own; they may use the shell.
 */
export function createRunShell(
  ctx: RunContext,
  op: OperationRecord,
  kind: 'refresh' | 'reshare' | 'repair',
  handlers: Pick<LifecycleRun, 'start' | 'onMessage' | 'onConnected' | 'onDisconnected' | 'onKeySync'>,
  ready: (partyId: string) => boolean,
): RunShell {
  const sessionId = encodeSessionId({ kind, operationId: op.operationId });
  const courier = createCourier({ link: ctx.link, offline: ctx.offline, operationId: op.operationId, sessionId, ready });
  let participants: readonly string[] = [];
  let relay = createSessionRelay(courier, participants);
  const run: LifecycleRun = {
    ...handlers,
    op,
    sessionId,
    get participants() {
      return participants;
    },
    abandon: () => life.abandon(),
  };
  const life = runLifecycle(ctx, () => run, kind);
  return {
    run,
    life,
    courier,
    sessionId,
    get participants() {
      return participants;
    },
    set participants(list) {
      participants = list;
      relay = createSessionRelay(courier, list);
    },
    get relay() {
      return relay;
    },
    async failAll(code, message, culprits = []) {
      if (life.settled) return;
      ctx.abort(run, code, message);
      await life.fail({ code, message }, culprits);
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
  /** Whether `from`'s `type` message to `to` (default: its broadcast) was relayed. */
  has(type: Message['type'], from: string, to?: string): boolean;
}

/**
 * Each participant signs one message of a type per recipient (or one broadcast): the same one again
 * (an offline party re-sends every envelope of the session in each answer) is a duplicate, relayed
 * once; a different one is its signed equivocation.
 */
export function createSessionRelay(courier: Pick<Courier, 'forward' | 'flush'>, participants: readonly string[]): SessionRelay {
  const relayed = new Map<string, string>(); // `${type} ${from} ${to}` → canonical body
  const slot = (type: string, from: string, to: string) => `${type} ${from} ${to}`;
  return {
    relay(from, msg, env) {
      const to = msg.to;
      if (to !== BROADCAST && (!participants.includes(to) || to === from)) return undefined;
      const key = slot(msg.type, from, to);
      const body = canonicalJson(msg.body);
      const prev = relayed.get(key);
      if (prev !== undefined) {
        if (prev === body) return undefined;
        const what = to === BROADCAST ? `broadcast two different ${msg.type}` : `sent ${to} two different ${msg.type}`;
        return { code: 'lifecycle_equivocation', message: `${from} ${what}`, culprits: [from] };
      }
      relayed.set(key, body);
      if (to !== BROADCAST) courier.forward(to, env);
      else for (const p of participants) if (p !== from) courier.forward(p, env);
      courier.flush();
      return undefined;
    },
    has: (type, from, to = BROADCAST) => relayed.has(slot(type, from, to)),
  };
}
