/**
 * The party's side of key generation: runs one protocol DKG participant per session, keeps each
 * key id to the one session that first claimed it, ends sessions on the coordinator's abort or on
 * this party's own deadline, stores the derived share (exclusively: never over another), and
 * activates it on a certificate it checked itself.
 *
 * What it refuses, and why (issue 10, item 1 — "a hostile coordinator can wipe an active key"):
 *   - a `dkg_start` for a session started here before, in this life or an earlier one
 *     (`replayed_message`; the record is dkg-sessions.log, since the replay window is in memory);
 *   - a `dkg_start` for a key id another session claimed, or whose share is stored
 *     (`dkg_key_reserved`).
 * A refusal is reported to the coordinator as a `dkg_abort` for the refused session and changes
 * nothing here. No message ever deletes a share: a pending share whose DKG failed is marked failed.
 */
import {
  COORDINATOR,
  createDkgParticipant,
  type DkgFailureCode,
  type DkgParticipant,
  type DkgStep,
  getSuite,
  type IdentityKey,
  isProtocolError,
  type Message,
  type Outgoing,
  ProtocolError,
  type Rng,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import type { CrashPoint } from '../crash-points.js';
import { isPartyError } from '../errors.js';
import type { Keystore, StoredShare } from '../keystore/keystore.js';
import type { Clock } from '../ports.js';
import { activateCertified, assertDkgStartFree, type DkgSessionRecord, failPendingShare } from './session-record.js';

type DkgStartMessage = Extract<Message, { type: 'dkg_start' }>;
type DkgCompleteMessage = Extract<Message, { type: 'dkg_complete' }>;
type DkgAbortMessage = Extract<Message, { type: 'dkg_abort' }>;

export interface DkgHandlerOptions {
  self: string;
  identity: IdentityKey;
  keystore: Keystore;
  sessions: DkgSessionRecord;
  /** Pinned identity keys (this party's configuration); undefined for a stranger. */
  keyOf: (partyId: string) => Uint8Array | undefined;
  rng: Rng;
  clock: Clock;
  /** How long a session may run here before it is abandoned. */
  deadlineMs: number;
  send: (out: Outgoing) => void;
  logger: Logger;
  crash: (point: CrashPoint) => void;
  /** A share turned active: its certificate checked out. */
  onKeyActive: (stored: StoredShare) => void;
}

export interface DkgHandler {
  onStart(msg: DkgStartMessage): void;
  /** A round-1 or round-2 message from a peer, or a `dkg_abort`. */
  onMessage(msg: Message): void;
  onComplete(msg: DkgCompleteMessage): void;
  /** Keys whose certificate this party has not seen (it asks for them on each connect). */
  pendingKeys(): string[];
  /** Ids of the sessions running here. */
  liveSessions(): string[];
  /** Ends every session (the node is stopping); their secrets are forgotten. */
  close(): void;
}

interface Session {
  keyId: string;
  sessionId: string;
  participant: DkgParticipant;
  deadline: { cancel(): void };
  shareSaved: boolean;
}

/** Messages that arrive before their session's `dkg_start` (another path overtook it), bounded. */
const MAX_EARLY = 4096;

export function createDkgHandler(o: DkgHandlerOptions): DkgHandler {
  const { keystore, logger } = o;
  const live = new Map<string, Session>();
  const early = new Map<string, Message[]>();
  let earlyCount = 0;

  function abortMessage(sessionId: string, keyId: string, code: DkgFailureCode, message: string, culprits: readonly string[]): Outgoing {
    return {
      type: 'dkg_abort',
      sessionId,
      to: COORDINATOR,
      body: { keyId, code, message: message.slice(0, 1024), culprits: [...culprits] },
    };
  }

  /** Forgets a session: its timer, its secrets, its claim on the key id (the record stays). */
  function finish(s: Session): void {
    s.deadline.cancel();
    s.participant.close();
    live.delete(s.sessionId);
  }

  function fail(s: Session, code: DkgFailureCode, message: string, culprits: readonly string[] = []): void {
    finish(s);
    logger.warn({ keyId: s.keyId, sessionId: s.sessionId, code, culprits }, 'DKG failed');
    o.send(abortMessage(s.sessionId, s.keyId, code, message, culprits));
  }

  function runStep(s: Session, step: DkgStep): void {
    if (step.share) {
      try {
        // The share is on disk (fsync'd) before our confirmation can make the key active.
        keystore.createPending(step.share);
      } catch (e) {
        // Not one byte of the confirmation leaves: the stored share, whatever it is, stays as it is.
        const reserved = isPartyError(e, 'key_exists');
        fail(
          s,
          reserved ? 'dkg_key_reserved' : 'dkg_failed',
          reserved ? `a share of key ${s.keyId} is already stored` : (e as Error).message,
        );
        return;
      }
      s.shareSaved = true;
      o.crash('dkg-share-saved');
    }
    for (const out of step.outgoing) o.send(out);
    if (step.error) fail(s, step.error.code, step.error.message, step.error.culprits);
  }

  function feed(s: Session, msg: Message): void {
    try {
      runStep(s, s.participant.receive(msg));
    } catch (e) {
      logger.warn({ sessionId: s.sessionId, from: msg.from, code: isProtocolError(e) ? e.code : 'internal' }, 'DKG message refused');
    }
  }

  const assertFree = (sessionId: string, keyId: string) =>
    assertDkgStartFree(o.sessions, keystore, sessionId, keyId, [...live.values()].find((s) => s.keyId === keyId)?.sessionId);

  function onStart(msg: DkgStartMessage): void {
    const { keyId, suite, threshold, committee } = msg.body;
    const sessionId = msg.sessionId;
    if (live.has(sessionId)) return; // the same start again, while its session runs
    let participant: DkgParticipant;
    try {
      assertFree(sessionId, keyId);
      const unpinned = committee.filter((p) => o.keyOf(p) === undefined);
      if (unpinned.length > 0) throw new ProtocolError('unknown_party', `no pinned identity key for ${unpinned.join(', ')}`);
      participant = createDkgParticipant({
        suite: getSuite(suite),
        keyId,
        sessionId,
        self: o.self,
        committee,
        threshold,
        identity: o.identity,
        peerKey: o.keyOf,
        rng: o.rng,
      });
    } catch (e) {
      const err = isProtocolError(e) ? e : new ProtocolError('dkg_failed', (e as Error).message);
      logger.warn({ keyId, sessionId, code: err.code }, 'DKG start refused');
      o.send(abortMessage(sessionId, keyId, err.code, err.message, err.culprits));
      return;
    }
    // SECURITY: on disk before round 1 leaves, so no later life of this party starts it again.
    o.sessions.recordStart(sessionId, keyId, new Date(o.clock.now()));
    const s: Session = { keyId, sessionId, participant, deadline: { cancel: () => undefined }, shareSaved: false };
    live.set(sessionId, s);
    s.deadline = o.clock.setTimeout(() => expire(s), o.deadlineMs);
    logger.info({ keyId, sessionId, suite, threshold, n: committee.length }, 'DKG started');
    runStep(s, participant.start());
    const queued = early.get(sessionId) ?? [];
    early.delete(sessionId);
    earlyCount -= queued.length;
    for (const m of queued) if (live.get(sessionId) === s) feed(s, m);
  }

  function expire(s: Session): void {
    if (live.get(s.sessionId) !== s) return;
    if (s.participant.phase === 'done') {
      // Our part is done and holds no secret; the certificate (or key_sync) settles the share.
      finish(s);
      return;
    }
    fail(s, 'dkg_timeout', `DKG session did not finish within this party's deadline of ${o.deadlineMs} ms`);
  }

  function onCoordinatorAbort(msg: DkgAbortMessage): void {
    const { keyId, code } = msg.body;
    const s = live.get(msg.sessionId);
    if (s) {
      if (s.keyId !== keyId) {
        logger.warn({ sessionId: s.sessionId, keyId }, 'dkg_abort names another key than its session; ignored');
        return;
      }
      finish(s);
      logger.warn({ keyId, sessionId: s.sessionId, code }, 'DKG aborted by the coordinator');
      if (s.shareSaved) keystore.markFailed(keyId);
      return;
    }
    // No live session: the answer to key_sync for a share whose DKG failed. Only the session that
    // made the share can fail it, and failed is not deleted: a valid certificate still activates it.
    if (failPendingShare(o.sessions, keystore, msg.sessionId, keyId))
      logger.warn({ keyId, code }, 'pending share marked failed: its DKG failed');
  }

  function onMessage(msg: Message): void {
    if (msg.type === 'dkg_abort' && msg.from === COORDINATOR) {
      onCoordinatorAbort(msg);
      return;
    }
    const s = live.get(msg.sessionId);
    if (s) {
      feed(s, msg);
      return;
    }
    // A session that ended here stays ended; others may have overtaken their dkg_start.
    if (o.sessions.hasStarted(msg.sessionId) || msg.type === 'dkg_abort' || earlyCount >= MAX_EARLY) return;
    const q = early.get(msg.sessionId) ?? [];
    q.push(msg);
    early.set(msg.sessionId, q);
    earlyCount++;
  }

  function onComplete(msg: DkgCompleteMessage): void {
    const { keyId, confirmations } = msg.body;
    if (!keystore.get(keyId)) {
      logger.warn({ keyId }, 'certificate for a key this party holds no share of');
      return;
    }
    try {
      const active = activateCertified(keystore, o.keyOf, keyId, confirmations);
      const s = live.get(msg.sessionId);
      if (s?.keyId === keyId) finish(s);
      logger.info({ keyId, publicKey: active.share.public.publicKey }, 'key active');
      o.onKeyActive(active);
    } catch (e) {
      logger.error({ keyId, code: isProtocolError(e) ? e.code : 'internal', err: (e as Error).message }, 'DKG certificate rejected');
    }
  }

  return {
    onStart,
    onMessage,
    onComplete,
    pendingKeys: () =>
      keystore
        .usable()
        .shares.filter((s) => s.status === 'pending')
        .map((s) => s.share.keyId),
    liveSessions: () => [...live.keys()],
    close() {
      for (const s of [...live.values()]) finish(s);
    },
  };
}
