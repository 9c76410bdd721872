/**
 * The rules of a party's refresh, repair and reshare sessions that do not depend on how their
 * messages reach it, shared by the daemon (lifecycle-handler.ts: one machine per session, in
 * memory) and the offline party (offline/offline-lifecycle.ts: a session replayed from sealed
 * state at every trip to the vault). Each rule does its keystore work and hands back what the
 * caller sends and records, so either driver decides when a message leaves.
 *
 *   - admitStart: a start is new (`replayed_message`), no other session of the key runs here and
 *     no successor of it waits for its certificate (`lifecycle_busy`), and planStart's own checks.
 *   - abandonment: a session this party never confirmed may be abandoned by a signed broadcast
 *     abort; one it confirmed never is (its successor may still be certified).
 *   - stageSuccessor / storeRepairedShare: what the party derived is durable before anything that
 *     claims it leaves.
 *   - releaseAbandoned / applyCertificate: a staged successor leaves the staged state only by its
 *     certificate (checked here, against this party's own pins) or by a new member's signed
 *     abandonment; a certificate that moves the key away from this party retires its share.
 */
import {
  activateSuccessor,
  BROADCAST,
  COORDINATOR,
  canonicalJson,
  type Envelope,
  encodeKeyShare,
  isProtocolError,
  type KeyShare,
  keyPackageHash,
  type LifecycleOperation,
  type Message,
  type MessageBody,
  messageBodySchemas,
  type Outgoing,
  type PendingSuccessor,
  ProtocolError,
  verifyLifecycleCertificate,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import type { CrashPoint } from '../crash-points.js';
import type { DkgSessionRecord } from '../dkg/session-record.js';
import { isPartyError } from '../errors.js';
import type { Keystore, StoredShare } from '../keystore/keystore.js';
import type { StagedSuccessor } from '../keystore/successions.js';
import type { LifecycleEventType } from './lifecycle-log.js';
import { type Plan, planStart, type StartContext, type StartMessage } from './start-checks.js';

type Of<T extends Message['type']> = Extract<Message, { type: T }>;

/** What the rules read and write. */
export interface LifecycleRuleDeps {
  self: string;
  keystore: Keystore;
  /** lifecycle-sessions.log: every session started here. */
  sessions: DkgSessionRecord;
  /** lifecycle-confirmed.log: every session whose successor this party confirmed. */
  confirmed: DkgSessionRecord;
  keyOf: (partyId: string) => Uint8Array | undefined;
  now: () => Date;
  logger: Logger;
  crash: (point: CrashPoint) => void;
}

/** An event for lifecycle.log, recorded by the caller. */
export interface LifecycleEvent {
  type: LifecycleEventType;
  data: Record<string, unknown>;
}

/** Any error as the ProtocolError a lifecycle abort carries. */
export const asProtocolError = (e: unknown): ProtocolError =>
  isProtocolError(e) ? e : new ProtocolError('lifecycle_failed', (e as Error).message);

/** The operation a start begins. */
export const operationOf = (msg: StartMessage): LifecycleOperation => msg.type.slice(0, -'_start'.length) as LifecycleOperation;

/** Why an operation ends here: a ProtocolError, or a condition of this party's own (an operator's no). */
export interface AbortReason {
  code: string;
  message: string;
  culprits: readonly string[];
}

export function abortBody(keyId: string, operation: LifecycleOperation, e: AbortReason): MessageBody<'lifecycle_abort'> {
  return { keyId, operation, code: e.code, message: e.message.slice(0, 1024), culprits: [...e.culprits] };
}

/** A refused start, to the coordinator alone: it can never count as an abandonment. */
export function refusalOf(msg: StartMessage, e: AbortReason): Outgoing {
  return { type: 'lifecycle_abort', sessionId: msg.sessionId, to: COORDINATOR, body: abortBody(msg.body.keyId, operationOf(msg), e) };
}

/**
 * Checks a start and builds its machine; throws a ProtocolError (nothing started) to refuse it: a
 * session started here before (`replayed_message`, in any life of the party), another session of
 * the key running here (`runningFor`, `lifecycle_busy`), planStart's checks, and a successor of
 * the key staged here when this session would make another (`lifecycle_busy`).
 */
export function admitStart(
  d: LifecycleRuleDeps,
  msg: StartMessage,
  ctx: StartContext,
  runningFor: (keyId: string) => string | undefined,
): Plan {
  const { sessionId } = msg;
  const keyId = msg.body.keyId;
  if (d.sessions.hasStarted(sessionId)) {
    throw new ProtocolError('replayed_message', `lifecycle session ${sessionId} was started here before; a start is never replayed`);
  }
  const other = runningFor(keyId);
  if (other !== undefined) throw new ProtocolError('lifecycle_busy', `session ${other} of key ${keyId} runs here`);
  const plan = planStart(msg, ctx);
  const staged = d.keystore.successions.staged(keyId);
  if (plan.producesSuccessor && staged) {
    throw new ProtocolError('lifecycle_busy', `a successor of key ${keyId} (session ${staged.sessionId}) waits for its certificate here`);
  }
  return plan;
}

/** True when this party confirmed (or staged: a crash before the record) the session's successor. */
export const hasConfirmed = (d: LifecycleRuleDeps, sessionId: string, keyId: string): boolean =>
  d.confirmed.hasStarted(sessionId) || d.keystore.successions.staged(keyId)?.sessionId === sessionId;

/**
 * This party abandons a session it never confirmed: its signed broadcast abort tells the other
 * participants, and proves to the members that confirmed that no certificate can ever exist.
 * Undefined for a session it confirmed: that one is never abandoned.
 */
export function abandonment(
  d: LifecycleRuleDeps,
  keyId: string,
  sessionId: string,
  operation: LifecycleOperation,
  e: ProtocolError,
): { abort: Outgoing; event: LifecycleEvent } | undefined {
  if (hasConfirmed(d, sessionId, keyId)) return undefined;
  return {
    abort: { type: 'lifecycle_abort', sessionId, to: BROADCAST, body: abortBody(keyId, operation, e) },
    event: { type: 'lifecycle_aborted', data: { keyId, sessionId, operation, code: e.code, culprits: [...e.culprits] } },
  };
}

const sameShare = (a: KeyShare, b: KeyShare) => canonicalJson(encodeKeyShare(a)) === canonicalJson(encodeKeyShare(b));

/**
 * Stages the successor this party derived, with the confirmation it signed, and records the
 * confirmation: both on disk before `confirm` may leave (what it confirms it can commit, and never
 * abandons). The very same successor already staged by this session (a crash after the staging,
 * before the confirmation left) counts as staged: its confirmation is returned, the one to send.
 * Throws `successor_staged` for any other staged successor of the key.
 */
export function stageSuccessor(
  d: LifecycleRuleDeps,
  plan: Plan,
  sessionId: string,
  pending: PendingSuccessor,
  confirm: Envelope,
): Envelope {
  const successions = d.keystore.successions;
  const held = successions.staged(plan.keyId);
  let staged = confirm;
  if (held?.sessionId === sessionId && held.decided === null && held.confirm !== null && sameShare(held.share, pending.share)) {
    staged = held.confirm;
  } else {
    successions.stage({
      sessionId,
      operation: pending.operation,
      predecessor: pending.predecessor,
      predecessorKey: plan.predecessorKey,
      generation: plan.generation,
      share: pending.share,
      confirm,
    });
  }
  d.crash('lifecycle-staged');
  if (!d.confirmed.hasStarted(sessionId)) d.confirmed.recordStart(sessionId, plan.keyId, d.now());
  return staged;
}

/**
 * Stores the share a repair rebuilt for this party (keystore `storeRepaired`). The same share
 * already stored by this session (a crash after storing it, before its proof left) counts as stored.
 */
export function storeRepairedShare(d: LifecycleRuleDeps, plan: Plan, sessionId: string, share: KeyShare): LifecycleEvent {
  try {
    d.keystore.successions.storeRepaired(share, plan.generation, sessionId);
  } catch (e) {
    const stored = isPartyError(e, 'key_exists') ? d.keystore.get(share.keyId) : undefined;
    if (!stored || !sameShare(stored.share, share)) throw e;
  }
  d.crash('lifecycle-repaired');
  return {
    type: 'key_repaired',
    data: { keyId: plan.keyId, sessionId, generation: plan.generation, packageHash: keyPackageHash(share.public) },
  };
}

/**
 * A member's signed broadcast abort of a session whose successor is staged here: that member never
 * confirmed, so no certificate can exist, and the successor is discarded. Undefined (nothing
 * changed) for anything else: another session, an abort to the coordinator (a refused start), one
 * from outside the successor's committee.
 */
export function releaseAbandoned(
  d: LifecycleRuleDeps,
  msg: Of<'lifecycle_abort'>,
): { discarded: StagedSuccessor; event: LifecycleEvent } | undefined {
  const successions = d.keystore.successions;
  const staged = successions.staged(msg.body.keyId);
  if (staged?.sessionId !== msg.sessionId || msg.to !== BROADCAST) return undefined;
  if (msg.from === d.self || !staged.share.public.committee.includes(msg.from)) return undefined;
  if (!successions.discard(staged.keyId, staged.sessionId)) return undefined;
  d.logger.warn(
    { keyId: staged.keyId, sessionId: staged.sessionId, by: msg.from },
    'staged successor discarded: a new member abandoned it',
  );
  return {
    discarded: staged,
    event: {
      type: 'successor_discarded',
      data: { keyId: staged.keyId, sessionId: staged.sessionId, abandonedBy: msg.from, code: msg.body.code },
    },
  };
}

/** What a certificate did here. */
export type CertificateOutcome =
  | { kind: 'switched'; stored: StoredShare; event: LifecycleEvent }
  | { kind: 'retired'; generation: number; event: LifecycleEvent }
  | { kind: 'none' };

/** The successor as the protocol's switch takes it, from what is staged (a refresh's or a reshare's). */
const pendingOf = (st: StagedSuccessor & { operation: 'refresh' | 'reshare' }): PendingSuccessor => ({
  operation: st.operation,
  keyId: st.keyId,
  sessionId: st.sessionId,
  predecessor: st.predecessor,
  public: st.share.public,
  share: st.share,
  toJSON: () => `<staged successor of ${st.keyId} redacted>`,
});

/**
 * A successor's certificate: switches to the successor this session staged here, or, for a
 * reshare that moved the key away from this party, destroys its share; `none` when it concerns
 * nothing held here (a repeat, another session). Throws (a ProtocolError or PartyError, nothing
 * changed) when the certificate does not check out against this party's own pins and successor.
 */
export function applyCertificate(d: LifecycleRuleDeps, msg: Of<'lifecycle_complete'>): CertificateOutcome {
  const { keyId, operation, confirmations } = msg.body;
  const successions = d.keystore.successions;
  const staged = successions.staged(keyId);
  if (staged?.sessionId === msg.sessionId && staged.operation === operation && staged.decided === null) {
    activateSuccessor(pendingOf({ ...staged, operation }), { predecessor: staged.predecessorKey, confirmations, keyOf: d.keyOf });
    const stored = successions.commit(keyId, msg.sessionId, confirmations);
    d.logger.info({ keyId, sessionId: msg.sessionId, operation, generation: stored.generation }, 'switched to the successor');
    return {
      kind: 'switched',
      stored,
      event: {
        type: operation === 'refresh' ? 'key_refreshed' : 'key_reshared',
        data: { keyId, sessionId: msg.sessionId, generation: stored.generation, packageHash: keyPackageHash(stored.share.public) },
      },
    };
  }
  // The certificate of the share held now: a repeat (an offline party gets the last word in every
  // bundle until its deadline; a daemon again on reconnecting). Nothing to do, nothing wrong.
  if (d.keystore.get(keyId)?.certificate?.some((e) => e.sessionId === msg.sessionId)) return { kind: 'none' };
  return operation === 'reshare' ? retireIfResharedAway(d, msg) : { kind: 'none' };
}

/**
 * An old member the key was reshared away from: once the new committee's certificate (checked
 * against this party's own pins, succeeding the generation it holds) shows it is not a member,
 * its share is destroyed.
 */
function retireIfResharedAway(d: LifecycleRuleDeps, msg: Of<'lifecycle_complete'>): CertificateOutcome {
  const { keyId, confirmations } = msg.body;
  const stored = d.keystore.get(keyId);
  const first = messageBodySchemas.lifecycle_confirm.safeParse(confirmations[0]?.body);
  if (stored?.status !== 'active' || !first.success) return { kind: 'none' };
  const certified = verifyLifecycleCertificate(confirmations, {
    predecessor: stored.share.public,
    operation: 'reshare',
    sessionId: msg.sessionId,
    committee: Object.keys(first.data.verifyingShares).sort(),
    threshold: first.data.threshold,
    keyOf: d.keyOf,
  });
  if (certified.committee.includes(d.self)) return { kind: 'none' };
  d.keystore.successions.retire(keyId, stored.generation, msg.sessionId, d.now());
  d.logger.info({ keyId, sessionId: msg.sessionId }, 'key reshared away: share destroyed');
  return {
    kind: 'retired',
    generation: stored.generation,
    event: {
      type: 'key_retired',
      data: { keyId, sessionId: msg.sessionId, generation: stored.generation, successor: keyPackageHash(certified) },
    },
  };
}
