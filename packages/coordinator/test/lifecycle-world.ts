/**
 * The lifecycle driver, sans IO, among scripted parties that run the protocol's own lifecycle
 * machines: online ones answer at once over a fake link; an offline one (docs/offline.md) is
 * reached through a real outbox, carried to it in trips, and its answers come back as a signed
 * bundle through the real inbox check (`readInbox`) and are fed as the orchestrator feeds them. The
 * clock is virtual. The offline party follows the bundle contract: it re-sends every envelope it
 * sent in every later answer, sends a test commitment with its confirmation, and answers a test
 * package it holds no nonce for with a fresh commitment.
 */
import {
  activateSuccessor,
  BROADCAST,
  COORDINATOR,
  createRefreshParticipant,
  createRepairParticipant,
  createReshareParticipant,
  createSigner,
  type Envelope,
  type KeyShare,
  type LifecycleStep,
  type Message,
  type MessageBody,
  type Outgoing,
  openEnvelope,
  type PendingSuccessor,
  type PublicKeyPackage,
  proveShareIntact,
  type RepairResult,
  type ReshareResult,
  rawIntent,
  type Signer,
  sealBundle,
  successorTestMessage,
  toHex,
} from '@glacis/protocol';
import { pino } from 'pino';
import { nullMetrics } from '../../../test/support/in-process-cluster.js';
import { MemoryStore } from '../../../test/support/memory-store.js';
import type { Cluster } from '../../protocol/test/harness.js';
import { rng, type SimWorld } from '../../protocol/test/sim.js';
import { createLifecycleDriver, type LifecycleDriver } from '../src/orchestrator/lifecycle-driver.js';
import { readInbox } from '../src/orchestrator/offline-inbox.js';
import { createOfflineOutbox } from '../src/orchestrator/offline-outbox.js';
import type { Clock } from '../src/orchestrator/ports.js';
import { type LifecycleKind, parseSessionId, type SessionRefOf } from '../src/orchestrator/session-id.js';
import type { LifecycleType } from '../src/store/types.js';

export const OFFLINE_DEADLINE_MS = 86_400_000;
export const ONLINE_TIMEOUT_MS = 60_000;

type Machine<R> = { receive(msg: Message): LifecycleStep<R>; start(): LifecycleStep<R> };

/** How a scripted party misbehaves (or is unlucky). */
export interface PartyQuirks {
  /** Offline: the next test package finds no unused nonce (a crash after its deletion). */
  loseTestNonce?: boolean;
}

/** One party's side of every lifecycle session, run by the protocol's machines. */
export class ScriptedParty {
  /** The share it holds (undefined: lost, or never had one). */
  share: KeyShare | undefined;
  readonly switched: string[] = [];
  /** Every envelope it sent, in order: an offline party sends them all again in each answer. */
  readonly sent: Envelope[] = [];
  private readonly read = new Set<string>();
  private readonly machines = new Map<string, Machine<unknown>>();
  private readonly pending = new Map<string, PendingSuccessor>();
  private readonly signers = new Map<string, Signer>();

  constructor(
    readonly name: string,
    share: KeyShare | undefined,
    private readonly world: SimWorld,
    readonly offline: boolean,
    readonly quirks: PartyQuirks = {},
  ) {
    this.share = share;
  }

  /** Takes one envelope addressed to it (or to all); returns what it sends, sealed. A repeat is ignored. */
  receive(env: Envelope): Envelope[] {
    if (this.read.has(env.signature)) return [];
    this.read.add(env.signature);
    const msg = openEnvelope(env, { self: this.name, keyOf: this.world.keyOf });
    const out = this.handle(msg);
    const sealer = this.world.parties.get(this.name)?.sealer;
    if (!sealer) throw new Error(`no sealer for ${this.name}`);
    const sealed = out.map((o) => sealer.seal(o));
    this.sent.push(...sealed);
    return sealed;
  }

  private step(sessionId: string, s: LifecycleStep<unknown>): Outgoing[] {
    const out = [...s.outgoing];
    const r = s.result as PendingSuccessor | ReshareResult | RepairResult | undefined;
    const pending = r && 'kind' in r ? (r.kind === 'successor' ? r.successor : undefined) : r;
    if (r && 'kind' in r && r.kind === 'repaired') this.share = r.share;
    if (pending) {
      this.pending.set(sessionId, pending);
      // Contract rule 2: an offline holder sends a test commitment with its confirmation.
      if (this.offline) out.push(this.commit(sessionId));
    }
    return out;
  }

