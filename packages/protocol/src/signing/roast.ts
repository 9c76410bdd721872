/**
 * The coordinator side of ROAST (Ruffing et al., "ROAST: Robust Asynchronous Schnorr Threshold
 * Signatures", CCS 2022) for one signing request, sans-IO, over the FROST aggregator.
 *
 * A party is *ready* when the coordinator holds a fresh commitment of it. Whenever t parties are
 * ready, a session starts with them; sessions run concurrently. A party that answers with a valid
 * share sends a fresh commitment along and is ready again at once, so a silent party can stall
 * only the session it is in, never the request. The first valid aggregate ends the request.
 *
 * What a party's answer to a session means (outcome.ts holds the codes):
 * - **blame** — only a provably invalid share (RFC 9591 §5.4) or an invalid commitment: the party
 *   is excluded from the request (`exclude`, `party_excluded` in the audit log);
 * - **refusal** — a policy code or `wrong_key`: the party's own decision; it is excluded without
 *   blame (`policy_refusal`), and refusals that leave fewer than t parties reject the request;
 * - **withdrawal** — any other `sign_refused` (a restarted party that forgot its nonce answers
 *   `unknown_commitment`, a resent package it already signed gets `nonce_reused`): the session
 *   cannot finish, nobody is blamed;
 * - **silence** — slowness, a cut link or a closed connection: the party stays in its session
 *   (`unavailable` only stops it being ready) and, when it connects again, is sent the package
 *   again (`available`), since its nonce lives in its process, not in the connection.
 *
 * Liveness (the paper's argument, kept true with withdrawals). Every failed session holds a party
 * that did not answer it with a valid share. In the paper that party stays in the session for good
 * or is excluded, so each of the at most n − t faulty parties spoils at most one session, and
 * n − t + 1 sessions are enough. A withdrawal frees its party again, which would let one party
 * spoil every session (issue 10, item 3). So each party has a withdrawal budget per request
 * (WITHDRAWALS_PER_PARTY): a withdrawal within budget *refunds* its session (it does not count
 * towards the bound), and a withdrawal beyond it *benches* the party — out of this request, no
 * blame, like a party that never answers. A party is also released, without refund, from a session
 * that someone else already ended (it withdraws from it, or connects again). Then every counted
 * failed session is owned by a distinct party that ended there for good: excluded in it, benched in
 * it, or silent in a session that is still open. With at most n − t faulty parties at most n − t
 * counted sessions fail, so with t honest parties the request completes within n − t + 1 counted
 * sessions, n − t + 1 + n·WITHDRAWALS_PER_PARTY in all. Only blame and refusals exclude; the
 * request fails early only when fewer than t parties are neither excluded nor benched.
 *
 * One session signs every message of the request's intent (a PSBT with k listed inputs yields k
 * sighashes): a party is ready when it holds `width` fresh commitments, one per message, and its
 * answer carries one share per message; the request completes with all k signatures or none.
 *
 * Commitments come in parsed (the driver parses each where it enters the coordinator, and feeds
 * `invalid_commitment` for one that fails) and go to the session's aggregator as they are; only the
 * `next` commitment that arrives with a share is parsed here. With a `KeyCache` the key is decoded
 * once across requests.
 *
 * Aggregation — the one heavy computation — may run elsewhere (`deferAggregation`): when a
 * session's last share is in, ROAST asks for it as an action (`aggregate`, with the job as plain
 * data) and goes on when the verdict comes back (`aggregated`). It decides on that verdict exactly
 * as on its own (aggregation-job.ts `sessionVerdict` either way): completed, or the cheaters
 * blamed and the last signer ready again. Meanwhile no other session starts, as none could
 * between a session's last share and its inline verdict.
 */

