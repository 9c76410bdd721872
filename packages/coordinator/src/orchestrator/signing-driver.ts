/**
 * Runs the signing machine (signing-machine.ts) against the world: loads requests from the store,
 * feeds it party messages, connections and timers, and carries out its actions. The store writes
 * of one request run in a serial queue, each awaited before that request's next write, so a store
 * whose writes take time (or complete out of order, as a networked database may) still sees a
 * request's exclusions before its settlement. Messages to parties go out at once: no write has to
 * land before a package may leave (the nonce's safety is the party's own durable record), so a
 * commit's fsync never sits on the signing round trip. Nothing is persisted mid-flight: after a
 * restart a request starts over with fresh nonces (and session ids of a new epoch).
 *
 * With several coordinator instances a request runs where its work lease is (lease-keeper.ts):
 * every write carries the lease's fence, and a request whose lease is lost is abandoned here —
 * nothing more is sent or written for it — for the instance that claims it next to run afresh.
 * A message leaves only while the lease is surely held (checked at the send, not in the queue).
 *
 * A request that awaits approval is not the machine's yet: the driver only holds its approval
 * deadline (with its lease, like any unsettled work) and fails it (`approval_timeout`) if it is
 * still waiting then. Once approved it is started like any other. A completed bitcoin-psbt request
 * is stored with its PSBT finalized.
 */