  private commit(sessionId: string): Outgoing {
    const pending = this.pending.get(sessionId) as PendingSuccessor;
    const signer = createSigner(pending.share, rng, { maxPending: 1 });
    this.signers.set(sessionId, signer);
    return { type: 'lifecycle_test_commitment', sessionId, to: COORDINATOR, body: { keyId: pending.keyId, commitment: signer.commit() } };
  }

  private start<R>(sessionId: string, m: Machine<R>): Outgoing[] {
    this.machines.set(sessionId, m as Machine<unknown>);
    return this.step(sessionId, m.start());
  }

  /** The key's package as a start gives it (a newcomer's), else the one of the share held. */
  private packageOf(sent: PublicKeyPackage | undefined): PublicKeyPackage {
    const pkg = sent ?? this.share?.public;
    if (!pkg) throw new Error(`${this.name}: a start without the key's package, and no share`);
    return pkg;
  }

  private handle(msg: Message): Outgoing[] {
    const common = { sessionId: msg.sessionId, identity: this.identity, peerKey: this.world.keyOf, rng };
    switch (msg.type) {
      case 'refresh_start':
        return this.start(msg.sessionId, createRefreshParticipant({ ...common, share: this.share as KeyShare }));
      case 'reshare_start': {
        const b = msg.body;
        const dealer = b.dealers.includes(this.name);
        return this.start(
          msg.sessionId,
          createReshareParticipant({
            ...common,
            key: this.packageOf(b.key),
            ...(dealer ? { share: this.share as KeyShare } : {}),
            self: this.name,
            dealers: b.dealers,
            committee: b.committee,
            threshold: b.threshold,
          }),
        );
      }
      case 'repair_start': {
        const b = msg.body;
        const helper = b.helpers.includes(this.name);
        return this.start(
          msg.sessionId,
          createRepairParticipant({
            ...common,
            key: this.packageOf(b.key),
            ...(helper ? { share: this.share as KeyShare } : {}),
            self: this.name,
            target: b.target,
            helpers: b.helpers,
          }),
        );
      }
      case 'lifecycle_test_request':
        return [this.commit(msg.sessionId)];
      case 'lifecycle_test_package':
        return this.testShare(msg);
      case 'lifecycle_complete': {
        const pending = this.pending.get(msg.sessionId);
        const current = this.share;
        if (pending && current) {
          this.share = activateSuccessor(pending, {
            predecessor: current.public,
            confirmations: msg.body.confirmations,
            keyOf: this.world.keyOf,
          });
        } else if (!pending) {
          this.share = undefined; // reshared away: the old share retires
        }
        this.switched.push(msg.sessionId);
        return [];
      }
      case 'drill_request': {
        const share = this.share as KeyShare;
        const proof = proveShareIntact(share, { ...msg.body, partyId: this.name }, rng);
        return [{ type: 'drill_proof', sessionId: msg.sessionId, to: COORDINATOR, body: proof }];
      }
      case 'lifecycle_abort':
        if (msg.from !== COORDINATOR) break;
        // The coordinator's abort: the session is over here (a party's own is fed to its machine below).
        this.machines.delete(msg.sessionId);
        return [];
      default:
        break;
    }
    const m = this.machines.get(msg.sessionId);
    return m ? this.step(msg.sessionId, m.receive(msg)) : [];
  }

  private testShare(msg: Extract<Message, { type: 'lifecycle_test_package' }>): Outgoing[] {
    const pending = this.pending.get(msg.sessionId) as PendingSuccessor;
    // Contract rule 3: no unused nonce for the session (here: lost after its deletion): a fresh commitment.
    if (this.quirks.loseTestNonce) {
      this.quirks.loseTestNonce = false;
      return [this.commit(msg.sessionId)];
    }
    const signer = this.signers.get(msg.sessionId) as Signer;
    const message = successorTestMessage(msg.sessionId, pending.public);
    const pkg: MessageBody<'signing_package'> = {
      keyId: pending.keyId,
      requestId: msg.sessionId,
      intent: rawIntent(toHex(message)),
      approvals: [],
      commitments: msg.body.commitments,
    };
    const signed = signer.sign(pkg, [message]);
    return [
      {
        type: 'lifecycle_test_share',
        sessionId: msg.sessionId,
        to: COORDINATOR,
        body: { keyId: pending.keyId, share: toHex(signed.shares[0] as Uint8Array) },
      },
    ];
  }

  private get identity() {
    const p = this.world.parties.get(this.name);
    if (!p) throw new Error(`no identity for ${this.name}`);
    return p.identity;
  }
}

