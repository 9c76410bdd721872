/**
 * The party's side of refresh, repair and reshare: one protocol machine per session, started only
 * after the party's own checks (start-checks.ts), driven by its peers' messages, ended by its own
 * deadline or an abort. What it derives goes through the keystore's two-phase entry point
 * (keystore/successions.ts): a successor is staged (sealed, fsync'd) before this party's
 * confirmation leaves, and becomes live only on a certificate the party checks itself.
 *
 * One successor per generation (DESIGN.md invariant 6, and what keeps a hostile coordinator from
 * splitting a key between two successors): while a confirmed successor of a key is staged, no
 * other refresh or reshare of it starts here (`lifecycle_busy`). It leaves the staged state by
 * its certificate (the switch), or when another member of its new committee shows, by a
 * `lifecycle_abort` it signed and broadcast, that it abandoned the session: a certificate needs
 * every new member's confirmation, so that one can never exist. This party signs such an abort
 * only for a session it started and never confirmed (`lifecycle-confirmed.log`), and never
 * answers a start with one: a refused start is reported to the coordinator alone.
 *
 * Replays: every start is recorded (`lifecycle-sessions.log`, fsync'd) before the machine sends
 * anything, and a session id seen before is refused, across restarts.
 *
 * These rules live in lifecycle-rules.ts, shared with the offline party (offline/offline-lifecycle.ts).
 */
