/**
 * Runs refreshes, repairs, reshares and drills (successor-run.ts, repair-run.ts, drill-run.ts):
 * starts each persisted operation, dispatches its session's messages, follows connections,
 * answers what parties report on connecting (certificates they missed, abandonments that release
 * a successor they staged, shares they lack: repair-needs.ts), and takes over what an earlier life
 * of this coordinator, or another instance that stopped, left pending (its work lease lapsed and
 * this instance claimed it: `takeOver`). An operation whose round state lived in the parties'
 * memory fails with `coordinator_restarted`, leaving the key exactly as it was; a certified
 * refresh or reshare (every new holder confirmed it, so none can abandon it) resumes at its test
 * signature. A key switched by another instance reaches this one through the store
 * (`keySwitched`): its signing stops using the old material here too.
 *
 * An offline participant (docs/offline.md) takes part through its outbox and inbox: the runs reach
 * it through lifecycle-courier.ts, its answers come in through `onMessage` like any participant's,
 * and the aborts it must hear are held in its outbox as last words. It never connects, so its
 * connection events and key syncs are not the runs' business.
 */
import {
  BROADCAST,
  type Envelope,
  envelopeSchema,
  keyPackageHash,
  type Message,
  type MessageBody,
  messageBodySchemas,
  type Outgoing,
  type PublicKeyPackage,
} from '@glacis/protocol';
import { isCoordinatorError } from '../errors.js';
import { createDrillRun } from './drill-run.js';
import { type LifecycleRun, type OperationLeases, packageOf, type RunContext } from './lifecycle-run.js';
import type { LifecycleOperationView } from './offline-inbox.js';
import type { HeldMessage } from './ports.js';
import { createRepairNeeds, type RepairNeeds, type ShareStatus } from './repair-needs.js';
import { createRepairRun } from './repair-run.js';
import { encodeSessionId, type LifecycleKind, parseSessionId, type SessionRefOf } from './session-id.js';
import type { JsonObject, KeyRow, OperationRecord } from './store-port.js';
import { certifiedProgress, createSuccessorRun } from './successor-run.js';

/** Work leases of operations; `claim` takes the lease of one this instance just created. */
export interface LifecycleLeases extends OperationLeases {
  /** Claims a new operation's lease; false when another instance took it first. */
  claim(operationId: string): Promise<boolean>;
}

export interface LifecycleDriverOptions extends Omit<RunContext, 'onSettled' | 'onKeySwitched' | 'onShareHeld' | 'abort' | 'leases'> {
  /** Work leases; without them every operation is this process's to run (one instance, tests). */
  leases?: LifecycleLeases;
  /** Signing continues on the new material of a switched key. */
  onKeySwitched(keyId: string, key: PublicKeyPackage): void;
  /** Whether the coordinator repairs `keyId`'s missing shares itself. */
  autoRepair(keyId: string): boolean;
  /** Makes a fresh operation id. */
  newOperationId(): string;
  /** How long after a failed automatic repair the next may start. */
  autoRepairRetryMs?: number;
}

export interface LifecycleDriver {
  /** Runs a pending operation (with leases: one whose lease this instance holds). */
  start(operationId: string): Promise<void>;
  /**
   * An operation an earlier life of this coordinator, or another instance, left pending (this
   * instance claimed its lapsed lease): a certified refresh or reshare resumes at its test
   * signature; anything else fails with `coordinator_restarted`, the key unchanged, and its
   * participants are told.
   */
  takeOver(operationId: string): Promise<void>;
  /** Stops an operation here without writing or telling the parties anything (its lease was lost). */
  abandon(operationId: string): void;
  /** A key's material switched (on this instance or another): signing and repair needs follow the store. */
  keySwitched(keyId: string): Promise<void>;
  onMessage(partyId: string, msg: Message, env: Envelope, ref: SessionRefOf<LifecycleKind>): void;
  onConnected(partyId: string): void;
  onDisconnected(partyId: string): void;
  /** A party's key_sync: what it holds and the successors it staged. */
  onKeySync(partyId: string, body: MessageBody<'key_sync'>): Promise<void>;
  needsRepair(partyId: string): string[];
  shareStatus(keyId: string, partyId: string): ShareStatus;
  /**
   * Operation `operationId` if it is of type `kind`, with its participants: running here, or as its
   * progress recorded them (none before it started). What an offline party's inbox is checked against.
   */
  operation(kind: LifecycleKind, operationId: string): Promise<LifecycleOperationView | undefined>;
}

