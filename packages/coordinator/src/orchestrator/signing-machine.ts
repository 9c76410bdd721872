/**
 * The lifecycle of the coordinator's signing requests, sans-IO: one ROAST run per request
 * (protocol `signing/roast.ts`; started once a member of its committee is connected), the pool of preprocessed commitments they draw from, and which
 * parties are connected. Inputs are what happened (a request accepted, a party's message, a
 * connection, a timer); actions are what to do (send, persist, settle, set a timer), in order.
 * Time comes in as `now`; nothing here awaits, so the same inputs give the same actions.
 *
 * A committee member that is connected and has no commitment in a running request (ROAST phase
 * `idle`) gets one: from the pool if it holds one, else by a `commit_request` of the request's
 * own. The commitments of a `commitments` message are admitted (checked) where they arrive and go
 * into the pool, then to the requests that need one; the one a share brings along ROAST checks. A
 * request that ends gives its unused commitments back to the pool (ROAST counts among them the
 * `next` commitments of the share that ended it).
 *
 * A request whose intent yields k > 1 messages (a PSBT with k listed inputs) signs all of them in
 * one ROAST run whose sessions are k messages wide: a member is ready with k commitments. It takes
 * k from the pool when the pool holds them, else asks for exactly k in one `commit_request`, whose
 * answer goes to the request directly (k may exceed what the pool keeps).
 *
 * With `deferAggregation` the machine asks for each session's aggregation as an action
 * (`aggregate`, plain data a worker can run: all k messages of the session in one job) and takes
 * the verdict back as an input (`aggregated`); ROAST decides on it exactly as on its own.
 *
 * The session grace (RoastOptions.sessionHold) follows the signers' backlogs. A fixed grace shorter
 * than the signers' round trip makes every request start a redundant session when its first signer
 * answers before the others (a party then signs twice for one signature, which lengthens the round
 * trip further: under load, throughput collapsed). A grace from the signers' round trips, taken
 * when a request starts (RFC 6298's estimator over every signer), still lagged the load: at a burst
 * the first requests took the grace of the quiet moment before it, the estimate caught up only as
 * the queued packages came back, and every signer's round trip was averaged into one (`npm run
 * bench` counted 1.4 sessions per signature at concurrency 64, each after its grace had passed).
 * So an open session now waits for its missing shares as long as each missing signer is expected
 * to take with its backlog — every package sent to it before and not answered yet, whichever
 * request it belongs to (signer-queues.ts) — asked again whenever the session is looked at: a
 * signer busy with other requests keeps it waiting, one that is silent or skips it does not.
 * Never less than `sessionGraceMs` nor more than `maxSessionGraceMs` after the session started: a
 * stalled session still gives way to another within a bounded time.
 */
import {
  type AggregationJob,
  type AggregationVerdict,
  type CommitmentSetWire,
  createKeyCache,
  createRoastCoordinator,
  type ExclusionCode,
  getSuite,
  type Intent,
  isPolicyRefusal,
  isProtocolError,
  type MessageBody,
  type NonceCommitment,
  type NonceCommitmentWire,
  type OpenSession,
  type Outgoing,
  type PublicKeyPackage,
  parseNonceCommitment,
  type RoastAction,
  type RoastCoordinator,
  type RoastInput,
  type SigningOutcome,
} from '@glacis/protocol';
import { type CommitmentPool, createCommitmentPool } from './commitment-pool.js';
import { encodeSessionId, type SessionRefOf } from './session-id.js';
import { createSignerQueues } from './signer-queues.js';

/** A request as the machine needs it (the driver reads it from the store). */
export interface SigningRequest {
  signatureId: string;
  /** The key's public package, or null when the key is not active. */
  key: PublicKeyPackage | null;
  keyId: string;
  /** What to sign; ROAST derives the messages from it (one per listed PSBT input). */
  intent: Intent;
  context?: unknown;
  approvals: MessageBody<'signing_package'>['approvals'];
  /** Fixed when the API accepted the request (ms since the epoch): it survives restarts. */
  deadline: number;
}

