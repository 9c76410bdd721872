/**
 * The offline party's side of key generation: the same protocol DKG participant as the daemon's
 * (dkg/dkg-handler.ts), with the same refusals, driven by bundles. A DKG takes several trips to the
 * vault, so what a daemon keeps in memory between rounds is kept here, sealed at rest under the
 * keystore's master key: `dkg-offline/<session>.json` holds the participant's snapshot (its
 * polynomial, or the share it dealt itself) and the envelopes it sent.
 *
 * Order within one run, for each session (crash safety; docs/offline.md):
 *   start recorded in dkg-sessions.log (fsync) → round 1 computed → the share, once derived, stored
 *   exclusively (fsync) → the state file replaced (atomic) → the caller writes the answer bundle →
 *   the caller records the request bundle as handled.
 * A crash before the state file is written leaves the session started but stateless: the same
 * `dkg_start` again is refused (`replayed_message`) and the DKG aborts; never a second polynomial.
 * A crash after it replays the same bundle onto the saved state, and every envelope the session
 * ever sent goes out again, byte for byte (the coordinator relays each once), so a lost answer is
 * made good by the next trip. A share derived again after a crash is the one already stored.
 *
 * The state is deleted (durably) when the DKG ends here: certificate, abort, failure or this
 * party's own deadline. Once this party's part is done (confirmation made) it holds no secret and
 * only waits for the certificate, to re-send the confirmation if asked.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  COORDINATOR,
  createDkgParticipant,
  type DkgFailureCode,
  type DkgParticipant,
  type DkgSnapshot,
  type DkgStep,
  type Envelope,
  envelopeSchema,
  getSuite,
  type IdentityKey,
  isProtocolError,
  type KeyShare,
  type Message,
  messageBodySchemas,
  type Outgoing,
  ProtocolError,
  type Rng,
  sessionIdSchema,
  suiteIdSchema,
  toHex,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CrashPoint } from '../crash-points.js';
import { activateCertified, assertDkgStartFree, type DkgSessionRecord, failPendingShare } from '../dkg/session-record.js';
import { PartyError } from '../errors.js';
import { removeFileDurably, removeTempFiles, writeFileAtomic } from '../fs-atomic.js';
import type { Keystore } from '../keystore/keystore.js';
import type { Clock } from '../ports.js';

export const OFFLINE_DKG_DIR = 'dkg-offline';

const scalarHex = z.string().regex(/^(?:[0-9a-f]{2}){16,64}$/);
const snapshotSchema = z.strictObject({
  phase: z.enum(['round1', 'round2']),
  round1: z.record(z.string(), messageBodySchemas.dkg_round1),
  round2: z.record(z.string(), messageBodySchemas.dkg_round2),
  coefficients: z.array(scalarHex).optional(),
  ownShare: scalarHex.optional(),
});
const stateSchema = z.strictObject({
  v: z.literal(1),
  sessionId: sessionIdSchema,
  keyId: sessionIdSchema,
  suite: suiteIdSchema,
  threshold: z.number().int().positive(),
  committee: z.array(z.string()).min(1),
  /** When this party joined (ms): its deadline counts from here. */
  startedAt: z.number().int().nonnegative(),
  /** SECRET while set. Null once this party's part is done (confirmation made). */
  snapshot: snapshotSchema.nullable(),
  /** Every envelope this party sent in the session, in order: sent again on every later trip. */
  sent: z.array(envelopeSchema),
});
type SessionState = z.infer<typeof stateSchema>;

/** What the operator is asked to join: what THIS party read from the start and its own pinned keys. */
export interface DkgJoinView {
  keyId: string;
  sessionId: string;
  suite: string;
  threshold: number;
  /** Each member with the identity key this party pinned for it (never the coordinator's word). */
  committee: { partyId: string; identityKey: string | null; self: boolean }[];
}

