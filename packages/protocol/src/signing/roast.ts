/**
 * The coordinator side of ROAST (Ruffing et al., "ROAST: Robust Asynchronous Schnorr Threshold
 * Signatures", CCS 2022) for one signing request, sans-IO, over the FROST aggregator.
 *
 * A party is *ready* when the coordinator holds a fresh commitment of it. Whenever t parties are
 * ready, a session starts with them; sessions run concurrently. A party that answers with a valid
 * share sends a fresh commitment along and is ready again at once, so a silent party can stall
 * only the sessions it is in, never the request. Only a provably invalid share makes a party
 * malicious (excluded for this request); slowness or silence never does. The first valid
 * aggregate ends the request; at most n − t + 1 sessions are ever started.
 *
 * Commitments come in parsed (the driver parses each where it enters the coordinator) and go to
 * the session's aggregator as they are; only the `next` commitment that arrives with a share is
 * parsed here. With a `KeyCache` the key is decoded once across requests.
 */
import { type Committee, makeCommittee } from '../committee.js';
import { ProtocolError } from '../errors.js';
import { createKeyCache, type KeyCache, type NonceCommitment, parseNonceCommitment } from '../fast/index.js';
import type { PublicKeyPackage } from '../keys.js';
import { getSuite } from '../suites.js';
import type { Approval, MessageBody, NonceCommitmentWire } from '../wire/messages.js';
import { type Aggregator, createAggregator } from './aggregator.js';

export type RoastInput =
  /**
   * A fresh commitment from `from` (the answer to a commit request, or one from the driver's
   * pool), parsed by the driver where it entered (`parseNonceCommitment`).
   */
  | { type: 'commitment'; from: string; commitment: NonceCommitment }
  /** `from` sent a commitment that failed `parseNonceCommitment` (`error`): it is excluded. */
  | { type: 'invalid_commitment'; from: string; error: ProtocolError }
  /**
   * A signature share for `sessionId`, with the signer's next commitment in wire form (parsed
   * here: an invalid one excludes the signer).
   */
  | { type: 'share'; from: string; sessionId: string; share: string; next: NonceCommitmentWire | null }
  /** `from` will not sign this request (its own policy or checks said no). */
  | { type: 'refused'; from: string; sessionId: string; code: string; message: string }
  /**
   * `from` could not use the commitment it was given in `sessionId` (e.g. it restarted and
   * forgot it): the session cannot finish; the party is not blamed and may become ready again.
   */
  | { type: 'withdrawn'; from: string; sessionId: string }
  /** `party` lost its connection: its commitment may never be answered; it is not blamed. */
  | { type: 'unavailable'; party: string }
  /** The request's deadline passed. */
  | { type: 'deadline' }
  /** A `wake_at` the driver was asked for has come. */
  | { type: 'tick' };

export type RoastAction =
  | { type: 'send_package'; sessionId: string; to: readonly string[]; pkg: MessageBody<'signing_package'> }
  | { type: 'exclude'; party: string; code: string; reason: string }
  | { type: 'completed'; sessionId: string; signature: Uint8Array; signers: readonly string[] }
  | { type: 'failed'; code: 'insufficient_parties' | 'rejected'; message: string }
  /** Feed a `tick` at (or after) this time. */
  | { type: 'wake_at'; at: number };

export interface RoastOptions {
  key: PublicKeyPackage;
  requestId: string;
  message: Uint8Array;
  context?: unknown;
  approvals?: Approval[];
  /** Prepared keys to reuse across requests (owned by the driver); default: one for this request. */
  keys?: KeyCache;
  /** Names the n-th session of this request (a driver-chosen unique id). */
  sessionId: (n: number) => string;
  /**
   * While a session younger than this is still open, enough ready parties do not start another
   * one yet (0: start at once, as in the paper). On the happy path with n > t this saves a
   * redundant session per request; liveness is unchanged, a stall costs at most this much more.
   */
  sessionGraceMs?: number;
}

type Session = { aggregator: Aggregator; signers: readonly string[]; open: boolean; startedAt: number };

export interface RoastCoordinator {
  readonly phase: 'running' | 'completed' | 'failed';
  /** Parties currently ready (holding a fresh commitment). */
  readonly ready: readonly string[];
  /** Sessions started so far. */
  readonly sessionsStarted: number;
  /** Parties excluded from this request, with why. */
  readonly excluded: ReadonlyMap<string, string>;
  /**
   * Commitments held for ready parties: never put into a signing package, so still unused. A
   * driver may hand them to another request once this one has ended.
   */
  readonly unusedCommitments: ReadonlyMap<string, NonceCommitment>;
  /** Feeds one input at time `now` (ms; the driver's clock); returns what to do, in order. */
  handle(input: RoastInput, now?: number): RoastAction[];
}

