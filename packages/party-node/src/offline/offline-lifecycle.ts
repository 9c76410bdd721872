/**
 * The offline party's side of refresh, repair, reshare and drills: the daemon's protocol machines
 * and rules (lifecycle/start-checks.ts, lifecycle/lifecycle-rules.ts), driven by bundles. An
 * operation takes several trips to the vault, and the machines keep their secrets in memory with no
 * snapshot, so a session is kept at rest instead (lifecycle-state.ts, sealed): a random seed of its
 * own, the start, every peer message the machine accepted and every envelope it sent. Each trip
 * re-creates the machine with an rng drawn from the seed (seeded-rng.ts), replays the start and the
 * stored messages — which makes exactly what it made before, checked against what was sent — and
 * then feeds the new ones.
 *
 * Order within one run, for each session (crash safety; docs/offline.md):
 *   join:      the operator's yes → state with the seed saved (`lifecycle-offline-joined`) → the
 *              start recorded in lifecycle-sessions.log (`lifecycle-started`);
 *   progress:  the machine re-created, old inputs replayed, new ones fed → the state replaced with
 *              the new inputs and envelopes (`lifecycle-offline-state-saved`);
 *   conclude:  the inputs saved first (`lifecycle-offline-inputs-saved`) → the successor staged with
 *              its confirmation (`lifecycle-staged`, `lifecycle-confirmed`) and a test nonce sealed
 *              (`lifecycle-offline-test-nonce-saved`), or the repaired share stored
 *              (`lifecycle-repaired`) → the state replaced, seed dropped;
 *   test:      the nonce deleted (`lifecycle-offline-test-nonce-deleted`) → the share computed →
 *              the state replaced;
 *   end:       certificate (`lifecycle-decided`, `lifecycle-switched`, `lifecycle-retired`) or
 *              abort → the state deleted (`lifecycle-offline-ended`);
 * then the caller writes the answer bundle and records the request bundle as handled.
 *
 * Why this is safe: nothing leaves a run before the state that produced it is on disk, and the
 * inputs a keystore write comes from are on disk before the write. So a crash anywhere either
 * leaves nothing that was computed (the next run computes it again from the same seed and the same
 * inputs: the same bytes) or leaves it recorded (the next run finds it and sends it again). A
 * secret box is never made twice over different plaintexts with one seed position where anyone can
 * see both: what was computed from inputs that are not on disk never left. A start recorded with no
 * state cannot happen (the state comes first); a state whose start is not yet recorded is resumed,
 * and recorded then. The replay is checked: a machine that does not make what was sent before ends
 * the session (`lifecycle_failed`) instead of sending anything new. The test nonce comes from the
 * real rng, never the seed, and is deleted before the share exists: it signs at most once.
 *
 * Every envelope a session sent is sent again, byte for byte, in every later answer until the
 * session ends here (certificate, the coordinator's abort, or this party's own deadline,
 * `dkg.offlineDeadlineMs`), so a lost answer bundle costs nothing; a superseded test commitment or
 * test share is dropped. Drills keep no state: each request is answered at once.
 */

