/**
 * A simulated network for the coordinator's signing driver (our quinn `Pair`): the orchestrator's
 * `Clock` port as a virtual clock, party nodes reduced to their signing behaviour over protocol's
 * real signer, links with latency, jitter, loss (as TCP makes of it: a retransmission delay),
 * silent cuts, resets, reconnects and half-open connections, and an in-memory store whose every
 * call takes virtual time (so writes of concurrent requests can complete out of order, as on a
 * networked database). Every message goes through JSON and its zod schema. Deterministic for a
 * seed; bounded: `runUntil` gives up after a step and time budget.
 */
import { randomBytes } from 'node:crypto';
import {
  type AggregationJob,
  type AggregationVerdict,
  COORDINATOR,
  createSigner,
  fromHex,
  getSuite,
  isProtocolError,
  type Message,
  type MessageBody,
  type MessageType,
  messageBodySchemas,
  type Outgoing,
  type Rng,
  runAggregationJob,
  type Signer,
  type SignRefusalCode,
  type SuiteId,
  toHex,
  utf8,
} from '@glacis/protocol';
import { pino } from 'pino';
import { nullMetrics } from '../../../test/support/in-process-cluster.js';
import { type MemorySignature, MemoryStore } from '../../../test/support/memory-store.js';
import { type Cluster, cluster } from '../../protocol/test/harness.js';
import type { Clock, OrchestratorMetrics } from '../src/orchestrator/ports.js';
import { parseSessionId } from '../src/orchestrator/session-id.js';
import { createSigningDriver, type SigningDriver, type SigningLeases, type SigningStore } from '../src/orchestrator/signing-driver.js';
import type { LeaseFence } from '../src/orchestrator/store-port.js';

const rng: Rng = (n = 32) => new Uint8Array(randomBytes(n));

/** Timers on a virtual clock; `step` runs the earliest one and moves time to it. */
export class VirtualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly events: { at: number; seq: number; fn: () => void; live: boolean }[] = [];

  constructor(start: number) {
    this.time = start;
  }
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const e = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, live: true };
    let i = this.events.length;
    while (i > 0 && (this.events[i - 1] as { at: number }).at > e.at) i--;
    this.events.splice(i, 0, e);
    return {
      cancel: () => {
        e.live = false;
      },
    };
  }
  /** Runs the next live timer; false when none is left. */
  step(): boolean {
    for (;;) {
      const e = this.events.shift();
      if (!e) return false;
      if (!e.live) continue;
      this.time = e.at;
      e.fn();
      return true;
    }
  }
}

/** What a party does with a signing package. */
export type Behaviour =
  | 'honest'
  /** Returns z + 1: a provably invalid share. */
  | 'cheat'
  /** Never answers a package (commit requests it answers). */
  | 'silent'
  /** Answers every package with `sign_refused` `unknown_commitment`: not blame, a withdrawal. */
  | 'withdraw'
  /** Refuses every package with `refusal` (default a policy code). */
  | 'refuse'
  /** Restarts on the next package instead of signing (its nonces are gone), then is honest. */
  | 'restart'
  /** Drops its connection on every package and dials again. */
  | 'flap';

/** One direction of one party's link. */
type Lane = { last: number };

interface SimLink {
  /** The party's current connection (0: none). */
  conn: number;
  /** The connection the coordinator believes is live (0: none); differs from `conn` when half-open. */
  seen: number;
  cut: boolean;
  held: (() => void)[];
  latencyMs: number;
  jitterMs: number;
  loss: number;
  up: Lane;
  down: Lane;
}

export interface SimParty {
  name: string;
  signer: Signer;
  behaviour: Behaviour;
  refusal: SignRefusalCode;
  link: SimLink;
  /** Cut the link right after the next signing package arrives (the bench's trip wire). */
  trip: boolean;
  /** Shares this party released, by session. */
  released: string[];
  /** Nonce commitments this party made (answers to commit requests, and each share's next). */
  made: number;
  seq: number;
  /**
   * Virtual ms it spends on each signing package, one after another in the order they came (a
   * party node's one event loop): a package waits behind those before it. 0: answers at once.
   */
  serviceMs: number;
  /** When it is done with the packages it has (the queue's end). */
  busyUntil: number;
}

/** Every signing package the coordinator sent: who, which session, which commitment of theirs. */
export type SentPackage = { to: string; sessionId: string; requestId: string; commitment: string };

