/**
 * A party node under test, without sockets or waiting: its link is a fake the test drives (the
 * test is the coordinator, holding its identity key), its clock is virtual, and the other
 * committee members are protocol DKG participants run by the test. The node's data directory is
 * real, so a test can stop the node and start another on the same disk (a restart).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BROADCAST,
  COORDINATOR,
  createDkgParticipant,
  createEnvelopeSealer,
  type DkgParticipant,
  type Envelope,
  type EnvelopeSealer,
  generateIdentity,
  getSuite,
  type IdentityKey,
  type KeyShare,
  type LifecycleMachine,
  type LifecycleStep,
  type Message,
  type MessageBody,
  type Outgoing,
  openEnvelope,
  type Rng,
  type SuiteId,
  toHex,
} from '@glacis/protocol';
import { pino } from 'pino';
import { type PartyConfig, partyConfigSchema } from '../src/config.js';
import { initKeystore, type Keystore, openKeystore } from '../src/keystore/keystore.js';
import { type PartyNode, startPartyNode } from '../src/node.js';
import type { DecisionRecord } from '../src/policy/decide.js';
import type { Clock, LinkEvents } from '../src/ports.js';
import { openPartyRecords, type RecordSyncs } from '../src/records.js';

export const rng: Rng = (n = 32) => new Uint8Array(randomBytes(n));

/** A clock that moves only when told to. */
export function virtualClock(start = Date.parse('2030-01-01T00:00:00Z')) {
  let now = start;
  const timers = new Set<{ at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => now,
    setTimeout(fn, ms) {
      const t = { at: now + ms, fn };
      timers.add(t);
      return { cancel: () => timers.delete(t) };
    },
  };
  return {
    clock,
    /** Moves time on by `ms`, firing every timer that falls due, in order. */
    advance(ms: number) {
      now += ms;
      for (const t of [...timers].sort((a, b) => a.at - b.at)) {
        if (t.at > now || !timers.has(t)) continue;
        timers.delete(t);
        t.fn();
      }
    },
  };
}

/** Waits (bounded) until the node has sent something more: its asynchronous work includes fsyncs. */
export async function nextSent(h: Harness, ms = 5_000): Promise<Message[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const out = h.take();
    if (out.length > 0) return out;
    if (Date.now() > deadline) throw new Error('the node sent nothing');
    await new Promise((r) => setTimeout(r, 2));
  }
}