import { createHash } from 'node:crypto';
import {
  COORDINATOR,
  canonicalJson,
  createSigner,
  type Envelope,
  fromHex,
  type IdentityKey,
  isProtocolError,
  LIFECYCLE_PEER_MESSAGES,
  type LifecycleOperation,
  type LifecycleStep,
  type Message,
  type Outgoing,
  openEnvelope,
  ProtocolError,
  type Rng,
  type Signer,
  sessionIdSchema,
  toHex,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import type { LifecycleConfig } from '../config.js';
import type { CrashPoint } from '../crash-points.js';
import { isPartyError } from '../errors.js';
import type { Keystore } from '../keystore/keystore.js';
import { answerDrill } from '../lifecycle/drill-answer.js';
import {
  abandonment,
  admitStart,
  applyCertificate,
  type LifecycleEvent,
  type LifecycleRuleDeps,
  operationOf,
  refusalOf,
  releaseAbandoned,
  stageSuccessor,
  storeRepairedShare,
} from '../lifecycle/lifecycle-rules.js';
import { type Plan, planStart, type StartContext, type StartMessage } from '../lifecycle/start-checks.js';
import {
  stagedForTest,
  type TestPackage,
  type TestRequest,
  testCommitment,
  testShare,
  testSigning,
} from '../lifecycle/successor-test-signer.js';
import type { Clock } from '../ports.js';
import type { PartyRecords } from '../records.js';
import { type LifecycleStates, openLifecycleStates, type SessionState } from './lifecycle-state.js';
import { SEED_BYTES, seededRng } from './seeded-rng.js';

type Of<T extends Message['type']> = Extract<Message, { type: T }>;

/** One authenticated message of a bundle, with the envelope it came in (kept as received). */
export interface BundleMessage {
  msg: Message;
  env: Envelope;
}

/** A party as the operator sees it: the identity key THIS party pinned for it. */
export interface PartyView {
  partyId: string;
  identityKey: string | null;
  self: boolean;
}

/** What the operator is asked to take part in: what THIS party read from the start and holds. */
export interface LifecycleJoinView {
  operation: LifecycleOperation;
  keyId: string;
  sessionId: string;
  suite: string;
  /** The key's public key (no operation changes it). */
  publicKey: string;
  /** The generation the operation starts from, and the one this party's share will be of. */
  generation: { from: number; to: number };
  role: 'member' | 'dealer' | 'dealer and new member' | 'new member' | 'helper' | 'target';
  /** The key's committee and threshold now (from the package this party holds, or was sent and checked). */
  current: { threshold: number; committee: PartyView[] };
  /** A reshare's new committee and threshold. */
  next: { threshold: number; committee: PartyView[] } | null;
  dealers: string[] | null;
  target: string | null;
  helpers: string[] | null;
}

/** What happened to one lifecycle session (or drill) in a run. */
export interface OfflineLifecycleResult {
  kind: 'lifecycle';
  operation: LifecycleOperation | 'drill';
  keyId: string;
  sessionId: string;
  /**
   * joined: the start accepted, this party's first messages made; waiting: more of the others'
   * messages needed; confirmed: successor staged, confirmation and test commitment made; dealt /
   * helped / repaired: this party's part done; test_commitment / test_signed: the successor test;
   * switched / retired / completed: the certificate (new share live / share destroyed / nothing to
   * change here); released: a member's signed abandonment discarded the staged successor;
   * aborted: the coordinator's abort; proved: a drill answered; failed / refused / declined /
   * rejected (a certificate that does not check out) / ignored: see `code`.
   */
  status:
    | 'joined'
    | 'waiting'
    | 'confirmed'
    | 'dealt'
    | 'helped'
    | 'repaired'
    | 'test_commitment'
    | 'test_signed'
    | 'switched'
    | 'retired'
    | 'completed'
    | 'released'
    | 'aborted'
    | 'proved'
    | 'failed'
    | 'refused'
    | 'declined'
    | 'rejected'
    | 'ignored';
  code?: string;
  generation?: number;
  publicKey?: string;
}

export interface OfflineLifecycleOptions {
  self: string;
  identity: IdentityKey;
  keystore: Keystore;
  records: Pick<PartyRecords, 'lifecycleSessions' | 'lifecycleConfirmed' | 'lifecycleLog'>;
  /** Pinned identity keys (the coordinator's, the peers', this party's own). */
  keyOf: (name: string) => Uint8Array | undefined;
  policy: LifecycleConfig;
  /** The real rng: session seeds, test nonces, drill proofs. */
  rng: Rng;
  clock: Clock;
  /** `dkg.offlineDeadlineMs`: a session kept here ends this long after this party joined it. */
  deadlineMs: number;
  logger: Logger;
  crash: (point: CrashPoint) => void;
  /** The live share of a key changed (switched, repaired, retired). */
  onShareChanged: (keyId: string) => void;
}

export interface OfflineLifecycle {
  /**
   * Handles the lifecycle messages of one bundle (authenticated, in bundle order), this party's own
   * deadline, and the re-sending of every session kept here. `seal` seals this run's envelopes;
   * `confirm` is asked before joining a new operation. Every state change is on disk when it resolves.
   */
  process(
    items: readonly BundleMessage[],
    seal: (out: Outgoing) => Envelope,
    confirm: (view: LifecycleJoinView) => Promise<boolean>,
  ): Promise<{ envelopes: Envelope[]; results: OfflineLifecycleResult[] }>;
  /** Sessions whose state is kept here. */
  sessions(): string[];
  /** The highest envelope seq kept for re-sending (a new run must number above it). */
  highestSeq(): number;
}

const START_TYPES: ReadonlySet<string> = new Set(['refresh_start', 'repair_start', 'reshare_start']);
/** A peer's part of a session (and a member's signed abort): fed to its machine. */
const PEER_TYPES: ReadonlySet<string> = LIFECYCLE_PEER_MESSAGES;
/** Only the coordinator sends these. */
const CONTROL_TYPES: ReadonlySet<string> = new Set([
  ...START_TYPES,
  'lifecycle_complete',
  'lifecycle_test_request',
  'lifecycle_test_package',
  'drill_request',
]);
/**
 * True for a message the offline lifecycle handles: a peer's round message or abort, or one of the
 * coordinator's (its start, abort, certificate, test request and package, drill request). A
 * control message from anyone else is not one.
 */
export const isLifecycleMessage = (m: Message): boolean =>
  m.from === COORDINATOR ? CONTROL_TYPES.has(m.type) || m.type === 'lifecycle_abort' : PEER_TYPES.has(m.type);

/** The same message, whatever envelope carried it. */
const sameMessage = (
  out: Pick<Outgoing, 'type' | 'sessionId' | 'to' | 'body'>,
  env: Pick<Envelope, 'type' | 'sessionId' | 'to' | 'body'>,
) =>
  canonicalJson({ type: out.type, sessionId: out.sessionId, to: out.to, body: out.body }) ===
  canonicalJson({ type: env.type, sessionId: env.sessionId, to: env.to, body: env.body });
const contentKey = (m: Pick<Envelope, 'type' | 'from' | 'to' | 'body'>) =>
  canonicalJson({ type: m.type, from: m.from, to: m.to, body: m.body });
const digestOf = (value: unknown) => createHash('sha256').update(canonicalJson(value)).digest('hex');

/**
 * A ProtocolError or PartyError is a refusal the session answers. Anything else (an I/O failure, a
 * bug) ends the run with nothing written out, as a crash would: every step before it is on disk.
 */
function refusal(e: unknown): ProtocolError {
  if (isProtocolError(e)) return e;
  if (isPartyError(e)) return new ProtocolError('lifecycle_failed', `${e.code}: ${e.message}`);
  throw e;
}

export function openOfflineLifecycle(o: OfflineLifecycleOptions): OfflineLifecycle {
  const { keystore, logger, self } = o;
  const store: LifecycleStates = openLifecycleStates(keystore);

  async function process(
    items: readonly BundleMessage[],
    seal: (out: Outgoing) => Envelope,
    confirm: (view: LifecycleJoinView) => Promise<boolean>,
  ): Promise<{ envelopes: Envelope[]; results: OfflineLifecycleResult[] }> {
    const now = o.clock.now();
    const date = new Date(now);
    const rules: LifecycleRuleDeps = {
      self,
      keystore,
      sessions: o.records.lifecycleSessions,
      confirmed: o.records.lifecycleConfirmed,
      keyOf: o.keyOf,
      now: () => date,
      logger,
      crash: o.crash,
    };
    const states = new Map(store.list().map((s) => [s.sessionId, s]));
    /** Envelopes of this run that belong to no session kept here (refusals, aborts of a session that ends, drill proofs). */
    const once: Envelope[] = [];
    const results: OfflineLifecycleResult[] = [];
    const record = ({ type, data }: LifecycleEvent) => o.records.lifecycleLog.record(type, data, date);
    const result = (
      s: Pick<OfflineLifecycleResult, 'operation' | 'keyId' | 'sessionId'>,
      status: OfflineLifecycleResult['status'],
      extra: Pick<OfflineLifecycleResult, 'code' | 'generation' | 'publicKey'> = {},
    ) => results.push({ kind: 'lifecycle', operation: s.operation, keyId: s.keyId, sessionId: s.sessionId, status, ...extra });

    function persist(s: SessionState): void {
      store.save(s);
      states.set(s.sessionId, s);
    }
    function save(s: SessionState): void {
      persist(s);
      o.crash('lifecycle-offline-state-saved');
    }
    function end(s: SessionState): void {
      store.remove(s.sessionId);
      states.delete(s.sessionId);
      o.crash('lifecycle-offline-ended');
    }
    const ctxWith = (rng: Rng, resuming = false): StartContext => ({
      self,
      identity: o.identity,
      keystore,
      keyOf: o.keyOf,
      policy: o.policy,
      rng,
      resuming,
    });
    const runningFor = (keyId: string) => [...states.values()].find((s) => s.keyId === keyId && s.outcome === null)?.sessionId;

    /**
     * This party's part fails here: the seed goes, and a session it never confirmed is abandoned by
     * a signed broadcast abort, kept and sent again until the coordinator's last word.
     */
    async function fail(s: SessionState, e: ProtocolError): Promise<void> {
      logger.warn({ keyId: s.keyId, sessionId: s.sessionId, code: e.code, culprits: e.culprits }, 'lifecycle operation failed here');
      const a = abandonment(rules, s.keyId, s.sessionId, s.operation, e);
      if (a) await record(a.event);
      result(s, 'failed', { code: e.code });
      if (!a) {
        end(s);
        return;
      }
      save({ ...s, outcome: 'failed', seed: null, inputs: [], sent: [seal(a.abort)] });
    }

    // This party's own deadline, whatever the coordinator says (and whether or not it says anything).
    for (const s of [...states.values()]) {
      if (now > s.startedAt + o.deadlineMs) {
        if (s.outcome === null) {
          const e = new ProtocolError('lifecycle_timeout', `no end within this party's offline deadline of ${o.deadlineMs} ms`);
          const a = abandonment(rules, s.keyId, s.sessionId, s.operation, e);
          if (a) {
            once.push(seal(a.abort));
            await record(a.event);
          }
          result(s, 'failed', { code: e.code });
        }
        end(s);
      } else if (s.outcome === 'confirmed' && keystore.successions.staged(s.keyId)?.sessionId !== s.sessionId) {
        // Its successor was discarded (by the operator): nothing is left to answer for.
        end(s);
      }
    }

    /** A start this party has no state of: its checks, the operator's yes, the state, the record. */
    async function join(item: BundleMessage): Promise<{ s: SessionState; plan: Plan } | undefined> {
      const msg = item.msg as StartMessage;
      const base = { operation: operationOf(msg), keyId: msg.body.keyId, sessionId: msg.sessionId };
      const seed = o.rng(SEED_BYTES);
      let plan: Plan;
      try {
        plan = admitStart(rules, msg, ctxWith(seededRng(seed, msg.sessionId)), runningFor);
      } catch (e) {
        const err = refusal(e);
        logger.warn({ ...base, code: err.code }, 'lifecycle start refused');
        once.push(seal(refusalOf(msg, err)));
        result(base, 'refused', { code: err.code });
        return undefined;
      }
      if (!(await confirm(joinView(msg, plan)))) {
        const declined = { code: 'lifecycle_declined', message: `${self}'s operator declined to take part`, culprits: [] };
        once.push(seal(refusalOf(msg, declined)));
        result(base, 'declined', { code: declined.code });
        return undefined;
      }
      const s: SessionState = {
        v: 1,
        ...base,
        start: item.env,
        startedAt: now,
        outcome: null,
        seed: toHex(seed),
        inputs: [],
        sent: [],
        testPackage: null,
        testRequest: null,
      };
      seed.fill(0);
      persist(s);
      o.crash('lifecycle-offline-joined');
      return { s, plan };
    }

    /**
     * Re-creates the machine, replays the start and the stored inputs (checked against what was
     * sent), feeds the new inputs, and saves what came of it.
     */
    async function advance(s: SessionState, given: Plan | undefined, inputs: readonly BundleMessage[], joined: boolean): Promise<void> {
      // SECURITY: on disk before anything of the session leaves, so no later run starts it again.
      if (!o.records.lifecycleSessions.hasStarted(s.sessionId)) {
        o.records.lifecycleSessions.recordStart(s.sessionId, s.keyId, date);
        o.crash('lifecycle-started');
      }
      let plan = given;
      const outs: Outgoing[] = [];
      let final: LifecycleStep<unknown> | undefined;
      const take = (step: LifecycleStep<unknown>) => {
        outs.push(...step.outgoing);
        if (step.result !== undefined || step.error) final = step;
      };
      try {
        if (!plan) {
          const start = openEnvelope(s.start, { self, keyOf: o.keyOf }) as StartMessage;
          plan = planStart(start, ctxWith(seededRng(fromHex(s.seed as string), s.sessionId), true));
        }
        take(plan.machine.start());
        for (const env of s.inputs) {
          if (final) break;
          take(plan.machine.receive(openEnvelope(env, { self, keyOf: o.keyOf })));
        }
        if (outs.length < s.sent.length || s.sent.some((env, i) => !sameMessage(outs[i] as Outgoing, env))) {
          throw new ProtocolError('lifecycle_failed', 'the saved session does not replay to what this party sent');
        }
      } catch (e) {
        await fail(s, new ProtocolError('lifecycle_failed', `this party's saved session cannot resume: ${refusal(e).message}`));
        return;
      }
      const machine = plan.machine;
      const known = new Set(s.inputs.map(contentKey));
      for (const { msg, env } of inputs) {
        if (final) break;
        if (known.has(contentKey(env))) continue;
        let step: LifecycleStep<unknown>;
        try {
          step = machine.receive(msg);
        } catch (e) {
          logger.warn({ sessionId: s.sessionId, from: msg.from, code: refusal(e).code }, 'lifecycle message refused');
          continue;
        }
        known.add(contentKey(env));
        s.inputs.push(env);
        take(step);
      }
      const fresh = outs.slice(s.sent.length);
      if (final?.error) return fail(s, final.error);
      if (final?.result !== undefined) return conclude(s, plan, final.result, fresh);
      for (const out of fresh) s.sent.push(seal(out));
      save(s);
      result(s, joined ? 'joined' : 'waiting');
    }

    /** This party's part succeeded: what it derived is durable before anything claiming it can leave. */
    async function conclude(s: SessionState, plan: Plan, value: unknown, fresh: Outgoing[]): Promise<void> {
      const outcome = plan.outcome(value);
      const done = (kind: NonNullable<SessionState['outcome']>, sent: Envelope[]) =>
        save({ ...s, outcome: kind, seed: null, inputs: [], sent: [...s.sent, ...sent] });
      try {
        switch (outcome.kind) {
          case 'successor': {
            const confirm = fresh.find((m) => m.type === 'lifecycle_confirm');
            if (!confirm) throw new ProtocolError('lifecycle_failed', 'a successor without its confirmation');
            // SECURITY: the inputs it comes from on disk first: a crash can only derive this same successor again.
            persist(s);
            o.crash('lifecycle-offline-inputs-saved');
            const rest = fresh.filter((m) => m !== confirm).map(seal);
            const confirmed = stageSuccessor(rules, plan, s.sessionId, outcome.pending, seal(confirm));
            o.crash('lifecycle-confirmed');
            // The test commitment rides with the confirmation (docs/offline.md), its nonce sealed first.
            const commitment = store.freshNonce(s.sessionId, outcome.pending.share, o.rng);
            o.crash('lifecycle-offline-test-nonce-saved');
            const test = seal(testCommitment(outcome.pending, s.sessionId, commitment));
            done('confirmed', [...rest, confirmed, test]);
            result(s, 'confirmed', { generation: plan.generation });
            return;
          }
          case 'repaired': {
            persist(s);
            o.crash('lifecycle-offline-inputs-saved');
            const event = storeRepairedShare(rules, plan, s.sessionId, outcome.share);
            o.onShareChanged(s.keyId);
            await record(event);
            done('repaired', fresh.map(seal));
            result(s, 'repaired', { generation: plan.generation });
            return;
          }
          case 'helped':
          case 'dealt':
            await record({
              type: outcome.kind === 'helped' ? 'repair_helped' : 'reshare_dealt',
              data: { keyId: s.keyId, sessionId: s.sessionId },
            });
            done(outcome.kind, fresh.map(seal));
            result(s, outcome.kind);
            return;
          default: {
            const never: never = outcome;
            throw new Error(`unhandled outcome ${JSON.stringify(never)}`);
          }
        }
      } catch (e) {
        await fail(s, refusal(e));
      }
    }

    /** The staged test signer's answer replacing the session's test commitment or share. */
    function replaceTest(s: SessionState, env: Envelope, patch: Partial<SessionState>): void {
      const drop =
        env.type === 'lifecycle_test_commitment' ? ['lifecycle_test_commitment', 'lifecycle_test_share'] : ['lifecycle_test_share'];
      save({ ...s, ...patch, sent: [...s.sent.filter((e) => !drop.includes(e.type)), env] });
    }

    /** A fresh test commitment (rule 3): the unused nonce, if any, replaced. */
    function freshCommitment(s: SessionState, msg: TestRequest | TestPackage, patch: Partial<SessionState> = {}): void {
      const staged = stagedForTest(keystore.successions, msg, logger);
      if (!staged) return;
      const commitment = store.freshNonce(s.sessionId, staged.share, o.rng);
      o.crash('lifecycle-offline-test-nonce-saved');
      replaceTest(s, seal(testCommitment(staged, s.sessionId, commitment)), patch);
      result(s, 'test_commitment');
    }

    async function testPackage(s: SessionState, item: BundleMessage): Promise<void> {
      const msg = item.msg as TestPackage;
      const staged = stagedForTest(keystore.successions, msg, logger);
      const digest = digestOf(msg.body);
      if (!staged || s.testPackage === digest) return; // nothing staged, or answered: its share is sent again
      const { pkg, messages } = testSigning(staged, msg);
      const nonce = store.nonce(s.sessionId);
      let prepared: ReturnType<Signer['prepare']> | undefined;
      if (nonce) {
        const signer = createSigner(staged.share, o.rng, { maxPending: 1 });
        try {
          signer.adopt(nonce);
          prepared = signer.prepare(pkg, messages);
        } catch (e) {
          const code = isProtocolError(e) ? e.code : 'internal';
          if (code !== 'unknown_commitment') {
            logger.warn({ keyId: s.keyId, sessionId: s.sessionId, code }, 'test signing package refused');
            result(s, 'ignored', { code });
            return;
          }
        } finally {
          nonce.nonces.hiding.fill(0);
          nonce.nonces.binding.fill(0);
        }
      }
      // No unused nonce that this package uses (used before, or lost in a crash): a fresh commitment.
      if (!prepared) return freshCommitment(s, msg);
      // SECURITY: the nonce is gone from disk before the share exists: it can never sign twice.
      store.dropNonce(s.sessionId);
      o.crash('lifecycle-offline-test-nonce-deleted');
      const signed = prepared.sign();
      await record({ type: 'successor_test_signed', data: { keyId: s.keyId, sessionId: s.sessionId, commitment: signed.consumed[0] } });
      replaceTest(s, seal(testShare(staged, s.sessionId, signed.shares[0] as Uint8Array)), { testPackage: digest });
      result(s, 'test_signed');
    }

    /** The certificate: true when the session is over here (switched, retired, or nothing left to do). */
    async function certificate(sessionId: string, msg: Of<'lifecycle_complete'>): Promise<boolean> {
      const s = states.get(sessionId);
      const at = { operation: msg.body.operation, keyId: msg.body.keyId, sessionId };
      let done: ReturnType<typeof applyCertificate>;
      try {
        done = applyCertificate(rules, msg);
      } catch (e) {
        const { code } = refusal(e);
        logger.error({ keyId: msg.body.keyId, sessionId, code }, 'lifecycle certificate rejected');
        result(at, 'rejected', { code });
        return false;
      }
      if (done.kind !== 'none') await record(done.event);
      // Also for a session kept here whose switch a crash interrupted (finished when the keystore opened).
      if (done.kind !== 'none' || s) o.onShareChanged(msg.body.keyId);
      if (s) end(s);
      if (done.kind === 'switched') {
        result(at, 'switched', { generation: done.stored.generation, publicKey: done.stored.share.public.publicKey });
      } else if (done.kind === 'retired') result(at, 'retired', { generation: done.generation });
      else if (s) result(at, 'completed');
      return true;
    }

    /** The coordinator's abort: the session ends here; one this party never confirmed it abandons. */
    async function coordinatorAbort(sessionId: string, msg: Of<'lifecycle_abort'>): Promise<void> {
      const s = states.get(sessionId);
      if (!s || s.keyId !== msg.body.keyId) return; // a repeat, or not a session kept here
      if (s.outcome === null) {
        const e = new ProtocolError('lifecycle_failed', `aborted by the coordinator: ${msg.body.code}`);
        const a = abandonment(rules, s.keyId, s.sessionId, s.operation, e);
        if (a) {
          once.push(seal(a.abort));
          await record(a.event);
        }
      }
      end(s);
      result(s, 'aborted', { code: msg.body.code });
    }

    async function drill(msg: Of<'drill_request'>): Promise<void> {
      let answered: Record<string, unknown> = {};
      const keep = (data: Record<string, unknown>) => {
        answered = data;
      };
      answerDrill({ self, keystore, rng: o.rng, send: (out) => once.push(seal(out)), record: keep, logger }, msg);
      await record({ type: 'drill_answered', data: answered });
      const at = { operation: 'drill' as const, keyId: msg.body.keyId, sessionId: msg.sessionId };
      if (answered.ok === true) results.push({ kind: 'lifecycle', ...at, status: 'proved', generation: answered.generation as number });
      else results.push({ kind: 'lifecycle', ...at, status: 'failed', code: String(answered.code) });
    }

    async function session(sessionId: string, list: readonly BundleMessage[]): Promise<void> {
      const mine = list.filter(({ msg }) => msg.from === COORDINATOR);
      const peer = list.filter(({ msg }) => msg.from !== COORDINATOR);
      for (const { msg } of mine) if (msg.type === 'drill_request') await drill(msg);
      const complete = mine.find(({ msg }) => msg.type === 'lifecycle_complete')?.msg as Of<'lifecycle_complete'> | undefined;
      if (complete && (await certificate(sessionId, complete))) return;
      const abort = mine.find(({ msg }) => msg.type === 'lifecycle_abort')?.msg as Of<'lifecycle_abort'> | undefined;
      if (abort) return coordinatorAbort(sessionId, abort);

      let s = states.get(sessionId);
      let plan: Plan | undefined;
      let joined = false;
      const start = mine.find((i) => START_TYPES.has(i.msg.type));
      if (!s && start) {
        const j = await join(start);
        if (!j) return;
        ({ s, plan } = j);
        joined = true;
      }
      if (!s) return; // messages of a session this party does not run (any more)
      if (s.outcome === null) await advance(s, plan, peer, joined);
      for (const { msg } of peer) {
        if (msg.type !== 'lifecycle_abort') continue;
        const released = releaseAbandoned(rules, msg);
        if (!released) continue;
        await record(released.event);
        const kept = states.get(sessionId);
        if (kept) end(kept);
        result(kept ?? s, 'released', { code: msg.body.code });
      }
      for (const { msg, env } of mine) {
        const kept = states.get(sessionId);
        if (kept?.outcome !== 'confirmed') break;
        if (msg.type === 'lifecycle_test_request' && kept.testRequest !== env.signature)
          freshCommitment(kept, msg, { testRequest: env.signature });
        else if (msg.type === 'lifecycle_test_package') await testPackage(kept, { msg, env });
      }
    }

    const bySession = new Map<string, BundleMessage[]>();
    for (const item of items) {
      if (!sessionIdSchema.safeParse(item.msg.sessionId).success) continue;
      bySession.set(item.msg.sessionId, [...(bySession.get(item.msg.sessionId) ?? []), item]);
    }
    for (const [sessionId, list] of bySession) await session(sessionId, list);
    // Every envelope of every session kept here, again (in seq order: the coordinator checks it per session).
    const resent = [...states.values()].flatMap((s) => [...s.sent].sort((a, b) => a.seq - b.seq));
    return { envelopes: [...once, ...resent], results };
  }

  /** What the operator reads before joining: what THIS party read from the start and its own pins. */
  function joinView(msg: StartMessage, plan: Plan): LifecycleJoinView {
    const pkg = plan.predecessorKey;
    const party = (p: string): PartyView => {
      const k = o.keyOf(p);
      return { partyId: p, identityKey: k ? toHex(k) : null, self: p === self };
    };
    const view = {
      operation: plan.operation,
      keyId: plan.keyId,
      sessionId: msg.sessionId,
      suite: pkg.suite,
      publicKey: pkg.publicKey,
      current: { threshold: pkg.threshold, committee: pkg.committee.map(party) },
      next: null,
      dealers: null,
      target: null,
      helpers: null,
    };
    switch (msg.type) {
      case 'refresh_start':
        return { ...view, generation: { from: plan.generation - 1, to: plan.generation }, role: 'member' };
      case 'reshare_start': {
        const { dealers, committee, threshold } = msg.body;
        const deals = dealers.includes(self);
        const receives = committee.includes(self);
        return {
          ...view,
          generation: { from: plan.generation - 1, to: plan.generation },
          role: deals && receives ? 'dealer and new member' : deals ? 'dealer' : 'new member',
          next: { threshold, committee: committee.map(party) },
          dealers: [...dealers],
        };
      }
      case 'repair_start':
        return {
          ...view,
          generation: { from: plan.generation, to: plan.generation },
          role: msg.body.target === self ? 'target' : 'helper',
          target: msg.body.target,
          helpers: [...msg.body.helpers],
        };
      default: {
        const never: never = msg;
        throw new Error(`unhandled start ${JSON.stringify(never)}`);
      }
    }
  }

  return {
    process,
    sessions: () => store.list().map((s) => s.sessionId),
    highestSeq: () => Math.max(0, ...store.list().flatMap((s) => s.sent.map((e) => e.seq))),
  };
}