export interface SimOptions {
  suite?: SuiteId;
  n: number;
  t: number;
  seed?: number;
  requestTimeoutMs?: number;
  sessionGraceMs?: number;
  /** Preprocessed commitments per (key, party) (default 4: each costs a party and the coordinator real curve work). */
  poolTarget?: number;
  /** Virtual ms each store call takes (default 1). */
  storeLatency?: (method: string) => number;
  /**
   * Aggregate "on a worker": the driver gets an `aggregate` port that answers after this many
   * virtual ms (protocol `runAggregationJob` on a structured clone of the job, as postMessage
   * would carry it). Undefined: the machine aggregates inline.
   */
  workerLatencyMs?: number;
  /** With `workerLatencyMs`: the worker fails to run the i-th job it gets (0-based), rejecting instead of answering. */
  workerFails?: (job: number) => boolean;
  /**
   * Work leases: the driver runs a request only while the sim holds its lease, and `loseLease`
   * takes it away as lease-keeper.ts does — the next `fence` call finds it gone, tells the driver
   * to abandon the request (its `onLost`) and answers undefined. Without: no leases at all.
   */
  leases?: boolean;
}

const keys = new Map<string, Cluster>();
/** A DKG'd key, made once per (suite, n, t) per test file (call it in `beforeAll` to keep DKGs out of the tests' time). */
export function keyFor(suite: SuiteId, n: number, t: number): Cluster {
  const id = `${suite}:${n}:${t}`;
  const c = keys.get(id) ?? cluster(suite, n, t);
  keys.set(id, c);
  return c;
}

/** Deterministic [0, 1) from a seed (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A store whose every call completes after `latency(method)` virtual ms. */
function slowStore(inner: MemoryStore, clock: VirtualClock, latency: (method: string) => number): SigningStore {
  const later =
    <A extends unknown[], R>(method: string, f: (...args: A) => R) =>
    (...args: A): Promise<R> =>
      new Promise((resolve, reject) =>
        clock.setTimeout(() => {
          try {
            resolve(f(...args));
          } catch (e) {
            reject(e);
          }
        }, latency(method)),
      );
  return {
    getKey: later('getKey', (id) => inner.getKey(id)),
    getSignature: later('getSignature', (id) => inner.getSignature(id)),
    markSigning: later('markSigning', (id) => inner.markSigning(id)),
    completeSignature: later('completeSignature', (id, v, a) => inner.completeSignature(id, v, a)),
    failSignature: later('failSignature', (id, e, a) => inner.failSignature(id, e, a)),
    rejectSignature: later('rejectSignature', (id, e, a) => inner.rejectSignature(id, e, a)),
    addExcluded: later('addExcluded', (id, e, a) => inner.addExcluded(id, e, a)),
    settleAwaiting: later('settleAwaiting', (id, s, e, a) => inner.settleAwaiting(id, s, e, a)),
    drawOfflineCommitments: later('drawOfflineCommitments', (p, k, n, by) => inner.drawOfflineCommitments(p, k, n, by)),
  };
}

export type SigningSim = Awaited<ReturnType<typeof startSigningSim>>;

/** A simulation with every party connected. */
export async function startSigningSim(o: SimOptions) {
  const sim = createSigningSim(o);
  await sim.runUntil(() => [...sim.parties.values()].every((p) => p.link.seen !== 0));
  return sim;
}