import { fromHex } from '../bytes.js';
import { type Committee, makeCommittee } from '../committee.js';
import { ProtocolError } from '../errors.js';
import { createKeyCache, type KeyCache, type NonceCommitment, parseNonceCommitment } from '../fast/index.js';
import { signingMessages } from '../intent/interpret.js';
import type { Intent } from '../intent/schema.js';
import type { PublicKeyPackage } from '../keys.js';
import { getSuite } from '../suites.js';
import type { Approval, CommitmentSetWire, MessageBody } from '../wire/messages.js';
import type { AggregationJob, AggregationVerdict } from './aggregation-job.js';
import { type Aggregator, createAggregator } from './aggregator.js';
import { commitmentsOf } from './commitment-set.js';
import type { BlameCode, ExclusionCode, PolicyRefusalCode } from './outcome.js';

/**
 * Withdrawals a party may make per request before it is benched. One covers an honest party that
 * restarted (it forgot its nonces) or lost a share on a dropped link; more than one in a request
 * only a faulty (or very unlucky) party needs, and each one costs the request a session.
 */
export const WITHDRAWALS_PER_PARTY = 1;

export type RoastInput =
  /**
   * Fresh commitments from `from`, one per message (`width`): the answer to a commit request, or
   * preprocessed ones.
   */
  | { type: 'commitment'; from: string; commitments: readonly NonceCommitment[] }
  /** `from` sent a commitment that is not a valid group element (checked where it arrived). */
  | { type: 'invalid_commitment'; from: string; reason: string }
  /** Signature shares for `sessionId`, one per message, with the signer's next commitments. */
  | { type: 'share'; from: string; sessionId: string; shares: readonly string[]; next: CommitmentSetWire | null }
  /** `from` will not sign this request: its own policy said no, or it holds no share of the key. */
  | { type: 'refused'; from: string; sessionId: string; code: PolicyRefusalCode; message: string }
  /** `from` could not use the commitment it was given in `sessionId` (a withdrawal, see above). */
  | { type: 'withdrawn'; from: string; sessionId: string }
  /** `party` lost its connection: it stops being ready; a session it is in waits for it. */
  | { type: 'unavailable'; party: string }
  /** `party` connected again: it is sent the package of the open session it owes a share for. */
  | { type: 'available'; party: string }
  /** The request's deadline passed. */
  | { type: 'deadline' }
  /** A `wake_at` the driver was asked for has come. */
  | { type: 'tick' }
  /** The verdict on an `aggregate` this run asked for (`deferAggregation`). */
  | { type: 'aggregated'; sessionId: string; verdict: AggregationVerdict }
  /** The driver has sent a session's package (`prepare_session`): compute what its shares will be checked against. */
  | { type: 'prepare_session'; sessionId: string };

export type RoastAction =
  /** Send `pkg` to `to` (a new session, or the package again to a party that reconnected). */
  | { type: 'send_package'; sessionId: string; to: readonly string[]; pkg: MessageBody<'signing_package'> }
  | { type: 'exclude'; party: string; code: ExclusionCode; reason: string }
  /** One signature per message, in message order. */
  | { type: 'completed'; sessionId: string; signatures: readonly Uint8Array[]; signers: readonly string[] }
  | { type: 'failed'; code: 'insufficient_parties' | 'rejected'; message: string }
  /** Feed a `tick` at (or after) this time. */
  | { type: 'wake_at'; at: number }
  /** Run `job` (`runAggregationJob`, on any thread) and feed its verdict back as `aggregated`. */
  | { type: 'aggregate'; sessionId: string; job: AggregationJob }
  /**
   * Once the session's package has left, feed `prepare_session` back: the session's arithmetic
   * (binding factors, group commitment, challenge) is then done while the signers sign, not before
   * the package goes (it was 3 ms of the coordinator's critical path per secp256k1-tr signature).
   * A driver that never feeds it loses nothing but time: the arithmetic is done at the last share.
   */
  | { type: 'prepare_session'; sessionId: string };