const abandonmentsOf = (op: OperationRecord): Envelope[] => {
  const list = (op.progress as { abandonments?: unknown } | null)?.abandonments;
  return Array.isArray(list) ? list.flatMap((e) => (envelopeSchema.safeParse(e).success ? [e as Envelope] : [])) : [];
};
const strings = (list: unknown): string[] => (Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string') : []);
const participantsOf = (op: OperationRecord): string[] => strings((op.progress as { participants?: unknown } | null)?.participants);
/** A drill's holders, as its progress records them: proved, failed or still waiting. */
const holdersOf = (op: OperationRecord): string[] => {
  const p = op.progress as { proved?: unknown; failed?: unknown; waiting?: unknown } | null;
  const failed = Array.isArray(p?.failed) ? p.failed.map((f: { partyId?: unknown }) => f?.partyId) : [];
  return [...strings(p?.proved), ...strings(failed), ...strings(p?.waiting)];
};

/** Aborted sessions remembered for participants that were away (the oldest forgotten first). */
const MAX_UNTOLD = 1024;

/** A coordinator abort still to be delivered to some participants. */
interface Untold {
  operationId: string;
  body: { keyId: string; operation: 'refresh' | 'repair' | 'reshare'; code: string; message: string };
  parties: Set<string>;
}

export function createLifecycleDriver(o: LifecycleDriverOptions): LifecycleDriver {
  const isOffline = (p: string) => o.offline?.isOffline(p) ?? false;
  /** An offline party is always reachable, through its outbox (contract rule 7). */
  const reachable = (p: string) => isOffline(p) || o.link.isConnected(p);
  const runs = new Map<string, LifecycleRun>(); // sessionId → run
  /**
   * Aborts each participant must hear, also when it was away (or the coordinator restarted): a
   * participant that never confirmed then signs its abandonment, which releases those that did.
   */
  const untold = new Map<string, Untold>(); // sessionId →
  const log = o.logger;

  /** Sends `sessionId`'s abort to `partyId` (an offline one: held as the last word); false if it is not connected. */
  const tell = (partyId: string, sessionId: string, u: Untold) => {
    const abort: Outgoing = {
      type: 'lifecycle_abort',
      sessionId,
      to: partyId,
      body: { ...u.body, message: u.body.message.slice(0, 1024), culprits: [] },
    };
    return lastWord(partyId, u.operationId, { message: abort });
  };
  /** A last word of operation `operationId` for `partyId`: on its socket, or held in its outbox to the offline deadline. */
  function lastWord(partyId: string, operationId: string, item: HeldMessage): boolean {
    if (o.offline && isOffline(partyId)) {
      o.offline.hold(partyId, operationId, item, true);
      return true;
    }
    return 'message' in item ? o.link.sendSealed(partyId, item.message) : o.link.forward(partyId, item.envelope);
  }
  function abortFor(sessionId: string, u: Untold, participants: readonly string[]): void {
    for (const p of participants) if (!tell(p, sessionId, u)) u.parties.add(p);
    if (u.parties.size === 0) return;
    untold.set(sessionId, u);
    if (untold.size > MAX_UNTOLD) untold.delete(untold.keys().next().value as string);
  }

  /** False when leases are in use and this operation's is no longer surely ours: write and send nothing. */
  const mayRun = (operationId: string) => !o.leases || o.leases.fence(operationId) !== undefined;
  /** The package hash each key's material was last known here to have: a switch is followed once. */
  const switchedTo = new Map<string, string>();

  const needs: RepairNeeds = createRepairNeeds({
    autoRepair: o.autoRepair,
    isConnected: reachable,
    now: o.clock.now,
    retryMs: o.autoRepairRetryMs ?? 30_000,
    async startRepair(keyId, partyId) {
      const operationId = o.newOperationId();
      let created: Awaited<ReturnType<typeof o.store.createOperation>>;
      try {
        created = await o.store.createOperation({
          operationId,
          keyId,
          type: 'repair',
          params: { partyId },
          createdAt: new Date(o.clock.now()).toISOString(),
          requestedBy: 'auto-repair',
        });
      } catch (e) {
        // Another share-changing operation runs (perhaps another instance's repair), or the key
        // is gone: not now; the next report or settle tries again.
        if (isCoordinatorError(e)) {
          log.info({ keyId, partyId, code: e.code }, 'automatic repair not started');
          return false;
        }
        throw e;
      }
      if (!created.created) return false;
      log.info({ keyId, partyId, operationId }, 'automatic repair starting');
      if (o.leases && !(await o.leases.claim(operationId))) return true;
      await start(operationId);
      return true;
    },
  });

  /** Follows a key's switch to `key` once, whichever instance made it. */
  function followSwitch(keyId: string, key: PublicKeyPackage): void {
    const hash = keyPackageHash(key);
    if (switchedTo.get(keyId) === hash) return;
    switchedTo.set(keyId, hash);
    needs.switched(keyId, key.committee, key.threshold);
    o.onKeySwitched(keyId, key);
  }

  const { leases, ...rest } = o;
  const ctx: RunContext = {
    ...rest,
    ...(leases ? { leases } : {}),
    onSettled(run, outcome) {
      runs.delete(run.sessionId);
      o.offline?.drop(run.op.operationId);
      const target = (run.op.params as { partyId?: string }).partyId;
      if (run.op.type === 'repair' && outcome === 'failed' && target) needs.repairFailed(run.op.keyId, target);
      kick();
    },
    onKeySwitched: followSwitch,
    onShareHeld: (keyId, partyId) => needs.held(keyId, partyId),
    abort(run, code, message) {
      if (run.op.type === 'drill' || run.op.type === 'dkg' || !mayRun(run.op.operationId)) return;
      abortFor(
        run.sessionId,
        { operationId: run.op.operationId, body: { keyId: run.op.keyId, operation: run.op.type, code, message }, parties: new Set() },
        run.participants,
      );
    },
  };

  function runFor(op: OperationRecord, key: KeyRow): LifecycleRun {
    switch (op.type) {
      case 'refresh':
      case 'reshare':
        return createSuccessorRun(ctx, op, key);
      case 'repair':
        return createRepairRun(ctx, op, key);
      case 'drill':
        return createDrillRun(ctx, op, key);
      case 'dkg':
        throw new Error('a DKG is not a lifecycle operation');
      default: {
        const never: never = op.type;
        throw new Error(`unknown operation type ${String(never)}`);
      }
    }
  }

  /** Kicks the automatic repairs off the caller's path; a failing store is only logged. */
  function kick(): void {
    needs.kick().catch((e: unknown) => log.error({ err: (e as Error).message }, 'automatic repair failed to start'));
  }

  /** The pending operation `operationId`, if this instance may run it (with leases: holds its lease). */
  async function pendingOf(operationId: string): Promise<OperationRecord | undefined> {
    if (!mayRun(operationId)) return undefined;
    const op = await o.store.getOperation(operationId);
    if (op?.status === 'pending' && op.type !== 'dkg') return op;
    o.leases?.release(operationId);
    return undefined;
  }

  async function start(operationId: string): Promise<void> {
    const op = await pendingOf(operationId);
    if (!op) return;
    await launch(op);
  }

  async function launch(op: OperationRecord): Promise<void> {
    const sessionId = encodeSessionId({ kind: op.type as LifecycleKind, operationId: op.operationId });
    if (runs.has(sessionId)) return;
    const key = await o.store.getKey(op.keyId);
    if (key?.status !== 'active') {
      const error = { code: 'key_not_active', message: `key ${op.keyId} is not active` };
      await settleAlone(op, error);
      return;
    }
    const r = runFor(op, key);
    runs.set(sessionId, r);
    await r.start();
  }

  /** Fails an operation that is not running here (fenced by its lease); a lost lease is only logged. */
  async function settleAlone(op: OperationRecord, error: { code: string; message: string }): Promise<void> {
    try {
      await o.store.failOperation(
        op.operationId,
        error,
        { type: `${op.type}_failed`, data: { operationId: op.operationId, keyId: op.keyId, ...error } },
        o.leases?.fence(op.operationId),
      );
      o.metrics.lifecycleEnded(op.type as LifecycleKind, 'failed');
    } catch (e) {
      if (!(isCoordinatorError(e) && e.code === 'lease_lost')) throw e;
      log.warn({ operationId: op.operationId, err: e.message }, 'lease lost: operation outcome not written here');
    } finally {
      o.leases?.release(op.operationId);
    }
  }

  /** A late message of a settled operation: a member's abandonment is still relayed and kept. */
  async function afterwards(partyId: string, msg: Message, env: Envelope, operationId: string): Promise<void> {
    if (msg.type !== 'lifecycle_abort' || msg.to !== BROADCAST) return;
    const op = await o.store.getOperation(operationId);
    if (op?.status !== 'failed') return;
    const participants = participantsOf(op);
    if (!participants.includes(partyId)) return;
    const known = abandonmentsOf(op);
    if (known.some((e) => e.from === partyId)) return;
    for (const p of participants) if (p !== partyId) lastWord(p, operationId, { envelope: env });
    await o.store.setOperationProgress(operationId, { ...(op.progress ?? {}), abandonments: [...known, env] } as unknown as JsonObject);
  }

  /**
   * What a reconnecting party missed about its staged successors and its older shares. Returns the
   * keys whose certificate it was sent: it switches to the current generation on receiving it, so
   * it does not need a repair of them.
   */
  async function answerSync(partyId: string, body: MessageBody<'key_sync'>): Promise<Set<string>> {
    const switching = new Set<string>();
    for (const s of body.staged ?? []) {
      const ref = parseSessionId(s.sessionId);
      if (!ref || (ref.kind !== 'refresh' && ref.kind !== 'reshare')) continue;
      const op = await o.store.getOperation(ref.operationId);
      if (!op || op.keyId !== s.keyId) continue;
      if (op.status === 'completed' && (await sendComplete(partyId, s.keyId, s.sessionId))) switching.add(s.keyId);
      else if (op.status === 'failed') for (const env of abandonmentsOf(op)) if (env.from !== partyId) o.link.forward(partyId, env);
    }
    // A share of an older generation: the certificate of the reshare that followed it, if any (it
    // retires a member the key was reshared away from). Otherwise the member needs a repair.
    for (const h of body.holdings ?? []) {
      const key = await o.store.getKey(h.keyId);
      if (key?.status !== 'active' || h.packageHash === keyPackageHash(packageOf(key))) continue;
      const next = key.lineage.find((l) => {
        const first = messageBodySchemas.lifecycle_confirm.safeParse(l.confirmations[0]?.body);
        return l.operation === 'reshare' && first.success && first.data.predecessor === h.packageHash;
      });
      if (next && !key.parties.includes(partyId)) await sendComplete(partyId, key.keyId, next.sessionId);
    }
    return switching;
  }

  /** Sends the certificate of `sessionId`'s link of `keyId`; false when there is none. */
  async function sendComplete(partyId: string, keyId: string, sessionId: string): Promise<boolean> {
    const key = await o.store.getKey(keyId);
    const link = key?.lineage.find((l) => l.sessionId === sessionId);
    if (!link || link.operation === 'repair') return false;
    return o.link.sendSealed(partyId, {
      type: 'lifecycle_complete',
      sessionId,
      to: partyId,
      body: { keyId, operation: link.operation, confirmations: link.confirmations },
    });
  }

  return {
    start,
    onMessage(partyId, msg, env, ref) {
      const run = runs.get(msg.sessionId);
      if (run) run.onMessage(partyId, msg, env);
      else
        void afterwards(partyId, msg, env, ref.operationId).catch((e: unknown) =>
          log.error({ err: (e as Error).message }, 'lifecycle relay failed'),
        );
    },
    onConnected(partyId) {
      if (isOffline(partyId)) return;
      for (const run of [...runs.values()]) run.onConnected(partyId);
      for (const [sessionId, u] of untold) {
        if (!u.parties.has(partyId) || !tell(partyId, sessionId, u)) continue;
        u.parties.delete(partyId);
        if (u.parties.size === 0) untold.delete(sessionId);
      }
      kick();
    },
    onDisconnected(partyId) {
      if (isOffline(partyId)) return;
      for (const run of [...runs.values()]) run.onDisconnected(partyId);
    },
    async onKeySync(partyId, body) {
      if (isOffline(partyId)) return;
      for (const run of [...runs.values()]) if (run.participants.includes(partyId)) run.onKeySync?.(partyId, body.staged ?? []);
      if (body.holdings !== undefined) {
        const keys = await o.store.listActiveKeysOf(partyId);
        needs.reported(partyId, keys, new Map(body.holdings.map((h) => [h.keyId, h.packageHash])));
      }
      for (const keyId of await answerSync(partyId, body)) needs.held(keyId, partyId);
      await needs.kick();
    },
    needsRepair: (partyId) => needs.needsRepair(partyId),
    async operation(kind, operationId) {
      const run = runs.get(encodeSessionId({ kind, operationId }));
      if (run) return { keyId: run.op.keyId, participants: run.participants };
      const op = await o.store.getOperation(operationId);
      if (op?.type !== kind) return undefined;
      return { keyId: op.keyId, participants: kind === 'drill' ? holdersOf(op) : participantsOf(op) };
    },
    shareStatus: (keyId, partyId) => needs.status(keyId, partyId),
    async takeOver(operationId) {
      const op = await pendingOf(operationId);
      if (!op) return;
      if ((op.type === 'refresh' || op.type === 'reshare') && certifiedProgress(op)) {
        log.info({ operationId }, 'resuming a certified operation left by an earlier coordinator life');
        await launch(op);
        return;
      }
      const error = {
        code: 'coordinator_restarted',
        message: 'the coordinator instance running the operation stopped before it finished; the key is unchanged; request it again',
      };
      log.warn(
        { operationId, keyId: op.keyId, type: op.type },
        'lifecycle operation left unfinished by another coordinator life; failing it',
      );
      // Its participants drop their part; one that never confirmed signs its abandonment, which
      // releases the successor the others staged.
      if (op.type === 'refresh' || op.type === 'repair' || op.type === 'reshare') {
        const sessionId = encodeSessionId({ kind: op.type, operationId });
        abortFor(
          sessionId,
          { operationId, body: { keyId: op.keyId, operation: op.type, ...error }, parties: new Set() },
          participantsOf(op),
        );
      }
      await settleAlone(op, error);
    },
    abandon(operationId) {
      for (const r of [...runs.values()]) if (r.op.operationId === operationId) r.abandon();
      o.leases?.release(operationId);
    },
    async keySwitched(keyId) {
      const key = await o.store.getKey(keyId);
      if (key?.status === 'active') followSwitch(keyId, packageOf(key));
    },
  };
}