function createSigningSim(o: SimOptions) {
  const suite = o.suite ?? 'ed25519';
  const key = keyFor(suite, o.n, o.t);
  const random = prng(o.seed ?? 1);
  const clock = new VirtualClock(Date.parse('2030-01-01T00:00:00Z'));
  const timeoutMs = o.requestTimeoutMs ?? 10_000;
  const memory = new MemoryStore(timeoutMs);
  const keyId = key.pub.keyId;
  memory.addKey(keyId, suite, o.t, key.names);
  Object.assign(memory.keys.get(keyId) as object, {
    status: 'active',
    publicKey: key.pub.publicKey,
    verifyingShares: key.pub.verifyingShares,
    groupCommitment: key.pub.groupCommitment,
  });
  const excludedMetric: string[] = [];
  const metrics: OrchestratorMetrics = { ...nullMetrics, partyExcluded: (p) => void excludedMetric.push(p) };
  const packages: SentPackage[] = [];
  const blameable = new Set<string>(); // parties that ever cheated or refused
  const parties = new Map<string, SimParty>();
  let connSeq = 0;
  let losses = 0;
  let requests = 0;
  let driver: SigningDriver;
  const jobs = { asked: 0, answered: 0, failed: 0 };
  const lost = new Set<string>(); // requests whose lease the sim took away
  const lostNoticed = new Set<string>();
  const leases: SigningLeases = {
    fence(id) {
      if (!lost.has(id)) return { kind: 'signature', id, owner: 'sim', epoch: 1 } satisfies LeaseFence;
      if (!lostNoticed.has(id)) {
        lostNoticed.add(id);
        driver.abandon(id);
      }
      return undefined;
    },
    release: () => undefined,
  };

  /** The "worker": answers `workerLatencyMs` later with the verdict on a structured clone, or fails. */
  function onWorker(job: AggregationJob): Promise<AggregationVerdict> {
    const n = jobs.asked++;
    return new Promise<AggregationVerdict>((resolve, reject) =>
      clock.setTimeout(() => {
        if (o.workerFails?.(n)) {
          jobs.failed++;
          reject(new Error('the worker thread exited'));
          return;
        }
        jobs.answered++;
        resolve(structuredClone(runAggregationJob(structuredClone(job))));
      }, o.workerLatencyMs ?? 0),
    );
  }

  const newLink = (): SimLink => ({
    conn: 0,
    seen: 0,
    cut: false,
    held: [],
    latencyMs: 1,
    jitterMs: 0,
    loss: 0,
    up: { last: 0 },
    down: { last: 0 },
  });
  for (const name of key.names) {
    parties.set(name, {
      name,
      signer: createSigner(key.share(name), rng),
      behaviour: 'honest',
      refusal: 'policy_approvals_missing',
      link: newLink(),
      trip: false,
      released: [],
      made: 0,
      seq: 0,
      serviceMs: 0,
      busyUntil: 0,
    });
  }
  const party = (name: string) => parties.get(name) ?? (undefined as never);

  /** When a chunk sent now on `lane` arrives: latency ± jitter, a lost packet costs an RTO, in order. */
  function arrival(link: SimLink, lane: Lane): number {
    let delay = link.latencyMs + (random() * 2 - 1) * link.jitterMs;
    for (let rto = 200; random() < link.loss; rto *= 2) {
      delay += rto;
      losses++;
    }
    lane.last = Math.max(lane.last, clock.now() + Math.max(0, delay));
    return lane.last;
  }

  /** Runs `deliver` when the bytes arrive, unless the link is cut then (held until healed). */
  function transfer(link: SimLink, lane: Lane, deliver: () => void): void {
    const attempt = () => {
      if (link.cut) link.held.push(attempt);
      else deliver();
    };
    clock.setTimeout(attempt, arrival(link, lane) - clock.now());
  }

  function toCoordinator<T extends MessageType>(p: SimParty, type: T, sessionId: string, body: MessageBody<T>): void {
    const conn = p.link.conn;
    if (conn === 0) return; // "not connected; message dropped"
    const wire = JSON.parse(JSON.stringify(body));
    const msg = { type, sessionId, from: p.name, to: COORDINATOR, seq: ++p.seq, body: messageBodySchemas[type].parse(wire) } as Message;
    transfer(p.link, p.link.up, () => {
      if (p.link.seen !== conn || p.link.conn !== conn) return; // that connection is gone at one end
      const session = parseSessionId(sessionId);
      if (session?.kind === 'pool' || session?.kind === 'commit' || session?.kind === 'sign') driver.onMessage(p.name, msg, session);
    });
  }

  function onPackage(p: SimParty, sessionId: string, pkg: MessageBody<'signing_package'>): void {
    const refuse = (code: SignRefusalCode) =>
      toCoordinator(p, 'sign_refused', sessionId, { keyId: pkg.keyId, requestId: pkg.requestId, code, message: code });
    switch (p.behaviour) {
      case 'silent':
        return;
      case 'withdraw':
        refuse('unknown_commitment');
        return;
      case 'refuse':
        refuse(p.refusal);
        return;
      case 'restart':
        p.behaviour = 'honest';
        sim.restart(p.name);
        return;
      case 'flap':
        sim.disconnect(p.name);
        clock.setTimeout(() => sim.connect(p.name), 5);
        return;
      default:
        break;
    }
    let share: Uint8Array;
    try {
      if (pkg.intent.type !== 'raw') throw new Error('the simulation signs raw intents only');
      share = p.signer.sign(pkg, [fromHex(pkg.intent.message)]).shares[0] as Uint8Array;
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      refuse(e.code);
      return;
    }
    p.released.push(sessionId);
    if (p.behaviour === 'cheat') {
      const { Fn } = getSuite(suite);
      share = Fn.toBytes(Fn.add(Fn.fromBytes(share), 1n));
    }
    if (p.trip) {
      p.trip = false;
      p.link.cut = true; // the share is on its way into a cut link
    }
    p.made++;
    toCoordinator(p, 'signature_share', sessionId, {
      keyId: pkg.keyId,
      requestId: pkg.requestId,
      share: toHex(share),
      next: p.signer.commit(),
    });
  }

  function atParty(p: SimParty, out: Outgoing): void {
    switch (out.type) {
      case 'commit_request': {
        const answer = () => {
          const commitments = Array.from({ length: out.body.count }, () => p.signer.commit());
          p.made += commitments.length;
          toCoordinator(p, 'commitments', out.sessionId, { keyId: out.body.keyId, commitments });
        };
        // One event loop: a commit request is answered after the packages that came before it.
        if (p.busyUntil <= clock.now()) answer();
        else clock.setTimeout(answer, p.busyUntil - clock.now());
        return;
      }
      case 'signing_package': {
        if (p.serviceMs === 0) {
          onPackage(p, out.sessionId, out.body);
          return;
        }
        p.busyUntil = Math.max(clock.now(), p.busyUntil) + p.serviceMs;
        clock.setTimeout(() => onPackage(p, out.sessionId, out.body), p.busyUntil - clock.now());
        return;
      }
      default:
        throw new Error(`the signing driver sent ${out.type}`);
    }
  }

  const sim = {
    clock,
    store: memory,
    key,
    keyId,
    parties,
    /** Parties the metric `partyExcluded` was called for, in order. */
    excludedMetric,
    /** Every signing package sent (resends included). */
    packages,
    /** Sets a party's behaviour. */
    behave(name: string, b: Behaviour, refusal?: SignRefusalCode) {
      party(name).behaviour = b;
      if (b === 'cheat' || b === 'refuse') blameable.add(name);
      if (refusal !== undefined) party(name).refusal = refusal;
    },
    shape(names: readonly string[], s: { latencyMs?: number; jitterMs?: number; loss?: number }) {
      for (const n of names) Object.assign(party(n).link, s);
    },
    /** Each of these parties spends `serviceMs` virtual ms per signing package, in the order they came (a queue). */
    serve(names: readonly string[], serviceMs: number) {
      for (const n of names) party(n).serviceMs = serviceMs;
    },
    /** The party dials (again); the coordinator sees a replaced connection as a disconnect first. */
    connect(name: string) {
      const p = party(name);
      const conn = ++connSeq;
      p.link.conn = conn;
      transfer(p.link, p.link.up, () => {
        if (p.link.conn !== conn) return;
        if (p.link.seen !== 0) driver.onDisconnected(name);
        p.link.seen = conn;
        driver.onConnected(name);
      });
    },
    /**
     * The party's connection closes. With `coordinatorNotices: false` the coordinator's side stays
     * half-open (its RST was lost): what it sends goes nowhere until it learns otherwise.
     */
    disconnect(name: string, opts: { coordinatorNotices?: boolean } = {}) {
      const p = party(name);
      const conn = p.link.conn;
      p.link.conn = 0;
      if (opts.coordinatorNotices === false) return;
      clock.setTimeout(() => {
        if (p.link.seen !== conn || conn === 0) return;
        p.link.seen = 0;
        driver.onDisconnected(name);
      }, p.link.latencyMs);
    },
    /** The coordinator gives up on the party's connection (its heartbeat); the party's side stays half-open. */
    abandon(name: string) {
      const p = party(name);
      if (p.link.seen === 0) return;
      p.link.seen = 0;
      driver.onDisconnected(name);
    },
    /** Silently drops everything on the party's link, both ways; nobody is told. */
    cut(...names: string[]) {
      for (const n of names) party(n).link.cut = true;
    },
    /** Ends a cut: what TCP held is delivered, if its connection is still there. */
    heal(...names: string[]) {
      for (const n of names) {
        const link = party(n).link;
        link.cut = false;
        for (const f of link.held.splice(0)) f();
      }
    },
    /** The party restarts: its nonces are gone, it dials again. */
    restart(name: string) {
      const p = party(name);
      sim.disconnect(name);
      p.signer = createSigner(key.share(name), rng);
      clock.setTimeout(() => sim.connect(name), 10);
    },
    /** Arms the trip wire: the party signs the next package it gets, then its link is cut. */
    trip(name: string) {
      party(name).trip = true;
    },
    /** Accepts a signing request (as the API does) and hands it to the driver. */
    request(text: string): string {
      const id = `sig_${String(++requests).padStart(4, '0')}`;
      memory.addSignature(id, keyId, toHex(utf8(text)));
      (memory.signatures.get(id) as MemorySignature).deadline = new Date(clock.now() + timeoutMs).toISOString();
      void driver.start(id);
      return id;
    },
    /** Runs the network until `done()` holds; throws when it cannot get there within the budget. */
    async runUntil(done: () => boolean, budget: { ms?: number; steps?: number } = {}): Promise<void> {
      const until = clock.now() + (budget.ms ?? 120_000);
      for (let steps = 0; ; steps++) {
        await new Promise<void>((r) => setImmediate(r)); // let the driver's awaits run
        if (done()) return;
        if (steps > (budget.steps ?? 200_000)) throw new Error('simulation did not settle within its step budget');
        if (clock.now() > until || !clock.step())
          throw new Error(`simulation stopped at +${clock.now() - until} ms without reaching its goal`);
      }
    },
    /** Runs until `signatureId` settles; returns its row. */
    async settle(signatureId: string): Promise<MemorySignature> {
      const row = () => memory.signatures.get(signatureId) as MemorySignature;
      await sim.runUntil(() => !['pending', 'signing'].includes(row().status));
      return row();
    },
    /** Advances virtual time by `ms`, running everything due. */
    async advance(ms: number): Promise<void> {
      const until = clock.now() + ms;
      clock.setTimeout(() => undefined, ms);
      await sim.runUntil(() => clock.now() >= until);
    },
    /** Requests, settles and checks a signature against the group key; returns the row. */
    async sign(text: string): Promise<MemorySignature> {
      const s = await sim.settle(sim.request(text));
      if (s.status !== 'completed') throw new Error(`${s.signatureId} ${s.status}: ${JSON.stringify(s.error)}`);
      if (!key.suite.verify(fromHex(s.signature as string), utf8(text), fromHex(key.pub.publicKey))) throw new Error('invalid signature');
      return s;
    },
    /** Audit events of one type, in the order the store wrote them. */
    audit(type: string) {
      return memory.audit.filter((e) => e.type === type);
    },
    /** Exclusions of parties that never cheated nor refused (must be none). */
    wrongfulExclusions(): { signatureId: string; partyId: string }[] {
      return [...memory.signatures.values()].flatMap((s) =>
        s.excluded.filter((e) => !blameable.has(e.partyId)).map((e) => ({ signatureId: s.signatureId, partyId: e.partyId })),
      );
    },
    /** Commitments that went into signing packages of two different sessions (must be none). */
    reusedCommitments(): SentPackage[] {
      const first = new Map<string, string>();
      return packages.filter((p) => {
        const k = `${p.to}:${p.commitment}`;
        const s = first.get(k) ?? p.sessionId;
        first.set(k, s);
        return s !== p.sessionId;
      });
    },
    get driver() {
      return driver;
    },
    /** Aggregation jobs the driver handed to the "worker": asked, answered with a verdict, failed. */
    jobs,
    /** This instance no longer holds the request's lease (another instance took it over). */
    loseLease(signatureId: string) {
      lost.add(signatureId);
    },
    /** Packets "lost" so far (each cost a retransmission timeout). */
    get losses() {
      return losses;
    },
  };

  driver = createSigningDriver({
    store: slowStore(memory, clock, o.storeLatency ?? (() => 1)),
    link: {
      isConnected: (p) => party(p).link.seen !== 0,
      sendSealed(to, out) {
        const p = party(to);
        const conn = p.link.seen;
        if (conn === 0) return false;
        const wire = JSON.parse(JSON.stringify(out)) as Outgoing;
        if (wire.type === 'signing_package') {
          const own = wire.body.commitments.find((c) => c.partyId === to);
          packages.push({ to, sessionId: wire.sessionId, requestId: wire.body.requestId, commitment: `${own?.hiding}:${own?.binding}` });
        }
        transfer(p.link, p.link.down, () => {
          if (p.link.conn === conn && p.link.seen === conn) atParty(p, wire); // else it went down a dead connection
        });
        return true;
      },
      forward: () => {
        throw new Error('the signing driver forwards nothing');
      },
    },
    clock,
    logger: pino({ level: process.env.GLACIS_TEST_LOG ?? 'silent' }),
    metrics,
    requestTimeoutMs: timeoutMs,
    sessionGraceMs: o.sessionGraceMs ?? 250,
    poolTarget: o.poolTarget ?? 4,
    ...(o.workerLatencyMs === undefined ? {} : { aggregate: onWorker }),
    ...(o.leases ? { leases } : {}),
  });
  for (const name of key.names) sim.connect(name);
  return sim;
}