export type SigningInput =
  /** A request to run (accepted, or unsettled after a restart). */
  | { type: 'request'; request: SigningRequest }
  /** A party's `commitments` for a pool refill or a request's ask. */
  | {
      type: 'commitments';
      from: string;
      session: SessionRefOf<'pool'> | SessionRefOf<'commit'>;
      keyId: string;
      commitments: readonly NonceCommitmentWire[];
    }
  /**
   * An offline party's preprocessed commitments, carried in a bundle (no session asked for them):
   * checked, then pooled like a refill's, for the next packages of `keyId` to use.
   */
  | {
      type: 'preprocessed';
      from: string;
      keyId: string;
      suite: PublicKeyPackage['suite'];
      commitments: readonly NonceCommitmentWire[];
    }
  /** A party's `signature_share` for a ROAST session: one share per message, and its next commitments. */
  | { type: 'share'; from: string; session: SessionRefOf<'sign'>; shares: readonly string[]; next: CommitmentSetWire | null }
  /** A party's `sign_refused` for a ROAST session (refusal or withdrawal: `isPolicyRefusal`). */
  | { type: 'refusal'; from: string; session: SessionRefOf<'sign'>; code: string; message: string }
  | { type: 'connect'; party: string }
  | { type: 'disconnect'; party: string }
  /** A timer set by `set_timer` has fired. */
  | { type: 'tick'; requestId: string }
  /**
   * The driver may no longer run this request here (its lease passed to another coordinator
   * instance, or lapsed): forget it without settling it. Its unused commitments stay in the pool.
   */
  | { type: 'abandon'; requestId: string }
  /** The verdict on an `aggregate` action (ignored once the request is settled or abandoned). */
  | { type: 'aggregated'; requestId: string; sessionId: string; verdict: AggregationVerdict }
  /** A `prepare` action's package has left: compute its session now (ignored once the request ended). */
  | { type: 'prepare'; requestId: string; sessionId: string }
  /**
   * `keyId` switched to a successor (refresh, reshare): no share of the old material may meet the
   * new one. Its requests in flight start over on `key` (new sessions, the same deadline), and the
   * commitments preprocessed before the switch are forgotten (the parties discarded their nonces).
   */
  | { type: 'key_switched'; keyId: string; key: PublicKeyPackage };

/** A change to a request's row that is not its settlement. */
export type SigningChange = { kind: 'signing' } | { kind: 'excluded'; partyId: string; code: ExclusionCode; reason: string };

export type SigningAction =
  /** Send `message` to `to` (sealed by the driver). `requestId` when it belongs to a request. */
  | { type: 'send'; requestId?: string; to: string; message: Extract<Outgoing, { type: 'commit_request' | 'signing_package' }> }
  | { type: 'persist'; requestId: string; keyId: string; change: SigningChange }
  /** The request is over (its timer is cleared just before). */
  | { type: 'settle'; requestId: string; keyId: string; outcome: SigningOutcome; elapsedMs: number }
  /** Feed `tick` for `requestId` at `at` (replacing any earlier timer of it); null: no timer. */
  | { type: 'set_timer'; requestId: string; at: number | null }
  /**
   * Draw `count` of offline party `party`'s stored commitments for `keyId` (each drawn once, in the
   * store) and feed them back as `preprocessed`; none stored: wait for its next inbox bundle.
   */
  | { type: 'draw_offline'; requestId: string; party: string; keyId: string; suite: PublicKeyPackage['suite']; count: number }
  /** Telemetry: a signer's package-to-share round trip. */
  | { type: 'latency'; partyId: string; ms: number }
  /** Telemetry: a ROAST session started, its package sent to `signers` (the request's `index`-th, from 0). */
  | { type: 'session_started'; requestId: string; sessionId: string; signers: readonly string[]; index: number }
  /** A party's message was not used, and why (for the log). */
  | { type: 'discarded'; from: string; reason: string }
  /** Run `job` (protocol `runAggregationJob`, e.g. on a worker) and feed its verdict as `aggregated`. */
  | { type: 'aggregate'; requestId: string; sessionId: string; job: AggregationJob }
  /**
   * Once the sends before it have left, feed `prepare` back (ROAST's `prepare_session`): the
   * session's arithmetic then overlaps the signers' work instead of delaying their packages.
   */
  | { type: 'prepare'; requestId: string; sessionId: string };