export function createRoastCoordinator(o: RoastOptions): RoastCoordinator {
  const suite = getSuite(o.key.suite);
  const committee: Committee = makeCommittee(suite, o.key.committee, o.key.threshold);
  const t = committee.threshold;
  const n = committee.members.length;
  const maxSessions = n - t + 1;
  if (o.message.length === 0) throw new ProtocolError('empty_message', 'refusing to sign an empty message');

  let phase: RoastCoordinator['phase'] = 'running';
  const ready = new Map<string, NonceCommitment>(); // insertion order = readiness order
  const inSession = new Map<string, string>(); // party → session it has yet to answer
  const excluded = new Map<string, string>();
  const refusedBy = new Set<string>();
  const sessions = new Map<string, Session>();
  let started = 0;
  let now = 0;
  let wakeAt: number | undefined;
  const grace = o.sessionGraceMs ?? 0;
  // Every session of the request signs under the same key: decode it once at least.
  const keys = o.keys ?? createKeyCache(1);

  function exclude(party: string, code: string, reason: string, out: RoastAction[]): void {
    if (excluded.has(party)) return;
    excluded.set(party, reason);
    ready.delete(party);
    inSession.delete(party);
    out.push({ type: 'exclude', party, code, reason });
  }

  function checkViability(out: RoastAction[]): void {
    if (phase !== 'running') return;
    if (n - excluded.size >= t) return;
    phase = 'failed';
    const rejected = refusedBy.size > 0;
    out.push({
      type: 'failed',
      code: rejected ? 'rejected' : 'insufficient_parties',
      message: rejected
        ? `${refusedBy.size} of ${n} parties refused to sign (${[...refusedBy].join(', ')}); threshold is ${t}`
        : `${excluded.size} of ${n} parties excluded; fewer than ${t} can sign`,
    });
  }

  function maybeStartSession(out: RoastAction[]): void {
    if (phase !== 'running' || ready.size < t || started >= maxSessions) return;
    let youngest = Number.NEGATIVE_INFINITY;
    for (const s of sessions.values()) if (s.open && s.startedAt > youngest) youngest = s.startedAt;
    if (grace > 0 && now - youngest < grace) {
      const at = youngest + grace;
      if (wakeAt !== at) {
        wakeAt = at;
        out.push({ type: 'wake_at', at });
      }
      return;
    }
    const signers = [...ready.keys()].slice(0, t);
    const aggregator = createAggregator({
      key: o.key,
      requestId: o.requestId,
      message: o.message,
      ...(o.context === undefined ? {} : { context: o.context }),
      ...(o.approvals === undefined ? {} : { approvals: o.approvals }),
      keys,
    });
    for (const p of signers) aggregator.addCommitment(p, ready.get(p) as NonceCommitment);
    const pkg = aggregator.buildPackage(signers);
    const sessionId = o.sessionId(started++);
    sessions.set(sessionId, { aggregator, signers, open: true, startedAt: now });
    for (const p of signers) {
      ready.delete(p);
      inSession.set(p, sessionId);
    }
    out.push({ type: 'send_package', sessionId, to: signers, pkg });
  }

  function becomeReady(party: string, c: NonceCommitment, out: RoastAction[]): void {
    if (excluded.has(party) || inSession.has(party)) return;
    if (c.suite !== suite.id) {
      exclude(party, 'wrong_suite', `a ${c.suite} commitment for a ${suite.id} key`, out);
      return;
    }
    ready.set(party, c);
  }

  function rejectCommitment(party: string, e: unknown, out: RoastAction[]): void {
    const code = e instanceof ProtocolError ? e.code : 'invalid_point';
    exclude(party, code, `invalid commitment: ${(e as Error).message}`, out);
  }

  /** The commitment a share came with, parsed here (it is the last place it can be). */
  function becomeReadyWith(party: string, next: NonceCommitmentWire | null, out: RoastAction[]): void {
    if (next === null || excluded.has(party) || inSession.has(party)) return;
    let c: NonceCommitment;
    try {
      c = parseNonceCommitment(suite, next, party);
    } catch (e) {
      rejectCommitment(party, e, out);
      return;
    }
    becomeReady(party, c, out);
  }

  function onShare(input: Extract<RoastInput, { type: 'share' }>, out: RoastAction[]): void {
    const s = sessions.get(input.sessionId);
    if (!s?.signers.includes(input.from) || inSession.get(input.from) !== input.sessionId) return;
    inSession.delete(input.from);
    if (s.open) {
      let complete: boolean;
      try {
        complete = s.aggregator.addShare(input.from, input.share);
      } catch (e) {
        s.open = false;
        exclude(input.from, 'invalid_signature_share', (e as Error).message, out);
        return;
      }
      if (complete) {
        s.open = false;
        try {
          const signature = s.aggregator.finish();
          phase = 'completed';
          out.push({ type: 'completed', sessionId: input.sessionId, signature, signers: s.signers });
          return;
        } catch (e) {
          const culprits = e instanceof ProtocolError ? e.culprits : [];
          for (const c of culprits) exclude(c, 'invalid_signature_share', `invalid signature share in session ${input.sessionId}`, out);
        }
      }
    }
    becomeReadyWith(input.from, input.next, out);
  }

  return {
    get phase() {
      return phase;
    },
    get ready() {
      return [...ready.keys()];
    },
    get sessionsStarted() {
      return started;
    },
    get excluded() {
      return excluded;
    },
    get unusedCommitments() {
      return ready;
    },
    handle(input, at) {
      if (at !== undefined) now = at;
      const out: RoastAction[] = [];
      if (phase !== 'running') return out;
      switch (input.type) {
        case 'commitment':
          if (committee.has(input.from)) becomeReady(input.from, input.commitment, out);
          break;
        case 'invalid_commitment':
          // As for a valid one: a party still owing a session's share is not taking new commitments.
          if (committee.has(input.from) && !inSession.has(input.from)) rejectCommitment(input.from, input.error, out);
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
        case 'unavailable': {
          // Not blame: the party simply stops being ready. A session waiting on it cannot finish
          // (its nonce may be gone with the connection), so release the party from it; ROAST's
          // session bound still caps how much a flapping party can cost.
          ready.delete(input.party);
          const sid = inSession.get(input.party);
          if (sid !== undefined) {
            inSession.delete(input.party);
            const s = sessions.get(sid);
            if (s) s.open = false;
          }
          break;
        }
        case 'withdrawn': {
          const s = sessions.get(input.sessionId);
          if (!s?.signers.includes(input.from) || inSession.get(input.from) !== input.sessionId) break;
          s.open = false;
          inSession.delete(input.from);
          break;
        }
        case 'tick':
          break;
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