import { randomBytes } from 'node:crypto';
import {
  type AggregationJob,
  type AggregationVerdict,
  type BitcoinNetwork,
  exclusionAuditEvent,
  type FinalizedPsbt,
  finalizeBitcoinPsbt,
  fromHex,
  type Intent,
  isProtocolError,
  type Message,
  type Outgoing,
  type PublicKeyPackage,
  SIGNING_OUTCOME_AUDIT_EVENT,
  sharesOf,
  toHex,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import { CoordinatorError, isCoordinatorError } from '../errors.js';
import type { Clock, OrchestratorMetrics, PartyLink } from './ports.js';
import { newEpoch, type SessionRefOf } from './session-id.js';
import { createSigningMachine, type SigningAction, type SigningInput, type SigningMachine } from './signing-machine.js';
import { type LeaseFence, type OrchestratorStore, publicPackageOf } from './store-port.js';

/** Which requests this instance may run, when it shares the store with other instances. */
export interface SigningLeases {
  /** The request's fence while this instance surely holds its lease; undefined once it does not. */
  fence(signatureId: string): LeaseFence | undefined;
  /** The request settled, or was given up, here: its lease is no longer needed. */
  release(signatureId: string): void;
}

/** What the signing driver reads and writes in the store. */
export type SigningStore = Pick<
  OrchestratorStore,
  | 'getKey'
  | 'getSignature'
  | 'markSigning'
  | 'addExcluded'
  | 'completeSignature'
  | 'failSignature'
  | 'rejectSignature'
  | 'settleAwaiting'
  | 'drawOfflineCommitments'
>;

export interface SigningDriverOptions {
  store: SigningStore;
  link: PartyLink;
  clock: Clock;
  logger: Logger;
  metrics: OrchestratorMetrics;
  /** Deadline of a request whose stored deadline is unreadable. */
  requestTimeoutMs: number;
  /** Preprocessed commitments kept per (key, party); 0 disables the pool (default 32). */
  poolTarget?: number;
  /** ROAST session grace when round trips are short (see SigningMachineOptions). */
  sessionGraceMs?: number;
  /** The most the session grace grows to under load (see SigningMachineOptions). */
  maxSessionGraceMs?: number;
  /** Reports a signer's package-to-share round trip, ms. */
  onLatency?: (partyId: string, ms: number) => void;
  /** This coordinator life's session-id tag (default: random). */
  epoch?: string;
  /** Work leases; without them every request is this process's to run (one instance, tests). */
  leases?: SigningLeases;
  /**
   * Runs a session's aggregation elsewhere (a worker pool: aggregation-pool.ts); without it the
   * machine aggregates inline. Either way ROAST decides on the same verdict.
   */
  aggregate?: (job: AggregationJob) => Promise<AggregationVerdict>;
  /** The chain PSBTs are read for when finalized (addresses only; default `bitcoin`). */
  bitcoinNetwork?: BitcoinNetwork;
  /** Parties reached by bundles (docs/offline.md), and where their messages wait to be carried. */
  offline?: OfflineLink;
}

/** The signing driver's side of the offline parties' outbox. */
export interface OfflineLink {
  readonly parties: readonly string[];
  /** Seals `message` of request `requestId` and holds it for `partyId`'s next outbox bundle. */
  hold(partyId: string, requestId: string, message: Outgoing): void;
  /** Request `requestId` ended here: what it holds in the outbox is no longer wanted. */
  drop(requestId: string): void;
}

/** The session kinds the signing driver answers for. */
export type SigningSessionRef = SessionRefOf<'pool'> | SessionRefOf<'commit'> | SessionRefOf<'sign'>;

export interface SigningDriver {
  /** Runs a request (with leases: one whose lease this instance holds). */
  start(signatureId: string): Promise<void>;
  /** Stops running a request here without settling it (its lease was lost). */
  abandon(signatureId: string): void;
  onMessage(partyId: string, msg: Message, session: SigningSessionRef): void;
  onConnected(partyId: string): void;
  onDisconnected(partyId: string): void;
  /** A key switched to a successor: its requests in flight start over on the new material. */
  onKeySwitched(keyId: string, key: PublicKeyPackage): void;
  /** Offline party `partyId`'s inbox stored new commitments: requests waiting for them draw again. */
  onOfflineSupplied(partyId: string): void;
  /** Requests in flight. */
  readonly inFlight: number;
  /** In-flight requests for which `partyId` is ready. */
  readyCount(partyId: string): number;
  /** Resolves once every queued action has run. */
  idle(): Promise<void>;
}

export function createSigningDriver(o: SigningDriverOptions): SigningDriver {
  const { link, logger } = o;
  const machine: SigningMachine = createSigningMachine({
    epoch: o.epoch ?? newEpoch(randomBytes(8)),
    ...(o.poolTarget === undefined ? {} : { poolTarget: o.poolTarget }),
    ...(o.sessionGraceMs === undefined ? {} : { sessionGraceMs: o.sessionGraceMs }),
    ...(o.maxSessionGraceMs === undefined ? {} : { maxSessionGraceMs: o.maxSessionGraceMs }),
    ...(o.aggregate ? { deferAggregation: true } : {}),
    ...(o.offline ? { offlineParties: o.offline.parties } : {}),
  });
  const offline = new Set(o.offline?.parties ?? []);
  // Draws that found the store empty, by request: retried when the party's inbox brings more.
  const waitingDraws = new Map<string, Extract<SigningAction, { type: 'draw_offline' }>[]>();
  for (const p of offline) machine.handle({ type: 'connect', party: p }, o.clock.now());
  const lanes = new Map<string, Promise<void>>(); // signatureId → tail of its action queue
  const timers = new Map<string, { cancel(): void }>();
  const approvalTimers = new Map<string, { cancel(): void }>();
  const loading = new Set<string>();
  // Requests given up here: what is still queued for them is skipped.
  const abandoned = new Set<string>();
  // What settling a running request needs besides the machine's outcome: its intent and key.
  const running = new Map<string, { intent: Intent; publicKey: string | null }>();
  const leases = o.leases;

  /** The fence to write with: undefined without leases; throws `lease_lost` when the lease is gone. */
  function fenceFor(signatureId: string): LeaseFence | undefined {
    if (!leases) return undefined;
    const fence = leases.fence(signatureId);
    if (!fence) throw new CoordinatorError('lease_lost', `${signatureId}: the lease is not surely held here`);
    return fence;
  }

  /** Forgets what a request that ended here left for offline parties. */
  function forgetOffline(signatureId: string): void {
    waitingDraws.delete(signatureId);
    o.offline?.drop(signatureId);
  }

  function abandon(signatureId: string): void {
    forgetOffline(signatureId);
    leases?.release(signatureId);
    cancelApprovalDeadline(signatureId);
    running.delete(signatureId);
    // Nothing running or queued (it settled a moment ago): nothing to give up.
    if (!machine.has(signatureId) && !lanes.has(signatureId)) return;
    abandoned.add(signatureId);
    if (machine.has(signatureId)) feed({ type: 'abandon', requestId: signatureId });
    // With nothing queued there is nothing to skip; otherwise the lane's drain forgets it.
    if (!lanes.has(signatureId)) abandoned.delete(signatureId);
  }

  function feed(input: SigningInput): void {
    let actions: SigningAction[];
    try {
      actions = machine.handle(input, o.clock.now());
    } catch (e) {
      logger.error({ input: input.type, err: (e as Error).message }, 'signing input rejected');
      return;
    }
    for (const a of actions) dispatch(a);
  }

  function enqueue(signatureId: string, effect: () => unknown): void {
    const run = () => (abandoned.has(signatureId) ? undefined : effect());
    const tail = (lanes.get(signatureId) ?? Promise.resolve()).then(run).then(
      () => undefined,
      (e: unknown) => {
        if (isCoordinatorError(e) && e.code === 'lease_lost') {
          logger.warn({ signatureId, err: (e as Error).message }, 'lease lost: request given up here');
          abandon(signatureId);
          return;
        }
        logger.error({ signatureId, err: (e as Error).message }, 'signing driver error');
      },
    );
    lanes.set(signatureId, tail);
    void tail.then(() => {
      if (lanes.get(signatureId) !== tail) return;
      lanes.delete(signatureId);
      // Its queue is drained and the machine forgot it: nothing is left to skip.
      if (!machine.has(signatureId)) abandoned.delete(signatureId);
    });
  }

  function dispatch(a: SigningAction): void {
    switch (a.type) {
      case 'send':
        transmit(a);
        break;
      case 'persist':
        enqueue(a.requestId, () => persist(a));
        break;
      case 'settle':
        enqueue(a.requestId, () => settle(a));
        break;
      case 'set_timer':
        setTimer(a.requestId, a.at);
        break;
      case 'draw_offline':
        enqueue(a.requestId, () => draw(a));
        break;
      case 'latency':
        o.onLatency?.(a.partyId, a.ms);
        break;
      case 'session_started':
        o.metrics.signingSessionStarted();
        if (a.index > 0)
          logger.debug({ signatureId: a.requestId, sessionId: a.sessionId, signers: a.signers }, 'another ROAST session started');
        break;
      case 'discarded':
        logger.debug({ partyId: a.from, reason: a.reason }, 'party message discarded');
        break;
      case 'aggregate':
        aggregate(a);
        break;
      case 'prepare':
        // After this turn: the package sends before it are on their way first.
        o.clock.setTimeout(() => feed({ type: 'prepare', requestId: a.requestId, sessionId: a.sessionId }), 0);
        break;
      default: {
        const never: never = a;
        throw new Error(`unhandled signing action ${JSON.stringify(never)}`);
      }
    }
  }

  /** Draws an offline party's stored commitments for a request (each is drawn once, in the store). */
  async function draw(a: Extract<SigningAction, { type: 'draw_offline' }>): Promise<void> {
    fenceFor(a.requestId);
    if (!machine.has(a.requestId)) return;
    const commitments = await o.store.drawOfflineCommitments(a.party, a.keyId, a.count, a.requestId);
    if (commitments.length === 0) {
      waitingDraws.set(a.requestId, [...(waitingDraws.get(a.requestId) ?? []).filter((w) => w.party !== a.party), a]);
      logger.info(
        { signatureId: a.requestId, partyId: a.party },
        'no preprocessed commitments of the offline party: waiting for its inbox',
      );
      return;
    }
    feed({ type: 'preprocessed', from: a.party, keyId: a.keyId, suite: a.suite, commitments });
  }

  function transmit(a: Extract<SigningAction, { type: 'send' }>): void {
    // A request whose lease is gone sends nothing more: another instance may be running it. The
    // send is not queued behind the request's writes, so the check is here. The lease keeper's own
    // check may already have given the request up (its onLost); if not, that waits until the
    // current input's actions are dispatched, so the machine is not re-entered from here.
    if (a.requestId !== undefined && leases && !leases.fence(a.requestId)) {
      const signatureId = a.requestId;
      logger.warn({ signatureId }, 'lease lost: request given up here');
      queueMicrotask(() => abandon(signatureId));
      return;
    }
    if (offline.has(a.to)) {
      if (a.requestId !== undefined) o.offline?.hold(a.to, a.requestId, a.message);
      return;
    }
    if (a.message.type === 'signing_package') {
      logger.debug({ signatureId: a.requestId, sessionId: a.message.sessionId, partyId: a.to }, 'signing package sent');
    }
    link.sendSealed(a.to, a.message);
  }

  /** Off the request's queue: nothing waits on it but its own verdict, which comes back as input. */
  function aggregate(a: Extract<SigningAction, { type: 'aggregate' }>): void {
    const run = o.aggregate as (job: AggregationJob) => Promise<AggregationVerdict>;
    void run(a.job)
      .catch((e: unknown): AggregationVerdict => {
        // Nobody is to blame for a worker that failed: the session ends, ROAST goes on without it.
        logger.error({ signatureId: a.requestId, sessionId: a.sessionId, err: (e as Error).message }, 'aggregation failed to run');
        return { ok: false, culprits: [], reason: `aggregation could not run: ${(e as Error).message}` };
      })
      .then((verdict) => feed({ type: 'aggregated', requestId: a.requestId, sessionId: a.sessionId, verdict }));
  }

  function setTimer(signatureId: string, at: number | null): void {
    timers.get(signatureId)?.cancel();
    timers.delete(signatureId);
    if (at === null) return;
    const timer = o.clock.setTimeout(
      () => {
        timers.delete(signatureId);
        feed({ type: 'tick', requestId: signatureId });
      },
      Math.max(0, at - o.clock.now()),
    );
    timers.set(signatureId, timer);
  }

  async function persist(a: Extract<SigningAction, { type: 'persist' }>): Promise<void> {
    const { requestId: signatureId, keyId, change } = a;
    const fence = fenceFor(signatureId);
    switch (change.kind) {
      case 'signing':
        await o.store.markSigning(signatureId, fence);
        break;
      case 'excluded': {
        const { partyId, code, reason } = change;
        logger.warn({ signatureId, partyId, code }, 'party excluded');
        o.metrics.partyExcluded(partyId);
        await o.store.addExcluded(
          signatureId,
          { partyId, reason: `${code}: ${reason}` },
          { type: exclusionAuditEvent(code), data: { signatureId, keyId, partyId, code, reason } },
          fence,
        );
        break;
      }
      default: {
        const never: never = change;
        throw new Error(`unhandled change ${JSON.stringify(never)}`);
      }
    }
  }

  async function settle(a: Extract<SigningAction, { type: 'settle' }>): Promise<void> {
    const { requestId: signatureId, keyId, outcome } = a;
    const type = SIGNING_OUTCOME_AUDIT_EVENT[outcome.status];
    const fence = fenceFor(signatureId);
    const request = running.get(signatureId);
    running.delete(signatureId);
    forgetOffline(signatureId);
    switch (outcome.status) {
      case 'completed': {
        const signatures = outcome.signatures.map(toHex);
        const signature = signatures[0] as string;
        const signers = [...outcome.signers];
        const finalized = request ? finalizeFor(signatureId, request, outcome.signatures) : null;
        await o.store.completeSignature(
          signatureId,
          { signature, signers, signatures, finalized },
          {
            type,
            data: {
              signatureId,
              keyId,
              signers,
              signature,
              ...(signatures.length > 1 ? { signatures } : {}),
              ...(finalized ? { txid: finalized.txid } : {}),
            },
          },
          fence,
        );
        o.metrics.sessionEnded('signing', 'completed', a.elapsedMs / 1000);
        break;
      }
      case 'failed': {
        const error = { code: outcome.code, message: outcome.message };
        await o.store.failSignature(signatureId, error, { type, data: { signatureId, keyId, ...error } }, fence);
        if (outcome.code !== 'key_not_active') o.metrics.sessionEnded('signing', outcome.code, a.elapsedMs / 1000);
        break;
      }
      case 'rejected': {
        const error = { code: outcome.code, message: outcome.message };
        await o.store.rejectSignature(signatureId, error, { type, data: { signatureId, keyId, ...error } }, fence);
        o.metrics.sessionEnded('signing', outcome.code, a.elapsedMs / 1000);
        break;
      }
      default: {
        const never: never = outcome;
        throw new Error(`unhandled outcome ${JSON.stringify(never)}`);
      }
    }
    leases?.release(signatureId);
  }

  /** The PSBT of a bitcoin-psbt request with its signatures in, or null for any other intent. */
  function finalizeFor(
    signatureId: string,
    r: { intent: Intent; publicKey: string | null },
    sigs: readonly Uint8Array[],
  ): FinalizedPsbt | null {
    if (r.intent.type !== 'bitcoin-psbt' || r.publicKey === null) return null;
    try {
      return finalizeBitcoinPsbt(r.intent, fromHex(r.publicKey), o.bitcoinNetwork ?? 'bitcoin', sigs);
    } catch (e) {
      // The signatures verified when they were aggregated; the request completes with them either way.
      logger.error({ signatureId, err: isProtocolError(e) ? e.code : (e as Error).message }, 'PSBT could not be finalized');
      return null;
    }
  }

  /**
   * Fails a request that still awaits approval at its approval deadline. With leases, the write
   * carries the fence: an approval that released the request meanwhile (on any instance) freed its
   * lease, so a late timer here changes nothing.
   */
  function armApprovalDeadline(signatureId: string, keyId: string, deadline: number): void {
    cancelApprovalDeadline(signatureId);
    const timer = o.clock.setTimeout(
      () => {
        approvalTimers.delete(signatureId);
        const error = { code: 'approval_timeout', message: 'the request was not approved before its approval deadline' };
        enqueue(signatureId, async () => {
          const audit = { type: SIGNING_OUTCOME_AUDIT_EVENT.failed, data: { signatureId, keyId, ...error } };
          const expired = await o.store.settleAwaiting(signatureId, 'failed', error, audit, undefined, fenceFor(signatureId));
          if (!expired) return;
          logger.info({ signatureId }, 'approval deadline passed');
          leases?.release(signatureId);
        });
      },
      Math.max(0, deadline - o.clock.now()),
    );
    approvalTimers.set(signatureId, timer);
  }

  function cancelApprovalDeadline(signatureId: string): void {
    approvalTimers.get(signatureId)?.cancel();
    approvalTimers.delete(signatureId);
  }

  return {
    get inFlight() {
      return machine.inFlight;
    },
    readyCount: (partyId) => machine.readyCount(partyId),
    abandon,
    async start(signatureId) {
      if (machine.has(signatureId) || loading.has(signatureId)) return;
      loading.add(signatureId);
      try {
        // A run given up here before (its lease lost, then claimed back): let its queue drain first.
        await lanes.get(signatureId);
        abandoned.delete(signatureId);
        if (leases && !leases.fence(signatureId)) return;
        const request = await o.store.getSignature(signatureId);
        // The deadline was fixed when the request was accepted (or approved); it survives coordinator restarts.
        const parsed = request ? Date.parse(request.deadline) : Number.NaN;
        const deadline = Number.isFinite(parsed) ? parsed : o.clock.now() + o.requestTimeoutMs;
        if (request?.status === 'awaiting_approval') {
          armApprovalDeadline(signatureId, request.keyId, deadline);
          return;
        }
        cancelApprovalDeadline(signatureId);
        if (!request || (request.status !== 'pending' && request.status !== 'signing')) {
          leases?.release(signatureId);
          return;
        }
        const key = await o.store.getKey(request.keyId);
        running.set(signatureId, { intent: request.intent, publicKey: key?.publicKey ?? null });
        feed({
          type: 'request',
          request: {
            signatureId,
            keyId: request.keyId,
            key: key?.status === 'active' ? publicPackageOf(key) : null,
            intent: request.intent,
            context: request.context,
            approvals: request.approvals,
            deadline,
          },
        });
      } finally {
        loading.delete(signatureId);
      }
      await lanes.get(signatureId);
    },
    onMessage(partyId, msg, session) {
      switch (msg.type) {
        case 'commitments':
          if (session.kind === 'sign') break;
          feed({ type: 'commitments', from: partyId, session, keyId: msg.body.keyId, commitments: msg.body.commitments });
          return;
        case 'signature_share':
          if (session.kind !== 'sign') break;
          o.metrics.signatureShareReceived(partyId);
          feed({ type: 'share', from: partyId, session, shares: sharesOf(msg.body), next: msg.body.next });
          return;
        case 'sign_refused':
          if (session.kind !== 'sign') break;
          logger.info({ signatureId: session.signatureId, partyId, code: msg.body.code }, 'signer refused a session');
          feed({ type: 'refusal', from: partyId, session, code: msg.body.code, message: msg.body.message });
          return;
        default:
          break;
      }
      logger.debug({ partyId, type: msg.type, sessionId: msg.sessionId }, 'unexpected message for a signing session; dropped');
    },
    // An offline party counts as reachable (through its outbox) whether or not it has a socket.
    onConnected(partyId) {
      if (!offline.has(partyId)) feed({ type: 'connect', party: partyId });
    },
    onDisconnected(partyId) {
      if (!offline.has(partyId)) feed({ type: 'disconnect', party: partyId });
    },
    onOfflineSupplied(partyId) {
      for (const [signatureId, draws] of [...waitingDraws]) {
        const mine = draws.filter((d) => d.party === partyId);
        if (mine.length === 0) continue;
        const rest = draws.filter((d) => d.party !== partyId);
        if (rest.length > 0) waitingDraws.set(signatureId, rest);
        else waitingDraws.delete(signatureId);
        for (const d of mine) enqueue(signatureId, () => draw(d));
      }
    },
    onKeySwitched(keyId, key) {
      feed({ type: 'key_switched', keyId, key });
    },
    async idle() {
      while (lanes.size > 0) await Promise.all([...lanes.values()]);
    },
  };
}