/**
 * Where a committee member stands in this request: without a commitment (`idle`), holding a
 * fresh one (`ready`), owing a share to a session or having sent the share whose session's
 * aggregate is out (`signing`: its next commitment comes with the verdict), out for good without
 * blame (`benched`: withdrew beyond its budget) or excluded (blame or refusal).
 */
export type RoastPartyPhase = 'idle' | 'ready' | 'signing' | 'benched' | 'excluded';

export interface RoastOptions {
  key: PublicKeyPackage;
  requestId: string;
  /**
   * What to sign. Its messages (`signingMessages`) are derived once, here: throws the intent's
   * ProtocolError (`intent_wrong_suite`, `psbt_*`) for an intent this key cannot sign.
   */
  intent: Intent;
  context?: unknown;
  approvals?: Approval[];
  /** Names the n-th session of this request (a driver-chosen unique id). */
  sessionId: (n: number) => string;
  /**
   * While a session younger than this is still open, enough ready parties do not start another
   * one yet (0: start at once, as in the paper). On the happy path with n > t this saves a
   * redundant session per request; liveness is unchanged, a stall costs at most this much more.
   */
  sessionGraceMs?: number;
  /**
   * Replaces `sessionGraceMs` with a grace of the driver's: the time (the driver's clock) until
   * which `session`, open and still waiting for the shares of `waiting`, holds back another one.
   * Asked again on every input (a hold may move as the driver learns more); a `wake_at` is asked
   * for the earliest hold still ahead. Liveness needs every hold bounded (a stall then costs at
   * most that bound).
   */
  sessionHold?: (session: OpenSession, now: number) => number;
  /** Prepared keys to reuse across requests (owned by the driver); default: one for this request. */
  keys?: KeyCache;
  /** Ask for each session's aggregation as an `aggregate` action instead of computing it here. */
  deferAggregation?: boolean;
}

/** An open session as `sessionHold` sees it. */
export interface OpenSession {
  readonly sessionId: string;
  /** When it started (the driver's clock). */
  readonly startedAt: number;
  /** Its signers that still owe it a share. */
  readonly waiting: readonly string[];
}

type Session = {
  aggregator: Aggregator;
  signers: readonly string[];
  pkg: MessageBody<'signing_package'>;
  open: boolean;
  startedAt: number;
  /** All shares are in and its aggregation was asked for: who sent the last one, and its next. */
  awaiting?: { from: string; next: CommitmentSetWire | null } | undefined;
};

export interface RoastCoordinator {
  readonly phase: 'running' | 'completed' | 'failed';
  /** Messages per session: a ready party holds this many commitments, a share message carries this many shares. */
  readonly width: number;
  /** Parties currently ready (holding a fresh commitment). */
  readonly ready: readonly string[];
  /** Sessions started so far (refunded ones included). */
  readonly sessionsStarted: number;
  /** Parties excluded from this request, with why. */
  readonly excluded: ReadonlyMap<string, string>;
  /** Parties benched for this request: they withdrew beyond their budget (not blame). */
  readonly benched: ReadonlySet<string>;
  /**
   * Commitments held for ready parties: never put into a signing package, so still unused. A
   * driver may hand them to another request once this one has ended.
   */
  readonly unusedCommitments: ReadonlyMap<string, readonly NonceCommitment[]>;
  /** Where `party` stands (a non-member is `excluded`). */
  partyPhase(party: string): RoastPartyPhase;
  /** Feeds one input at time `now` (ms; the driver's clock); returns what to do, in order. */
  handle(input: RoastInput, now?: number): RoastAction[];
}