export interface SigningMachineOptions {
  /** This coordinator life's tag (session-id.ts `newEpoch`). */
  epoch: string;
  /** Preprocessed commitments kept per (key, party); 0 disables the pool (default 32). */
  poolTarget?: number;
  /** ROAST session grace (RoastOptions.sessionGraceMs) when round trips are short; 0 disables it. */
  sessionGraceMs?: number;
  /** The most the grace grows to when round trips are long (default 5000 ms). */
  maxSessionGraceMs?: number;
  /** Ask for aggregations as `aggregate` actions instead of computing them in `handle`. */
  deferAggregation?: boolean;
  /**
   * Parties reached by bundles, not sockets (docs/offline.md): never asked to refill the pool (an
   * ask would wait for a trip to the vault); their commitments come as `preprocessed` input.
   */
  offlineParties?: readonly string[];
}

export interface SigningMachine {
  handle(input: SigningInput, now: number): SigningAction[];
  /** Requests running. */
  readonly inFlight: number;
  /** Running requests in which `partyId` holds a fresh commitment. */
  readyCount(partyId: string): number;
  /** Whether `signatureId` is running. */
  has(signatureId: string): boolean;
  /** The ROAST run of a request (tests and diagnostics). */
  roastOf(signatureId: string): RoastCoordinator | undefined;
}

interface Run {
  /** The request as it came in (to start it over on a switched key). */
  request: SigningRequest;
  /** Times it started over; its sessions are numbered from `restarts × SESSIONS_PER_START`. */
  restarts: number;
  signatureId: string;
  key: PublicKeyPackage;
  /**
   * Its ROAST run, started once a committee member is connected (or its deadline passes): a
   * request nobody can answer holds only this record (a ROAST run is some 4.5 KB; a coordinator
   * whose parties are down for a while holds thousands of pending requests).
   */
  roast: RoastCoordinator | undefined;
  startedAt: number;
  deadline: number;
  /** Members asked for a commitment by this request whose answer has not come. */
  asking: Set<string>;
  /** When each signer was last sent each session's package (`sessionId:party`). */
  sentAt: Map<string, number>;
  /** Sessions this run started (a package sent again to a party that reconnected starts none). */
  sessions: Set<string>;
  wakeAt: number | undefined;
  timerAt: number | null;
}

type PoolAsk = { keyId: string; suite: PublicKeyPackage['suite']; party: string; count: number };

/** Asks of ended requests remembered at most (oldest forgotten first): a party that never answers does not grow it. */
const MAX_LATE_ASKS = 4096;
const lateAskKey = (sessionId: string, party: string) => `${sessionId}\n${party}`;

/** The outcome of a request whose intent its key cannot sign. */
const intentInvalid = (e: { code: string; message: string }): SigningOutcome => ({
  status: 'failed',
  code: 'intent_invalid',
  message: `${e.code}: ${e.message}`,
});

/**
 * Session numbers one start of a request may use: a request that starts over (its key switched)
 * numbers its sessions after them, so a late share of an old session meets no session of the new.
 */
const SESSIONS_PER_START = 100_000;