/** What happened to one DKG session in a run. */
export interface OfflineDkgResult {
  kind: 'dkg';
  keyId: string;
  sessionId: string;
  /**
   * joined: round 1 made (and round 2, when every round-1 package came along); waiting: more of
   * the others' messages needed; confirmed: share stored, confirmation made; active: certificate
   * checked, share active; failed / refused / declined: see `code`.
   */
  status: 'joined' | 'waiting' | 'confirmed' | 'active' | 'failed' | 'refused' | 'declined';
  code?: string;
  publicKey?: string;
}

export interface OfflineDkgOptions {
  self: string;
  identity: IdentityKey;
  keystore: Keystore;
  sessions: DkgSessionRecord;
  /** Pinned identity keys (the coordinator's, the peers', this party's own). */
  keyOf: (name: string) => Uint8Array | undefined;
  rng: Rng;
  clock: Clock;
  /** `dkg.offlineDeadlineMs`. */
  deadlineMs: number;
  logger: Logger;
  crash: (point: CrashPoint) => void;
}

export interface OfflineDkg {
  /**
   * Handles the DKG messages of one bundle (authenticated, in bundle order). `seal` seals this
   * run's envelopes; `confirm` is asked before joining a new DKG. Returns the envelopes for the
   * answer bundle. Every state change is on disk when it resolves.
   */
  process(
    msgs: readonly Message[],
    seal: (out: Outgoing) => Envelope,
    confirm: (view: DkgJoinView) => Promise<boolean>,
  ): Promise<{ envelopes: Envelope[]; results: OfflineDkgResult[] }>;
  /** Sessions whose state is kept here. */
  sessions(): string[];
}

const DKG_TYPES: ReadonlySet<string> = new Set(['dkg_start', 'dkg_round1', 'dkg_round2', 'dkg_complete', 'dkg_abort']);
/** True for a message the offline DKG handles. */
export const isDkgMessage = (m: Message): boolean => DKG_TYPES.has(m.type);