export function createRoastCoordinator(o: RoastOptions): RoastCoordinator {
  const suite = getSuite(o.key.suite);
  const committee: Committee = makeCommittee(suite, o.key.committee, o.key.threshold);
  const t = committee.threshold;
  const n = committee.members.length;
  const maxCountedSessions = n - t + 1;
  const messages = signingMessages(o.intent, { keyId: o.key.keyId, suite: o.key.suite, publicKey: fromHex(o.key.publicKey) });
  if (messages.some((m) => m.length === 0)) throw new ProtocolError('empty_message', 'refusing to sign an empty message');
  const width = messages.length;

  let phase: RoastCoordinator['phase'] = 'running';
  const ready = new Map<string, readonly NonceCommitment[]>(); // insertion order = readiness order
  const inSession = new Map<string, string>(); // party → session it has yet to answer
  const excluded = new Map<string, string>();
  const benched = new Set<string>();
  const withdrawals = new Map<string, number>();
  const refusedBy = new Set<string>();
  const sessions = new Map<string, Session>();
  let started = 0;
  let refunded = 0;
  let now = 0;
  let wakeAt: number | undefined;
  const grace = o.sessionGraceMs ?? 0;
  // Every session of the request signs under the same key: decode it once at least.
  const keys = o.keys ?? createKeyCache(1);

  function exclude(party: string, code: ExclusionCode, reason: string, out: RoastAction[]): void {
    if (excluded.has(party)) return;
    excluded.set(party, reason);
    ready.delete(party);
    inSession.delete(party);
    out.push({ type: 'exclude', party, code, reason });
  }

  function blame(party: string, code: BlameCode, reason: string, out: RoastAction[]): void {
    exclude(party, code, reason, out);
  }

  function checkViability(out: RoastAction[]): void {
    if (phase !== 'running') return;
    if (n - excluded.size - benched.size >= t) return;
    phase = 'failed';
    const rejected = refusedBy.size > 0;
    out.push({
      type: 'failed',
      code: rejected ? 'rejected' : 'insufficient_parties',
      message: rejected
        ? `${refusedBy.size} of ${n} parties refused to sign (${[...refusedBy].join(', ')}); threshold is ${t}`
        : `${excluded.size} of ${n} parties excluded and ${benched.size} withdrew for good; fewer than ${t} can sign`,
    });
  }

  function maybeStartSession(out: RoastAction[]): void {
    if (phase !== 'running' || ready.size < t || started - refunded >= maxCountedSessions) return;
    // A session whose aggregation is out may complete the request: inline, nothing could start
    // between its last share and its verdict, and nothing does here.
    for (const s of sessions.values()) if (s.awaiting) return;
    // An open session within its grace holds back another; the earliest hold to end is checked first.
    let held = Number.POSITIVE_INFINITY;
    for (const [sessionId, s] of sessions) {
      if (!s.open) continue;
      const until = holdOf(sessionId, s);
      if (until > now && until < held) held = until;
    }
    if (held !== Number.POSITIVE_INFINITY) {
      if (wakeAt !== held) {
        wakeAt = held;
        out.push({ type: 'wake_at', at: held });
      }
      return;
    }
    const signers = [...ready.keys()].slice(0, t);
    const aggregator = createAggregator({
      key: o.key,
      requestId: o.requestId,
      intent: o.intent,
      messages,
      ...(o.context === undefined ? {} : { context: o.context }),
      ...(o.approvals === undefined ? {} : { approvals: o.approvals }),
      keys,
      ...(o.deferAggregation ? { deferred: true } : {}),
    });
    for (const p of signers) aggregator.addCommitment(p, ready.get(p) as readonly NonceCommitment[]);
    const pkg = aggregator.buildPackage(signers);
    const sessionId = o.sessionId(started++);
    sessions.set(sessionId, { aggregator, signers, pkg, open: true, startedAt: now });
    for (const p of signers) {
      ready.delete(p);
      inSession.set(p, sessionId);
    }
    out.push({ type: 'send_package', sessionId, to: signers, pkg });
    if (!o.deferAggregation) out.push({ type: 'prepare_session', sessionId });
  }

  function holdOf(sessionId: string, s: Session): number {
    if (o.sessionHold === undefined) return s.startedAt + grace;
    const waiting = s.signers.filter((p) => inSession.get(p) === sessionId);
    return o.sessionHold({ sessionId, startedAt: s.startedAt, waiting }, now);
  }

  function becomeReady(party: string, cs: readonly NonceCommitment[], out: RoastAction[]): void {
    if (excluded.has(party) || benched.has(party) || inSession.has(party)) return;
    const wrong = cs.find((c) => c.suite !== suite.id);
    if (wrong) {
      blame(party, 'invalid_point', `invalid commitment: a ${wrong.suite} commitment for a ${suite.id} key`, out);
      return;
    }
    if (cs.length !== width) {
      blame(party, 'invalid_point', `invalid commitment: ${cs.length} commitment(s) for ${width} message(s)`, out);
      return;
    }
    ready.set(party, cs);
  }

  /** The commitments a share came with, parsed here: this is where they enter. */
  function becomeReadyWith(party: string, next: CommitmentSetWire | null, out: RoastAction[]): void {
    if (next === null || excluded.has(party) || benched.has(party) || inSession.has(party)) return;
    let cs: NonceCommitment[];
    try {
      cs = commitmentsOf(next).map((c) => parseNonceCommitment(suite, c, party));
    } catch (e) {
      blame(party, 'invalid_point', `invalid commitment: ${(e as Error).message}`, out);
      return;
    }
    becomeReady(party, cs, out);
  }

  function onShare(input: Extract<RoastInput, { type: 'share' }>, out: RoastAction[]): void {
    const s = sessions.get(input.sessionId);
    if (!s?.signers.includes(input.from) || inSession.get(input.from) !== input.sessionId) return;
    inSession.delete(input.from);
    if (s.open) {
      let complete: boolean;
      try {
        complete = s.aggregator.addShare(input.from, input.shares);
      } catch (e) {
        s.open = false;
        blame(input.from, 'invalid_signature_share', (e as Error).message, out);
        return;
      }
      if (complete) {
        s.open = false;
        if (o.deferAggregation) {
          s.awaiting = { from: input.from, next: input.next };
          out.push({ type: 'aggregate', sessionId: input.sessionId, job: s.aggregator.job() });
        } else {
          conclude(input.sessionId, s, () => s.aggregator.finish(), input.from, input.next, out);
        }
        return;
      }
    }
    becomeReadyWith(input.from, input.next, out);
  }

  /**
   * A session's aggregate, computed here or elsewhere: the request completes, or each cheater is
   * blamed and the signer whose share completed the session is ready again. On completion that
   * signer's next commitment is fresh and unused: it joins `unusedCommitments` (a driver may pool it).
   */
  function conclude(
    sessionId: string,
    s: Session,
    finish: () => Uint8Array[],
    from: string,
    next: CommitmentSetWire | null,
    out: RoastAction[],
  ): void {
    try {
      const signatures = finish();
      phase = 'completed';
      keepUnused(from, next);
      out.push({ type: 'completed', sessionId, signatures, signers: s.signers });
      return;
    } catch (e) {
      const culprits = e instanceof ProtocolError ? e.culprits : [];
      for (const c of culprits) blame(c, 'invalid_signature_share', `invalid signature share in session ${sessionId}`, out);
    }
    becomeReadyWith(from, next, out);
  }

  /** The commitments that came with the share ending the request: kept as unused if they are valid. */
  function keepUnused(party: string, next: CommitmentSetWire | null): void {
    if (next === null) return;
    try {
      const cs = commitmentsOf(next).map((c) => parseNonceCommitment(suite, c, party));
      if (cs.length === width) ready.set(party, cs);
    } catch {
      // The request is over: there is nothing left to exclude the party from.
    }
  }

  function onAggregated(input: Extract<RoastInput, { type: 'aggregated' }>, out: RoastAction[]): void {
    const s = sessions.get(input.sessionId);
    if (!s?.awaiting) return;
    const { from, next } = s.awaiting;
    s.awaiting = undefined;
    conclude(input.sessionId, s, () => s.aggregator.conclude(input.verdict), from, next, out);
  }

  function onWithdrawn(party: string, sessionId: string): void {
    const s = sessions.get(sessionId);
    if (!s || inSession.get(party) !== sessionId) return;
    inSession.delete(party);
    // Leaving a session someone else already ended costs nothing: that session is owned by them.
    if (!s.open) return;
    s.open = false;
    const used = withdrawals.get(party) ?? 0;
    if (used < WITHDRAWALS_PER_PARTY) {
      withdrawals.set(party, used + 1);
      refunded++;
    } else {
      benched.add(party);
    }
  }

  function onAvailable(party: string, out: RoastAction[]): void {
    const sessionId = inSession.get(party);
    const s = sessionId === undefined ? undefined : sessions.get(sessionId);
    if (sessionId === undefined || !s) return;
    // The package may have gone down the dead link; the party still holds the nonce (or answers
    // with a withdrawal if it restarted). A session already ended needs nothing from it.
    if (s.open) out.push({ type: 'send_package', sessionId, to: [party], pkg: s.pkg });
    else inSession.delete(party);
  }

  return {
    get phase() {
      return phase;
    },
    width,
    get ready() {
      return [...ready.keys()];
    },
    get sessionsStarted() {
      return started;
    },
    get excluded() {
      return excluded;
    },
    get benched() {
      return benched;
    },
    get unusedCommitments() {
      return ready;
    },
    partyPhase(party) {
      if (excluded.has(party) || !committee.has(party)) return 'excluded';
      if (benched.has(party)) return 'benched';
      if (inSession.has(party)) return 'signing';
      if (ready.has(party)) return 'ready';
      // Not idle: a commitment given to it now would be overwritten by the one the verdict brings.
      for (const s of sessions.values()) if (s.awaiting?.from === party) return 'signing';
      return 'idle';
    },
    handle(input, at) {
      if (at !== undefined) now = at;
      const out: RoastAction[] = [];
      if (phase !== 'running') return out;
      switch (input.type) {
        case 'commitment':
          if (committee.has(input.from)) becomeReady(input.from, input.commitments, out);
          break;
        case 'invalid_commitment':
          if (committee.has(input.from)) blame(input.from, 'invalid_point', `invalid commitment: ${input.reason}`, out);
          break;
        case 'share':
          onShare(input, out);
          break;
        case 'refused': {
          const s = sessions.get(input.sessionId);
          if (!s?.signers.includes(input.from)) break;
          s.open = false; // this session can no longer complete
          refusedBy.add(input.from);
          exclude(input.from, input.code, `refused: ${input.message}`, out);
          break;
        }
        case 'withdrawn':
          onWithdrawn(input.from, input.sessionId);
          break;
        case 'unavailable':
          // Not blame, and not a reason to leave its session: the link may come back, the nonce
          // did not go with it. A commitment it held is dropped (it may restart and forget it),
          // and so is one it sent with a share whose session's verdict is still out.
          ready.delete(input.party);
          for (const s of sessions.values()) if (s.awaiting?.from === input.party) s.awaiting.next = null;
          break;
        case 'available':
          onAvailable(input.party, out);
          break;
        case 'tick':
          break;
        case 'aggregated':
          onAggregated(input, out);
          break;
        case 'prepare_session': {
          const s = sessions.get(input.sessionId);
          if (s?.open) s.aggregator.prepare();
          break;
        }
        case 'deadline':
          phase = 'failed';
          out.push({
            type: 'failed',
            code: 'insufficient_parties',
            message: `fewer than ${t} parties answered before the deadline (${started} session(s) started, ${excluded.size} party(ies) excluded)`,
          });
          return out;
        default: {
          const never: never = input;
          throw new ProtocolError('invalid_message', `unknown ROAST input ${JSON.stringify(never)}`);
        }
      }
      checkViability(out);
      maybeStartSession(out);
      return out;
    },
  };
}