export interface Harness {
  self: string;
  peers: string[];
  dataDir: string;
  keystore: () => Keystore;
  clock: ReturnType<typeof virtualClock>;
  /** Envelopes the node sent, opened (every one, in order). */
  sent: Message[];
  /** What the node sent since the last call, but its policy reports (`policyReports`). */
  take(): Message[];
  /** Every `policy_status` the node sent, in order. */
  policyReports(): MessageBody<'policy_status'>[];
  /** Delivers `out`, sealed by `from` (the coordinator unless a peer is named). */
  deliver(out: Outgoing, from?: string): Envelope;
  /** Delivers an envelope exactly as given (a replay). */
  deliverEnvelope(env: Envelope): void;
  /** Every envelope the node sent, as sent. */
  raw: Envelope[];
  /** Seals `out` as `name` (a peer, or the coordinator). */
  seal(name: string, out: Outgoing): Envelope;
  /** Opens an envelope as `to` would (a peer the test runs). */
  open(to: string, env: Envelope): Message;
  /** A test party's identity key. */
  identity(name: string): IdentityKey;
  /** Identity public keys of everyone in the test (the node's pins, and the peers' pins of each other). */
  keyOf(name: string): Uint8Array | undefined;
  /** Stops the node and starts another on the same directory (a fresh replay window). */
  restart(): Promise<void>;
  /** Runs a DKG of `keyId` between the node and the peers, relayed by the test, up to every confirmation (no certificate sent). */
  dkg(
    keyId: string,
    threshold?: number,
    suite?: SuiteId,
  ): Promise<{ sessionId: string; confirmations: Envelope[]; peerShares: Map<string, KeyShare> }>;
  /** Sessions the node runs. */
  liveSessions(): string[];
  /** The party's configuration and its keystore secret (offline tests drive the directory themselves). */
  config: PartyConfig;
  unlock: { kind: 'kek'; kek: Uint8Array };
  /** Stops the node, keeping its directory (the offline party takes it over). */
  stopNode(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(
  o: {
    policy?: Partial<PartyConfig['policy']>;
    deadlineMs?: number;
    peers?: number;
    lifecycle?: Partial<PartyConfig['lifecycle']>;
    /** Peers the node has not pinned (they exist and pin each other). */
    unpinned?: string[];
    /** Other party.json fields: pinned policy administrators, Bitcoin network, key labels. */
    config?: Partial<Pick<PartyConfig, 'policyAdmins' | 'bitcoinNetwork' | 'keyLabels'>>;
    /** How the share, approval and decision logs make appends durable (a test may hold one). */
    syncs?: RecordSyncs;
    /** The node's randomness (default: the platform's; a test may count the draws). */
    rng?: Rng;
  } = {},
): Promise<Harness> {
  const self = 'p1';
  const peers = Array.from({ length: o.peers ?? 2 }, (_, i) => `p${i + 2}`);
  const identities = new Map<string, IdentityKey>([self, ...peers, COORDINATOR].map((n) => [n, generateIdentity(rng)]));
  const keyOf = (n: string) => identities.get(n)?.publicKey;
  const sealers = new Map<string, EnvelopeSealer>([...identities].map(([n, id]) => [n, createEnvelopeSealer(n, id, Date.now() * 1000)]));
  const dataDir = mkdtempSync(join(tmpdir(), 'glacis-node-'));
  const unlock = { kind: 'kek' as const, kek: rng(32) };
  initKeystore(dataDir, unlock).createIdentity(identities.get(self) as IdentityKey);
  const config = partyConfigSchema.parse({
    partyId: self,
    coordinator: { url: 'ws://unused', identityKey: toHex(keyOf(COORDINATOR) as Uint8Array) },
    peers: Object.fromEntries(peers.filter((p) => !o.unpinned?.includes(p)).map((p) => [p, toHex(keyOf(p) as Uint8Array)])),
    policy: o.policy ?? {},
    dkg: { deadlineMs: o.deadlineMs ?? 60_000 },
    lifecycle: { deadlineMs: o.deadlineMs ?? 60_000, ...o.lifecycle },
    ...o.config,
  });
  const clock = virtualClock();
  const sent: Message[] = [];
  const raw: Envelope[] = [];
  let taken = 0;
  let relayed = 0;
  let events: LinkEvents | undefined;
  let node: PartyNode | undefined;
  let keystore: Keystore | undefined;

  async function start(): Promise<void> {
    keystore = openKeystore(dataDir, unlock);
    node = startPartyNode({
      config,
      identity: keystore.loadIdentity(),
      keystore,
      records: await openPartyRecords(dataDir, clock.clock, o.syncs),
      logger: pino({ level: process.env.GLACIS_TEST_LOG ?? 'silent' }),
      rng: o.rng ?? rng,
      clock: clock.clock,
      connect: (ev) => {
        events = ev;
        return {
          connected: true,
          start: () => ev.onConnected(),
          send(env) {
            raw.push(env);
            sent.push(openEnvelope(JSON.parse(JSON.stringify(env)), { self: COORDINATOR, keyOf, anyRecipient: true }));
            return true;
          },
          stop: async () => undefined,
        };
      },
    });
  }
  await start();

  const deliverEnvelope = (env: Envelope) => events?.onEnvelope(JSON.parse(JSON.stringify(env)));
  const deliver = (out: Outgoing, from = COORDINATOR) => {
    const env = (sealers.get(from) as EnvelopeSealer).seal(out);
    deliverEnvelope(env);
    return env;
  };

  const h: Harness = {
    self,
    peers,
    dataDir,
    keystore: () => keystore as Keystore,
    clock,
    sent,
    take() {
      const out = sent.slice(taken).filter((m) => m.type !== 'policy_status');
      taken = sent.length;
      return out;
    },
    policyReports: () =>
      sent.filter((m): m is Extract<Message, { type: 'policy_status' }> => m.type === 'policy_status').map((m) => m.body),
    deliver,
    deliverEnvelope,
    raw,
    seal: (name, out) => (sealers.get(name) as EnvelopeSealer).seal(out),
    open: (to, env) => openEnvelope(JSON.parse(JSON.stringify(env)), { self: to, keyOf }),
    identity: (name) => identities.get(name) as IdentityKey,
    keyOf,
    liveSessions: () => [...(node?.liveDkgSessions() ?? []), ...(node?.liveLifecycleSessions() ?? [])],
    config,
    unlock,
    async stopNode() {
      await node?.stop();
      node = undefined;
    },
    async restart() {
      await node?.stop();
      await start();
    },
    async dkg(keyId, threshold = 2, suiteId: SuiteId = 'ed25519') {
      const sessionId = `dkg-${keyId}`;
      const committee = [self, ...peers];
      const suite = getSuite(suiteId);
      const members = new Map<string, DkgParticipant>(
        peers.map((p) => [
          p,
          createDkgParticipant({
            suite,
            keyId,
            sessionId,
            self: p,
            committee,
            threshold,
            identity: identities.get(p) as IdentityKey,
            peerKey: keyOf,
            rng,
          }),
        ]),
      );
      // The test relays like the coordinator: every message goes to its recipients until all confirmed.
      const queue: Envelope[] = [];
      for (const [p, m] of members) for (const out of m.start().outgoing) queue.push((sealers.get(p) as EnvelopeSealer).seal(out));
      relayed = raw.length;
      deliver({ type: 'dkg_start', sessionId, to: self, body: { keyId, suite: suiteId, threshold, committee } });
      const confirmations = new Map<string, Envelope>();
      const peerShares = new Map<string, KeyShare>();
      const open = (to: string, env: Envelope) => openEnvelope(JSON.parse(JSON.stringify(env)), { self: to, keyOf });
      for (let round = 0; round < 10 && confirmations.size < committee.length; round++) {
        queue.push(...raw.slice(relayed));
        relayed = raw.length;
        for (const env of queue.splice(0)) {
          if (env.type === 'dkg_confirm') {
            confirmations.set(env.from, env);
            continue;
          }
          for (const to of committee.filter((m) => m !== env.from && (env.to === '*' || env.to === m))) {
            if (to === self) deliverEnvelope(env);
            else {
              const m = members.get(to) as DkgParticipant;
              const step = m.receive(open(to, env));
              if (step.share) peerShares.set(to, step.share);
              for (const out of step.outgoing) queue.push((sealers.get(to) as EnvelopeSealer).seal(out));
            }
          }
        }
      }
      h.take();
      return { sessionId, confirmations: committee.map((m) => confirmations.get(m) as Envelope), peerShares };
    },
    async close() {
      await node?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return h;
}

/** The body of the one message of `type` in `msgs`. */
export function only<T extends Message['type']>(msgs: Message[], type: T): MessageBody<T> {
  const found = msgs.filter((m): m is Message & { type: T; body: MessageBody<T> } => m.type === type);
  const [one] = found;
  if (one === undefined || found.length !== 1) {
    throw new Error(`expected one ${type}, got ${found.length} (of ${msgs.map((m) => m.type).join(', ')})`);
  }
  return one.body;
}

/** A decision that admitted `requestId` of key k1 at `at`, counting a velocity event unless told not to. */
export function decisionRecord(requestId: string, at: number, velocity = true): DecisionRecord {
  return {
    keyId: 'k1',
    requestId,
    sessionId: `s-${requestId}`,
    intentType: 'raw',
    intentDigest: 'ab'.repeat(32),
    policy: { source: 'signed', version: 2, digest: 'cd'.repeat(32) },
    decision: 'allow',
    ruleId: 'r',
    code: null,
    limitId: null,
    counted: { amount: '0', count: 1 },
    approvals: [],
    approvedBy: null,
    velocity: velocity ? { at, keyId: 'k1', intentType: 'raw', amount: '0' } : null,
    repeat: false,
    reasons: [],
  };
}

/** What routeToPeers needs: the session's participants, the node under test and the peers' machines. */
export interface PeerRoute {
  participants: readonly string[];
  /** The node under test: its envelopes are handed to `toNode`, the others' to their machines. */
  node: string;
  toNode(env: Envelope): void;
  machines: ReadonlyMap<string, LifecycleMachine<unknown, string>>;
  /** Opens `env` as participant `to` would (its pinned keys). */
  open(to: string, env: Envelope): Message;
  /** What a peer's machine made of it. */
  onStep(to: string, step: LifecycleStep<unknown>): void;
}

/** Relays a lifecycle envelope as the coordinator would: a broadcast to everyone but its sender, else to its one recipient. */
export function routeToPeers(env: Envelope, r: PeerRoute): void {
  for (const to of r.participants.filter((p) => p !== env.from && (env.to === BROADCAST || env.to === p))) {
    if (to === r.node) {
      r.toNode(env);
      continue;
    }
    const m = r.machines.get(to);
    if (m) r.onStep(to, m.receive(r.open(to, env)));
  }
}