/** One trip to a vault: what it was carried in, and the new envelopes it answered (beside the re-sent ones). */
export interface Trip {
  in: string[];
  out: string[];
  /** Envelopes in the answer bundle (everything it sent so far). */
  answered: number;
}

export interface LifecycleWorld {
  store: MemoryStore;
  driver: LifecycleDriver;
  keyId: string;
  parties: Map<string, ScriptedParty>;
  /** Every timer the driver armed, in ms. */
  timers: number[];
  /** Every envelope forwarded to an online party, as `type:from→to`. */
  forwarded: string[];
  /** Every envelope the coordinator sealed for an online party, as `type→to`. */
  sealed: string[];
  /** What waits in `partyId`'s outbox now, as `type:from`. */
  outbox(partyId: string): string[];
  /** Starts operation `type` as the HTTP layer would; returns its id (nothing delivered yet: `pump`). */
  begin(type: LifecycleType, params?: object): Promise<string>;
  /** Delivers everything queued for online parties and their answers, until nothing moves. */
  pump(): Promise<void>;
  /** Carries `partyId`'s outbox to its vault and its answer bundle back through the inbox, then pumps. */
  trip(partyId: string): Promise<Trip>;
  /** Carries `partyId`'s outbox to its vault; its answer (everything it sent so far) is left to the test to post, or lose. */
  visit(partyId: string): { trip: Trip; answer: Envelope[] };
  /** The bundle the vault would post: a signed bundle of `envelopes` (its sequence increases). */
  answerBundle(partyId: string, envelopes: Envelope[]): Uint8Array;
  /** Feeds a bundle as POST …/inbox does (checked whole first); throws the inbox's refusal. */
  post(partyId: string, bundle: Uint8Array): Promise<void>;
  /** Moves the virtual clock on, firing the timers due. */
  advance(ms: number): Promise<void>;
  status(operationId: string): string | undefined;
}

/**
 * A world over the key of `c` (its parties: `online` reached by socket, `offline` by bundles);
 * `extra` names are parties with no share (new members). `world` must hold every name.
 */