import {
  type Envelope,
  type IdentityKey,
  isProtocolError,
  keyPackageHash,
  type LifecycleStep,
  type Message,
  type Outgoing,
  ProtocolError,
  type Rng,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import type { LifecycleConfig } from '../config.js';
import type { CrashPoint } from '../crash-points.js';
import type { DkgSessionRecord } from '../dkg/session-record.js';
import type { Keystore } from '../keystore/keystore.js';
import type { Clock } from '../ports.js';
import { answerDrill } from './drill-answer.js';
import type { LifecycleLog } from './lifecycle-log.js';
import {
  abandonment,
  admitStart,
  applyCertificate,
  asProtocolError,
  type LifecycleEvent,
  type LifecycleRuleDeps,
  refusalOf,
  releaseAbandoned,
  stageSuccessor,
  storeRepairedShare,
} from './lifecycle-rules.js';
import type { Outcome, Plan, StartMessage } from './start-checks.js';
import { createSuccessorTestSigner } from './successor-test-signer.js';

/** Every lifecycle session started here (the form of dkg-sessions.log). */
export const LIFECYCLE_SESSIONS_FILE = 'lifecycle-sessions.log';
/** Every session whose successor this party confirmed: it never signs an abort for one of them. */
export const LIFECYCLE_CONFIRMED_FILE = 'lifecycle-confirmed.log';

type Of<T extends Message['type']> = Extract<Message, { type: T }>;

export interface LifecycleHandlerOptions {
  self: string;
  identity: IdentityKey;
  keystore: Keystore;
  sessions: DkgSessionRecord;
  confirmed: DkgSessionRecord;
  log: LifecycleLog;
  keyOf: (partyId: string) => Uint8Array | undefined;
  policy: LifecycleConfig;
  rng: Rng;
  clock: Clock;
  /** Seals (signs) a message as this party, without sending it. */
  seal: (out: Outgoing) => Envelope;
  /** Sends a sealed envelope to the coordinator. */
  transmit: (env: Envelope) => void;
  logger: Logger;
  crash: (point: CrashPoint) => void;
  /** The live share of a key changed (switched, repaired, retired): signing must reload it. */
  onShareChanged: (keyId: string) => void;
}

export interface LifecycleHandler {
  onStart(msg: StartMessage): void;
  /** A peer's round message or signed abort. */
  onPeerMessage(msg: Message): void;
  onCoordinatorAbort(msg: Of<'lifecycle_abort'>): void;
  onComplete(msg: Of<'lifecycle_complete'>): void;
  onTestRequest(msg: Of<'lifecycle_test_request'>): void;
  onTestPackage(msg: Of<'lifecycle_test_package'>): Promise<void>;
  /** Proves this party's share of a key intact for the coordinator's fresh challenge. */
  onDrill(msg: Of<'drill_request'>): void;
  /** What `key_sync` reports: every active share, and every confirmed successor waiting for its certificate. */
  holdings(): {
    holdings: { keyId: string; generation: number; packageHash: string }[];
    staged: { keyId: string; sessionId: string; confirm: Envelope }[];
  };
  liveSessions(): string[];
  close(): void;
}

interface Session {
  plan: Plan;
  sessionId: string;
  deadline: { cancel(): void };
  confirmed: boolean;
}

/** Messages that arrive before their session's start, bounded (as the DKG's). */
const MAX_EARLY = 4096;

export function createLifecycleHandler(o: LifecycleHandlerOptions): LifecycleHandler {
  const { keystore, logger } = o;
  const successions = keystore.successions;
  const live = new Map<string, Session>();
  const early = new Map<string, Message[]>();
  let earlyCount = 0;
  const now = () => new Date(o.clock.now());
  const send = (out: Outgoing) => o.transmit(o.seal(out));
  const record = ({ type, data }: LifecycleEvent) => {
    o.log.record(type, data, now()).catch((e: unknown) => logger.error({ type, err: (e as Error).message }, 'lifecycle log append failed'));
  };
  const tests = createSuccessorTestSigner({ successions, log: o.log, rng: o.rng, now, send, logger });
  const rules: LifecycleRuleDeps = {
    self: o.self,
    keystore,
    sessions: o.sessions,
    confirmed: o.confirmed,
    keyOf: o.keyOf,
    now,
    logger,
    crash: o.crash,
  };

  function end(s: Session): void {
    s.deadline.cancel();
    live.delete(s.sessionId);
  }

  /** Abandons a session this party never confirmed (lifecycle-rules.ts `abandonment`). */
  function abandon(keyId: string, sessionId: string, operation: Plan['operation'], e: ProtocolError): void {
    const a = abandonment(rules, keyId, sessionId, operation, e);
    if (!a) return;
    send(a.abort);
    record(a.event);
  }

  function fail(s: Session, e: ProtocolError): void {
    end(s);
    logger.warn({ keyId: s.plan.keyId, sessionId: s.sessionId, code: e.code, culprits: e.culprits }, 'lifecycle operation failed here');
    abandon(s.plan.keyId, s.sessionId, s.plan.operation, e);
  }

  function run(s: Session, step: LifecycleStep<unknown>): void {
    if (step.result !== undefined) {
      try {
        conclude(s, s.plan.outcome(step.result), step.outgoing);
      } catch (e) {
        fail(s, asProtocolError(e));
      }
      return;
    }
    for (const out of step.outgoing) send(out);
    if (step.error) fail(s, step.error);
  }

  /** This party's part succeeded: make what it derived durable before anything leaves. */
  function conclude(s: Session, outcome: Outcome, outgoing: Outgoing[]): void {
    const { keyId, operation } = s.plan;
    const sessionId = s.sessionId;
    switch (outcome.kind) {
      case 'successor': {
        const confirm = outgoing.find((m) => m.type === 'lifecycle_confirm');
        if (!confirm) throw new ProtocolError('lifecycle_failed', 'a successor without its confirmation');
        // SECURITY: the successor is on disk, and this party's confirmation recorded, before the
        // confirmation can leave: what it confirms it can commit, and never abandon.
        const env = stageSuccessor(rules, s.plan, sessionId, outcome.pending, o.seal(confirm));
        s.confirmed = true;
        for (const out of outgoing) if (out !== confirm) send(out);
        o.transmit(env);
        o.crash('lifecycle-confirmed');
        logger.info({ keyId, sessionId, operation }, 'successor staged and confirmed');
        break;
      }
      case 'repaired': {
        const event = storeRepairedShare(rules, s.plan, sessionId, outcome.share);
        o.onShareChanged(keyId);
        for (const out of outgoing) send(out);
        record(event);
        logger.info({ keyId, sessionId }, 'share repaired');
        break;
      }
      case 'helped':
      case 'dealt':
        for (const out of outgoing) send(out);
        record({ type: outcome.kind === 'helped' ? 'repair_helped' : 'reshare_dealt', data: { keyId, sessionId } });
        break;
      default: {
        const never: never = outcome;
        throw new Error(`unhandled outcome ${JSON.stringify(never)}`);
      }
    }
    end(s);
  }

  function feed(s: Session, msg: Message): void {
    let step: LifecycleStep<unknown>;
    try {
      step = s.plan.machine.receive(msg);
    } catch (e) {
      logger.warn({ sessionId: s.sessionId, from: msg.from, code: isProtocolError(e) ? e.code : 'internal' }, 'lifecycle message refused');
      return;
    }
    run(s, step);
  }

  function onStart(msg: StartMessage): void {
    const sessionId = msg.sessionId;
    const keyId = msg.body.keyId;
    if (live.has(sessionId)) return; // the same start again while its session runs
    let plan: Plan;
    try {
      const ctx = { self: o.self, identity: o.identity, keystore, keyOf: o.keyOf, policy: o.policy, rng: o.rng };
      plan = admitStart(rules, msg, ctx, (k) => [...live.values()].find((s) => s.plan.keyId === k)?.sessionId);
    } catch (e) {
      const err = asProtocolError(e);
      logger.warn({ keyId, sessionId, type: msg.type, code: err.code }, 'lifecycle start refused');
      send(refusalOf(msg, err));
      return;
    }
    // SECURITY: on disk before anything of the session leaves, so no later life starts it again.
    o.sessions.recordStart(sessionId, keyId, now());
    o.crash('lifecycle-started');
    const s: Session = { plan, sessionId, deadline: { cancel: () => undefined }, confirmed: false };
    live.set(sessionId, s);
    s.deadline = o.clock.setTimeout(() => {
      if (live.get(sessionId) === s)
        fail(s, new ProtocolError('lifecycle_timeout', `no end within this party's deadline of ${o.policy.deadlineMs} ms`));
    }, o.policy.deadlineMs);
    logger.info({ keyId, sessionId, operation: plan.operation }, 'lifecycle operation started');
    run(s, plan.machine.start());
    const queued = early.get(sessionId) ?? [];
    early.delete(sessionId);
    earlyCount -= queued.length;
    for (const m of queued) if (live.get(sessionId) === s) feed(s, m);
  }

  function onPeerMessage(msg: Message): void {
    const s = live.get(msg.sessionId);
    if (s) feed(s, msg);
    if (msg.type === 'lifecycle_abort') {
      const released = releaseAbandoned(rules, msg);
      if (released) {
        tests.forget(released.discarded.sessionId);
        record(released.event);
      }
      return;
    }
    if (s || o.sessions.hasStarted(msg.sessionId) || earlyCount >= MAX_EARLY) return;
    const q = early.get(msg.sessionId) ?? [];
    q.push(msg);
    early.set(msg.sessionId, q);
    earlyCount++;
  }

  function onCoordinatorAbort(msg: Of<'lifecycle_abort'>): void {
    const { keyId, operation, code } = msg.body;
    const s = live.get(msg.sessionId);
    if (s && s.plan.keyId !== keyId) return;
    const e = new ProtocolError('lifecycle_failed', `aborted by the coordinator: ${code}`);
    if (s) {
      fail(s, e);
      return;
    }
    // A session of an earlier life of this party that never confirmed: say so, for the members that did.
    if (o.sessions.hasStarted(msg.sessionId)) abandon(keyId, msg.sessionId, operation, e);
  }

  function onComplete(msg: Of<'lifecycle_complete'>): void {
    try {
      const done = applyCertificate(rules, msg);
      if (done.kind === 'none') return;
      tests.forget(msg.sessionId);
      o.onShareChanged(msg.body.keyId);
      record(done.event);
    } catch (e) {
      const code = isProtocolError(e) ? e.code : 'internal';
      logger.error({ keyId: msg.body.keyId, sessionId: msg.sessionId, code }, 'lifecycle certificate rejected');
    }
  }

  const onDrill = (msg: Of<'drill_request'>) =>
    answerDrill({ self: o.self, keystore, rng: o.rng, send, record: (data) => record({ type: 'drill_answered', data }), logger }, msg);

  return {
    onStart,
    onPeerMessage,
    onDrill,
    onCoordinatorAbort,
    onComplete,
    onTestRequest: tests.onRequest,
    onTestPackage: tests.onPackage,
    holdings() {
      const holdings = keystore
        .usable()
        .shares.filter((s) => s.status === 'active')
        .map((s) => ({ keyId: s.share.keyId, generation: s.generation, packageHash: keyPackageHash(s.share.public) }));
      const staged = successions
        .list()
        .flatMap((s) => (s.confirm && s.decided === null ? [{ keyId: s.keyId, sessionId: s.sessionId, confirm: s.confirm }] : []));
      return { holdings, staged };
    },
    liveSessions: () => [...live.keys()],
    close() {
      for (const s of [...live.values()]) end(s);
      tests.close();
    },
  };
}