export function openOfflineDkg(o: OfflineDkgOptions): OfflineDkg {
  const { keystore, logger } = o;
  const dir = join(keystore.dataDir, OFFLINE_DKG_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  removeTempFiles(dir);
  const fileOf = (sessionId: string) => {
    // Session ids reach file names: only the characters a session id may hold.
    if (!sessionIdSchema.safeParse(sessionId).success) throw new RangeError('invalid DKG session id');
    return join(dir, `${sessionId}.json`);
  };
  const purposeOf = (sessionId: string) => `dkg-offline:${sessionId}`;

  function load(sessionId: string): SessionState | undefined {
    const path = fileOf(sessionId);
    if (!existsSync(path)) return undefined;
    const parsed = stateSchema.safeParse(JSON.parse(keystore.openSealedFile(path, purposeOf(sessionId))));
    if (!parsed.success || parsed.data.sessionId !== sessionId)
      throw new PartyError('corrupt_file', `${path}: not this DKG session's state; delete it to abort the session`);
    return parsed.data;
  }
  const save = (s: SessionState) => writeFileAtomic(fileOf(s.sessionId), keystore.sealText(purposeOf(s.sessionId), s));
  const remove = (sessionId: string) => {
    const path = fileOf(sessionId);
    if (existsSync(path)) removeFileDurably(path);
  };
  const stored = () =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length));

  const abortOf = (sessionId: string, keyId: string, code: DkgFailureCode, message: string, culprits: readonly string[]): Outgoing => ({
    type: 'dkg_abort',
    sessionId,
    to: COORDINATOR,
    body: { keyId, code, message: message.slice(0, 1024), culprits: [...culprits] },
  });

  function participantOf(s: SessionState, resume?: DkgSnapshot): DkgParticipant {
    return createDkgParticipant({
      suite: getSuite(s.suite),
      keyId: s.keyId,
      sessionId: s.sessionId,
      self: o.self,
      committee: s.committee,
      threshold: s.threshold,
      identity: o.identity,
      peerKey: o.keyOf,
      rng: o.rng,
      ...(resume ? { resume } : {}),
    });
  }

  /** Stores the derived share exclusively; the very same share already stored (a crash after it was saved) counts as saved. */
  function saveShare(share: KeyShare): void {
    const existing = keystore.get(share.keyId);
    if (existing?.status === 'pending' && existing.share.toJSON() === share.toJSON()) return;
    keystore.createPending(share);
  }

  async function process(
    msgs: readonly Message[],
    seal: (out: Outgoing) => Envelope,
    confirm: (view: DkgJoinView) => Promise<boolean>,
  ): Promise<{ envelopes: Envelope[]; results: OfflineDkgResult[] }> {
    const envelopes: Envelope[] = [];
    const results: OfflineDkgResult[] = [];
    const now = o.clock.now();

    /** Ends a session here: its state deleted, its pending share (if any) failed, an abort to the coordinator. */
    function fail(s: Pick<SessionState, 'sessionId' | 'keyId'>, code: DkgFailureCode, message: string, culprits: readonly string[] = []) {
      remove(s.sessionId);
      failPendingShare(o.sessions, keystore, s.sessionId, s.keyId);
      logger.warn({ keyId: s.keyId, sessionId: s.sessionId, code, culprits }, 'DKG failed');
      envelopes.push(seal(abortOf(s.sessionId, s.keyId, code, message, culprits)));
      results.push({ kind: 'dkg', keyId: s.keyId, sessionId: s.sessionId, status: 'failed', code });
    }

    // This party's own deadline, whatever the coordinator says (and whether or not it says anything).
    for (const sessionId of stored()) {
      const s = load(sessionId);
      if (!s || now <= s.startedAt + o.deadlineMs) continue;
      if (s.snapshot === null)
        remove(sessionId); // done here, nothing secret: the certificate still activates the share
      else fail(s, 'dkg_timeout', `DKG session did not finish within this party's offline deadline of ${o.deadlineMs} ms`);
    }

    /** A new session: checks, the operator's yes, the start on record, round 1. */
    async function join(start: Extract<Message, { type: 'dkg_start' }>): Promise<{ s: SessionState; p: DkgParticipant } | undefined> {
      const { keyId, suite, threshold, committee } = start.body;
      const s: SessionState = {
        v: 1,
        sessionId: start.sessionId,
        keyId,
        suite,
        threshold,
        committee,
        startedAt: now,
        snapshot: null,
        sent: [],
      };
      let p: DkgParticipant;
      try {
        assertDkgStartFree(o.sessions, keystore, s.sessionId, keyId);
        const unpinned = committee.filter((m) => o.keyOf(m) === undefined);
        if (unpinned.length > 0) throw new ProtocolError('unknown_party', `no pinned identity key for ${unpinned.join(', ')}`);
        p = participantOf(s);
      } catch (e) {
        const err = isProtocolError(e) ? e : new ProtocolError('dkg_failed', (e as Error).message);
        logger.warn({ keyId, sessionId: s.sessionId, code: err.code }, 'DKG start refused');
        envelopes.push(seal(abortOf(s.sessionId, keyId, err.code, err.message, err.culprits)));
        results.push({ kind: 'dkg', keyId, sessionId: s.sessionId, status: 'refused', code: err.code });
        return undefined;
      }
      const view: DkgJoinView = {
        keyId,
        sessionId: s.sessionId,
        suite,
        threshold,
        committee: committee.map((m) => {
          const k = o.keyOf(m);
          return { partyId: m, identityKey: k ? toHex(k) : null, self: m === o.self };
        }),
      };
      if (!(await confirm(view))) {
        p.close();
        envelopes.push(seal(abortOf(s.sessionId, keyId, 'dkg_declined', `${o.self}'s operator declined to join`, [])));
        results.push({ kind: 'dkg', keyId, sessionId: s.sessionId, status: 'declined', code: 'dkg_declined' });
        return undefined;
      }
      // SECURITY: on disk before round 1 can leave, so no later run starts this session again.
      o.sessions.recordStart(s.sessionId, keyId, new Date(now));
      o.crash('dkg-start-recorded');
      return { s, p };
    }

    /** Applies one step: the share on disk first, then its messages; false when the session failed. */
    function apply(s: SessionState, step: DkgStep): boolean {
      if (step.share) {
        try {
          saveShare(step.share);
        } catch (e) {
          const reserved = e instanceof PartyError && e.code === 'key_exists';
          fail(
            s,
            reserved ? 'dkg_key_reserved' : 'dkg_failed',
            reserved ? `a share of key ${s.keyId} is already stored` : (e as Error).message,
          );
          return false;
        }
        o.crash('dkg-share-saved');
      }
      for (const out of step.outgoing) s.sent.push(seal(out));
      if (!step.error) return true;
      fail(s, step.error.code, step.error.message, step.error.culprits);
      return false;
    }

    async function session(sessionId: string, list: readonly Message[]): Promise<void> {
      const fromCoordinator = <T extends Message['type']>(type: T) =>
        list.find((m): m is Extract<Message, { type: T }> => m.type === type && m.from === COORDINATOR);
      const complete = fromCoordinator('dkg_complete');
      const abort = fromCoordinator('dkg_abort');
      const keyId = (complete ?? abort)?.body.keyId;
      if (complete) {
        remove(sessionId);
        try {
          const active = activateCertified(keystore, o.keyOf, complete.body.keyId, complete.body.confirmations);
          logger.info({ keyId, publicKey: active.share.public.publicKey }, 'key active');
          results.push({ kind: 'dkg', keyId: complete.body.keyId, sessionId, status: 'active', publicKey: active.share.public.publicKey });
        } catch (e) {
          const code = isProtocolError(e) ? e.code : 'dkg_failed';
          logger.error({ keyId, code }, 'DKG certificate rejected');
          results.push({ kind: 'dkg', keyId: complete.body.keyId, sessionId, status: 'failed', code });
        }
        return;
      }
      if (abort) {
        const had = load(sessionId);
        if (had && had.keyId !== abort.body.keyId) return; // names another key than its session: ignored
        remove(sessionId);
        failPendingShare(o.sessions, keystore, sessionId, abort.body.keyId);
        results.push({ kind: 'dkg', keyId: abort.body.keyId, sessionId, status: 'failed', code: abort.body.code });
        return;
      }
      let s = load(sessionId);
      let p: DkgParticipant | undefined;
      let joined = false;
      const start = fromCoordinator('dkg_start');
      if (!s) {
        if (!start) return; // round messages of a session this party does not run (any more)
        const j = await join(start);
        if (!j) return;
        ({ s, p } = j);
        joined = true;
        if (!apply(s, p.start())) return;
      } else if (s.snapshot !== null) {
        try {
          p = participantOf(s, s.snapshot as DkgSnapshot);
        } catch (e) {
          fail(s, isProtocolError(e) ? e.code : 'dkg_failed', `this party's saved DKG state does not resume: ${(e as Error).message}`);
          return;
        }
      }
      if (p) {
        for (const m of list) {
          if (m.type !== 'dkg_round1' && m.type !== 'dkg_round2') continue;
          let step: DkgStep;
          try {
            step = p.receive(m);
          } catch (e) {
            logger.warn({ sessionId, from: m.from, code: isProtocolError(e) ? e.code : 'internal' }, 'DKG message refused');
            continue;
          }
          if (!apply(s, step)) return;
        }
        s.snapshot = (p.snapshot() as SessionState['snapshot'] | undefined) ?? null;
        p.close();
      }
      save(s);
      o.crash('dkg-state-saved');
      envelopes.push(...s.sent);
      const status = s.snapshot === null ? 'confirmed' : joined ? 'joined' : 'waiting';
      results.push({ kind: 'dkg', keyId: s.keyId, sessionId, status });
    }

    const bySession = new Map<string, Message[]>();
    for (const m of msgs) bySession.set(m.sessionId, [...(bySession.get(m.sessionId) ?? []), m]);
    for (const [sessionId, list] of bySession) await session(sessionId, list);
    return { envelopes, results };
  }

  return { process, sessions: stored };
}