export function lifecycleWorld(
  c: Cluster,
  world: SimWorld,
  o: { online: string[]; offline: string[]; extra?: string[]; quirks?: Record<string, PartyQuirks>; lost?: string[] },
): LifecycleWorld {
  const keyId = c.pub.keyId;
  const store = new MemoryStore();
  store.addKey(keyId, c.suite.id, c.pub.threshold, [...c.pub.committee]);
  store.markKeyActive(keyId, {
    publicKey: c.pub.publicKey,
    verifyingShares: c.pub.verifyingShares,
    groupCommitment: c.pub.groupCommitment,
    certificate: [],
  });
  const parties = new Map<string, ScriptedParty>();
  for (const n of [...o.online, ...o.offline, ...(o.extra ?? [])]) {
    const share = c.names.includes(n) && !o.lost?.includes(n) ? c.share(n) : undefined;
    parties.set(n, new ScriptedParty(n, share, world, o.offline.includes(n), o.quirks?.[n]));
  }
  let now = 1_000_000;
  const armed: { at: number; fn: () => void; live: boolean }[] = [];
  const timers: number[] = [];
  const clock: Clock = {
    now: () => now,
    setTimeout(fn, ms) {
      const t = { at: now + ms, fn, live: true };
      armed.push(t);
      timers.push(ms);
      return {
        cancel: () => {
          t.live = false;
        },
      };
    },
  };
  const coordinator = world.coordinator.sealer;
  const queue: { to: string; env: Envelope }[] = [];
  const forwarded: string[] = [];
  const sealed: string[] = [];
  const outbox = createOfflineOutbox();
  const online = new Set(o.online);
  let n = 0;
  const driver = createLifecycleDriver({
    store,
    clock,
    logger: pino({ level: process.env.GLACIS_TEST_LOG ?? 'silent' }),
    metrics: nullMetrics,
    keyOf: world.keyOf,
    timeoutMs: ONLINE_TIMEOUT_MS,
    drillTimeoutMs: ONLINE_TIMEOUT_MS,
    rng,
    crash: () => undefined,
    autoRepair: () => false,
    newOperationId: () => `op_auto${++n}`,
    onKeySwitched: () => undefined,
    link: {
      isConnected: (p) => online.has(p),
      sendSealed(to, out) {
        if (!online.has(to)) return false;
        sealed.push(`${out.type}→${to}`);
        queue.push({ to, env: coordinator.seal(out) });
        return true;
      },
      forward(to, env) {
        if (!online.has(to)) return false;
        forwarded.push(`${env.type}:${env.from}→${to}`);
        queue.push({ to, env });
        return true;
      },
    },
    offline: {
      isOffline: (p) => o.offline.includes(p),
      deadlineMs: OFFLINE_DEADLINE_MS,
      hold(partyId, operationId, item, last) {
        const env = 'envelope' in item ? item.envelope : coordinator.seal(item.message);
        outbox.putLifecycle(partyId, operationId, env, last ? now + OFFLINE_DEADLINE_MS : undefined);
      },
      withdraw: (partyId, sessionId, types) => outbox.withdrawLifecycle(partyId, sessionId, types),
      drop: (operationId) => outbox.dropLifecycle(operationId),
    },
  });

  const settle = () => new Promise((r) => setImmediate(r));
  const toDriver = (from: string, env: Envelope) => {
    const msg = openEnvelope(env, { self: COORDINATOR, keyOf: world.keyOf, anyRecipient: true });
    driver.onMessage(from, msg, env, parseSessionId(msg.sessionId) as SessionRefOf<LifecycleKind>);
  };
  async function pump(): Promise<void> {
    for (let quiet = 0, i = 0; quiet < 3 && i < 10_000; i++) {
      const next = queue.shift();
      if (!next) {
        quiet++;
        await settle();
        continue;
      }
      quiet = 0;
      for (const env of (parties.get(next.to) as ScriptedParty).receive(next.env)) toDriver(next.to, env);
      await settle();
    }
  }
  const sequences = new Map<string, number>();
  const accepted = new Map<string, number>();
  const peer = (e: Envelope) => e.to !== BROADCAST && e.to !== COORDINATOR && e.from !== COORDINATOR;
  const typesOf = (list: Envelope[]) => list.map((e) => `${e.type}:${e.from}${peer(e) ? `→${e.to}` : ''}`);

  const w: LifecycleWorld = {
    store,
    driver,
    keyId,
    parties,
    timers,
    forwarded,
    sealed,
    outbox: (p) => typesOf(outbox.pending(p, now).envelopes),
    async begin(type, params = {}) {
      const operationId = `op_${type}${++n}`;
      store.createOperation({
        operationId,
        keyId,
        type,
        params: params as never,
        createdAt: new Date(now).toISOString(),
        requestedBy: 't',
      });
      await driver.start(operationId);
      return operationId;
    },
    pump,
    async trip(partyId) {
      const { trip, answer } = w.visit(partyId);
      if (answer.length > 0) await w.post(partyId, w.answerBundle(partyId, answer));
      await pump();
      return trip;
    },
    visit(partyId) {
      const party = parties.get(partyId) as ScriptedParty;
      const carried = outbox.pending(partyId, now).envelopes;
      const before = party.sent.length;
      for (const env of carried) party.receive(env);
      const fresh = party.sent.slice(before);
      // Contract rule 1: every envelope sent so far, again, in every answer.
      const answer = [...party.sent];
      return { trip: { in: typesOf(carried), out: typesOf(fresh), answered: answer.length }, answer };
    },
    answerBundle(partyId, envelopes) {
      const sequence = (sequences.get(partyId) ?? 0) + 1;
      sequences.set(partyId, sequence);
      const identity = world.parties.get(partyId)?.identity;
      if (!identity) throw new Error(`no identity for ${partyId}`);
      return sealBundle(
        { recipient: COORDINATOR, sequence, createdAt: now, items: envelopes.map((envelope) => ({ kind: 'envelope', envelope })) },
        { name: partyId, identity },
        rng,
      );
    },
    async post(partyId, bundle) {
      const identityKey = world.keyOf(partyId) as Uint8Array;
      const plan = await readInbox(bundle, {
        partyId,
        identityKey,
        lastSequence: accepted.get(partyId),
        getKey: async (id) => store.getKey(id),
        getOperation: (kind, operationId) => driver.operation(kind, operationId),
      });
      accepted.set(partyId, plan.bundle.sequence);
      // As the orchestrator feeds a bundle: what it acknowledges first, then every message.
      for (const { msg, session } of plan.lifecycle) outbox.lifecycleAnswered(partyId, session.operationId, msg);
      for (const { msg, env, session } of plan.lifecycle) driver.onMessage(partyId, msg, env, session);
    },
    async advance(ms) {
      now += ms;
      for (const t of armed) {
        if (!t.live || t.at > now) continue;
        t.live = false;
        t.fn();
      }
      await pump();
    },
    status: (operationId) => store.operations.get(operationId)?.status,
  };
  return w;
}