export function createSigningMachine(o: SigningMachineOptions): SigningMachine {
  const poolTarget = o.poolTarget ?? 32;
  const pool: CommitmentPool = createCommitmentPool({ target: poolTarget, lowWater: Math.floor(poolTarget / 2) });
  // Decoded public keys, shared by every request of the machine (one decode per key, not per request).
  const keys = createKeyCache();
  const runs = new Map<string, Run>(); // insertion order = start order
  const poolAsks = new Map<string, PoolAsk>(); // encoded pool session id → what was asked
  /**
   * Asks of requests that ended before the party answered, by `lateAskKey`: the answer still
   * brings fresh commitments of the key (the party keeps their nonces for this connection), so it
   * goes to the pool. Discarding it had the parties make about one commitment per signature for
   * nothing under load (a request asks every idle member and signs with the first t that answer).
   */
  const lateAsks = new Map<string, PoolAsk>();
  const connected = new Set<string>();
  const offline = new Set(o.offlineParties ?? []);
  let refills = 0;
  let now = 0;
  const baseGrace = o.sessionGraceMs ?? 0;
  const maxGrace = Math.max(baseGrace, o.maxSessionGraceMs ?? 5000);
  // Every signer's unanswered packages, across requests: when each missing share is due.
  const queues = createSignerQueues({ initialAllowanceMs: baseGrace, minWaitMs: baseGrace, retainMs: maxGrace });
  const packageKey = (sessionId: string, party: string) => `${sessionId}:${party}`;

  /**
   * Until when open session `s` holds back another: until the first of its missing shares is
   * overdue, within [sessionGraceMs, maxSessionGraceMs] of its start. A signer whose link is down
   * cannot answer before it is back (it is sent the package again then): nothing to wait for.
   */
  function sessionHold(s: OpenSession, at: number): number {
    let until = s.waiting.length === 0 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    for (const p of s.waiting) {
      const due = connected.has(p) ? queues.due(p, packageKey(s.sessionId, p), at) : undefined;
      until = Math.min(until, due ?? Number.NEGATIVE_INFINITY);
    }
    return Math.min(s.startedAt + maxGrace, Math.max(s.startedAt + baseGrace, until));
  }

  function send(out: SigningAction[], to: string, message: Extract<SigningAction, { type: 'send' }>['message'], requestId?: string) {
    out.push(requestId === undefined ? { type: 'send', to, message } : { type: 'send', requestId, to, message });
  }

  /** Tops up `party`'s preprocessed commitments for `key` when they run low. */
  function refill(key: PublicKeyPackage, party: string, out: SigningAction[]): void {
    if (offline.has(party)) return;
    const count = pool.deficit(key.keyId, party);
    if (count === 0 || !connected.has(party)) return;
    const sessionId = encodeSessionId({ kind: 'pool', epoch: o.epoch, n: refills++, keyId: key.keyId });
    poolAsks.set(sessionId, { keyId: key.keyId, suite: key.suite, party, count });
    pool.asked(key.keyId, party, count);
    send(out, party, { type: 'commit_request', sessionId, to: party, body: { keyId: key.keyId, count } });
  }

  /** `width` commitments of `party` from the pool, or undefined (and none taken) when it holds fewer. */
  function takeFromPool(keyId: string, party: string, width: number): NonceCommitment[] | undefined {
    if (pool.size(keyId, party) < width) return undefined;
    return Array.from({ length: width }, () => pool.take(keyId, party) as NonceCommitment);
  }

  /** Gives every connected, idle member of `run` its commitments: from the pool, or asks for them. */
  function topUp(run: Run, out: SigningAction[]): void {
    if (!run.key.committee.some((p) => connected.has(p))) return;
    const roast = roastFor(run, out);
    if (!roast) return;
    const width = roast.width;
    for (const party of run.key.committee) {
      if (!runs.has(run.signatureId)) return;
      if (!connected.has(party) || roast.partyPhase(party) !== 'idle') continue;
      const cs = takeFromPool(run.key.keyId, party, width);
      if (cs) {
        feed(run, { type: 'commitment', from: party, commitments: cs }, out);
      } else if (!run.asking.has(party) && offline.has(party)) {
        // A commit request would wait for a trip to the vault: draw what it preprocessed instead.
        run.asking.add(party);
        const { keyId, suite } = run.key;
        out.push({ type: 'draw_offline', requestId: run.signatureId, party, keyId, suite, count: width });
      } else if (!run.asking.has(party)) {
        run.asking.add(party);
        const sessionId = commitSessionId(run);
        send(out, party, { type: 'commit_request', sessionId, to: party, body: { keyId: run.key.keyId, count: width } }, run.signatureId);
      }
    }
  }

  /** Ends `run` here: its timer cleared, its unused commitments back in the pool. */
  function stop(run: Run, out: SigningAction[]): void {
    runs.delete(run.signatureId);
    const { keyId, suite } = run.key;
    const width = run.roast?.width ?? 1;
    for (const party of run.asking) {
      if (offline.has(party) || !connected.has(party)) continue;
      lateAsks.set(lateAskKey(commitSessionId(run), party), { keyId, suite, party, count: width });
      if (lateAsks.size > MAX_LATE_ASKS) lateAsks.delete(lateAsks.keys().next().value as string);
    }
    // Commitments this request held but never put into a package are still unused: keep them.
    for (const [p, cs] of run.roast?.unusedCommitments ?? []) if (connected.has(p)) for (const c of cs) pool.giveBack(run.key.keyId, p, c);
    out.push({ type: 'set_timer', requestId: run.signatureId, at: null });
  }

  function finish(run: Run, outcome: SigningOutcome, out: SigningAction[]): void {
    stop(run, out);
    out.push({ type: 'settle', requestId: run.signatureId, keyId: run.key.keyId, outcome, elapsedMs: now - run.startedAt });
  }

  /** Arms the request's one timer for its next wake-up (session grace) or its deadline. */
  function arm(run: Run, out: SigningAction[]): void {
    const next = run.wakeAt !== undefined && run.wakeAt > now && run.wakeAt < run.deadline ? run.wakeAt : run.deadline;
    if (next === run.timerAt) return;
    run.timerAt = next;
    out.push({ type: 'set_timer', requestId: run.signatureId, at: next });
  }

  function feed(run: Run, input: RoastInput, out: SigningAction[]): void {
    const roast = roastFor(run, out);
    if (roast) for (const a of roast.handle(input, now)) perform(run, a, out);
  }

  function createRoast(run: Run): RoastCoordinator {
    const { request: r, signatureId, restarts } = run;
    return createRoastCoordinator({
      key: run.key,
      requestId: signatureId,
      intent: r.intent,
      ...(r.context === null || r.context === undefined ? {} : { context: r.context }),
      approvals: r.approvals,
      sessionId: (n) => encodeSessionId({ kind: 'sign', epoch: o.epoch, n: restarts * SESSIONS_PER_START + n, signatureId }),
      sessionGraceMs: baseGrace,
      ...(baseGrace === 0 ? {} : { sessionHold }),
      keys,
      ...(o.deferAggregation ? { deferAggregation: true } : {}),
    });
  }

  /**
   * The request's ROAST run, started now if it was not; undefined (and the request settled
   * `intent_invalid`) when its intent cannot be signed, which onRequest has already ruled out.
   */
  function roastFor(run: Run, out: SigningAction[]): RoastCoordinator | undefined {
    if (run.roast) return run.roast;
    try {
      run.roast = createRoast(run);
      return run.roast;
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      stop(run, out);
      out.push({
        type: 'settle',
        requestId: run.signatureId,
        keyId: run.key.keyId,
        outcome: intentInvalid(e),
        elapsedMs: now - run.startedAt,
      });
      return undefined;
    }
  }

  function perform(run: Run, a: RoastAction, out: SigningAction[]): void {
    const requestId = run.signatureId;
    switch (a.type) {
      case 'send_package':
        if (!run.sessions.has(a.sessionId)) {
          run.sessions.add(a.sessionId);
          out.push({ type: 'session_started', requestId, sessionId: a.sessionId, signers: a.to, index: run.sessions.size - 1 });
        }
        for (const p of a.to) {
          run.sentAt.set(packageKey(a.sessionId, p), now);
          queues.sent(p, packageKey(a.sessionId, p), now);
          send(out, p, { type: 'signing_package', sessionId: a.sessionId, to: p, body: a.pkg }, requestId);
        }
        break;
      case 'exclude':
        out.push({
          type: 'persist',
          requestId,
          keyId: run.key.keyId,
          change: { kind: 'excluded', partyId: a.party, code: a.code, reason: a.reason },
        });
        break;
      case 'completed':
        finish(run, { status: 'completed', signatures: a.signatures, signers: [...a.signers].sort() }, out);
        break;
      case 'failed':
        finish(
          run,
          a.code === 'rejected'
            ? { status: 'rejected', code: a.code, message: a.message }
            : { status: 'failed', code: a.code, message: a.message },
          out,
        );
        break;
      case 'wake_at':
        run.wakeAt = a.at;
        arm(run, out);
        break;
      case 'aggregate':
        out.push({ type: 'aggregate', requestId, sessionId: a.sessionId, job: a.job });
        break;
      case 'prepare_session':
        out.push({ type: 'prepare', requestId, sessionId: a.sessionId });
        break;
      default: {
        const never: never = a;
        throw new Error(`unhandled ROAST action ${JSON.stringify(never)}`);
      }
    }
  }

  /** The running request a `sign` or `commit` session of this life names. */
  /** The session id of a request's own commit requests. */
  function commitSessionId(run: Run): string {
    return encodeSessionId({ kind: 'commit', epoch: o.epoch, signatureId: run.signatureId });
  }

  function runOf(session: SessionRefOf<'sign'> | SessionRefOf<'commit'>): Run | undefined {
    return session.epoch === o.epoch ? runs.get(session.signatureId) : undefined;
  }

  function onRequest(r: SigningRequest, out: SigningAction[], restarts = 0): void {
    if (runs.has(r.signatureId)) return;
    if (r.key === null) {
      const outcome: SigningOutcome = { status: 'failed', code: 'key_not_active', message: `key ${r.keyId} is not active` };
      out.push({ type: 'settle', requestId: r.signatureId, keyId: r.keyId, outcome, elapsedMs: 0 });
      return;
    }
    const signatureId = r.signatureId;
    const run: Run = {
      request: r,
      restarts,
      signatureId,
      key: r.key,
      roast: undefined,
      startedAt: now,
      deadline: r.deadline,
      asking: new Set(),
      sentAt: new Map(),
      sessions: new Set(),
      wakeAt: undefined,
      timerAt: null,
    };
    // Made now either way, so an intent the key cannot sign settles at once; kept only when a
    // member is connected to answer it (else made again when one connects).
    try {
      const roast = createRoast(run);
      if (r.key.committee.some((p) => connected.has(p))) run.roast = roast;
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      out.push({ type: 'settle', requestId: signatureId, keyId: r.keyId, outcome: intentInvalid(e), elapsedMs: 0 });
      return;
    }
    runs.set(signatureId, run);
    out.push({ type: 'persist', requestId: signatureId, keyId: r.key.keyId, change: { kind: 'signing' } });
    arm(run, out);
    topUp(run, out);
    for (const p of r.key.committee) refill(r.key, p, out);
  }

  function onCommitments(input: Extract<SigningInput, { type: 'commitments' }>, out: SigningAction[]): void {
    const { from, session } = input;
    let suite: PublicKeyPackage['suite'];
    let run: Run | undefined;
    if (session.kind === 'pool') {
      const sessionId = encodeSessionId(session);
      const ask = poolAsks.get(sessionId);
      if (!ask || ask.party !== from || ask.keyId !== input.keyId) {
        out.push({ type: 'discarded', from, reason: `commitments for an unknown refill ${sessionId}` });
        return;
      }
      poolAsks.delete(sessionId);
      pool.answered(ask.keyId, from, ask.count);
      suite = ask.suite;
    } else {
      run = runOf(session);
      const late = run ? undefined : lateAsks.get(lateAskKey(encodeSessionId(session), from));
      if (late && late.keyId === input.keyId) {
        lateAsks.delete(lateAskKey(encodeSessionId(session), from));
        suite = late.suite;
      } else if (!run || run.key.keyId !== input.keyId || !run.key.committee.includes(from)) {
        out.push({ type: 'discarded', from, reason: 'commitments for a request that is not running here' });
        return;
      } else {
        run.asking.delete(from);
        suite = run.key.suite;
      }
    }
    const admitted: NonceCommitment[] = [];
    try {
      for (const wire of input.commitments) admitted.push(parseNonceCommitment(getSuite(suite), wire, from));
    } catch (e) {
      // Provable (its own signed message), but a refill serves no request to exclude it from.
      if (run) feed(run, { type: 'invalid_commitment', from, reason: (e as Error).message }, out);
      else out.push({ type: 'discarded', from, reason: `invalid commitment: ${(e as Error).message}` });
      return;
    }
    // A wide request's own ask is answered as one set, straight to it: k may exceed what the pool keeps.
    const wide = run?.roast;
    if (run && wide && wide.width > 1 && admitted.length === wide.width && wide.partyPhase(from) === 'idle') {
      feed(run, { type: 'commitment', from, commitments: admitted }, out);
      if (runs.has(run.signatureId)) topUp(run, out);
      return;
    }
    pool.put(input.keyId, from, admitted);
    // The request that asked first, then every other running request of the key.
    const order = run ? [run, ...[...runs.values()].filter((r) => r !== run)] : [...runs.values()];
    for (const r of order) if (r.key.keyId === input.keyId && runs.has(r.signatureId)) topUp(r, out);
  }

  function onPreprocessed(input: Extract<SigningInput, { type: 'preprocessed' }>, out: SigningAction[]): void {
    const { from, keyId } = input;
    if (!offline.has(from)) {
      out.push({ type: 'discarded', from, reason: 'preprocessed commitments from a party that is not offline' });
      return;
    }
    const admitted: NonceCommitment[] = [];
    try {
      for (const wire of input.commitments) admitted.push(parseNonceCommitment(getSuite(input.suite), wire, from));
    } catch (e) {
      out.push({ type: 'discarded', from, reason: `invalid commitment: ${(e as Error).message}` });
      return;
    }
    pool.put(keyId, from, admitted);
    for (const r of [...runs.values()]) {
      if (r.key.keyId !== keyId || !runs.has(r.signatureId)) continue;
      r.asking.delete(from);
      topUp(r, out);
    }
  }

  function onSessionAnswer(input: Extract<SigningInput, { type: 'share' | 'refusal' }>, out: SigningAction[]): void {
    if (input.session.epoch !== o.epoch) return;
    const sessionId = encodeSessionId(input.session);
    const key = packageKey(sessionId, input.from);
    // Progress of the signer's queue, whether or not the request is still running here.
    queues.answered(input.from, key, now, input.type === 'share');
    const run = runOf(input.session);
    if (!run) return;
    if (input.type === 'share') {
      const sent = run.sentAt.get(key);
      if (sent !== undefined) {
        run.sentAt.delete(key);
        out.push({ type: 'latency', partyId: input.from, ms: now - sent });
      }
      feed(run, { type: 'share', from: input.from, sessionId, shares: input.shares, next: input.next }, out);
    } else if (isPolicyRefusal(input.code)) {
      feed(run, { type: 'refused', from: input.from, sessionId, code: input.code, message: input.message }, out);
    } else {
      feed(run, { type: 'withdrawn', from: input.from, sessionId }, out);
    }
    if (runs.has(run.signatureId)) topUp(run, out);
  }

  function onKeySwitched(keyId: string, key: PublicKeyPackage, out: SigningAction[]): void {
    pool.dropKey(keyId);
    for (const [sid, ask] of poolAsks) if (ask.keyId === keyId) poolAsks.delete(sid);
    for (const [k, ask] of lateAsks) if (ask.keyId === keyId) lateAsks.delete(k);
    for (const run of [...runs.values()]) {
      if (run.key.keyId !== keyId) continue;
      runs.delete(run.signatureId);
      onRequest({ ...run.request, key }, out, run.restarts + 1);
    }
  }

  return {
    get inFlight() {
      return runs.size;
    },
    readyCount(partyId) {
      let count = 0;
      for (const run of runs.values()) if (run.roast?.partyPhase(partyId) === 'ready') count++;
      return count;
    },
    has: (signatureId) => runs.has(signatureId),
    roastOf: (signatureId) => runs.get(signatureId)?.roast,
    handle(input, at) {
      now = at;
      const out: SigningAction[] = [];
      switch (input.type) {
        case 'request':
          onRequest(input.request, out);
          break;
        case 'commitments':
          onCommitments(input, out);
          break;
        case 'preprocessed':
          onPreprocessed(input, out);
          break;
        case 'share':
        case 'refusal':
          onSessionAnswer(input, out);
          break;
        case 'connect':
          connected.add(input.party);
          for (const run of [...runs.values()]) {
            if (!run.key.committee.includes(input.party) || !runs.has(run.signatureId)) continue;
            feed(run, { type: 'available', party: input.party }, out);
            if (runs.has(run.signatureId)) topUp(run, out);
          }
          break;
        case 'disconnect':
          connected.delete(input.party);
          pool.dropParty(input.party);
          queues.dropParty(input.party);
          for (const [sid, ask] of poolAsks) if (ask.party === input.party) poolAsks.delete(sid);
          for (const [k, ask] of lateAsks) if (ask.party === input.party) lateAsks.delete(k);
          for (const run of [...runs.values()]) {
            if (!run.key.committee.includes(input.party)) continue;
            run.asking.delete(input.party);
            // A request not started yet has nothing the party could be in.
            if (run.roast) feed(run, { type: 'unavailable', party: input.party }, out);
          }
          break;
        case 'abandon': {
          const run = runs.get(input.requestId);
          if (run) stop(run, out);
          break;
        }
        case 'aggregated': {
          const run = runs.get(input.requestId);
          if (!run) break;
          feed(run, { type: 'aggregated', sessionId: input.sessionId, verdict: input.verdict }, out);
          if (runs.has(run.signatureId)) topUp(run, out);
          break;
        }
        case 'prepare': {
          const run = runs.get(input.requestId);
          if (run?.roast) feed(run, { type: 'prepare_session', sessionId: input.sessionId }, out);
          break;
        }
        case 'key_switched':
          onKeySwitched(input.keyId, input.key, out);
          break;
        case 'tick': {
          const run = runs.get(input.requestId);
          if (!run) break;
          run.timerAt = null;
          if (now >= run.deadline) {
            feed(run, { type: 'deadline' }, out);
            break;
          }
          if (run.wakeAt !== undefined && run.wakeAt <= now) run.wakeAt = undefined;
          if (run.roast) feed(run, { type: 'tick' }, out);
          if (runs.has(run.signatureId)) arm(run, out);
          break;
        }
        default: {
          const never: never = input;
          throw new Error(`unknown signing input ${JSON.stringify(never)}`);
        }
      }
      return out;
    },
  };
}
