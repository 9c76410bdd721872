/**
 * The DKG driver names a member where only the coordinator can: it knows the parameters it sent
 * each member and relays every round-1 package. The members here are the protocol's own DKG
 * participants; the one that lies re-signs its own envelopes (its identity, its fault).
 */
import { randomBytes } from 'node:crypto';
import {
  COORDINATOR,
  createDkgParticipant,
  createEnvelopeSealer,
  type DkgParticipant,
  type Envelope,
  type EnvelopeSealer,
  generateIdentity,
  getSuite,
  type IdentityKey,
  type Message,
  type MessageBody,
  type Outgoing,
  openEnvelope,
  type Rng,
} from '@glacis/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { nullMetrics } from '../../../../test/support/in-process-cluster.js';
import { MemoryStore } from '../../../../test/support/memory-store.js';
import { createDkgDriver } from './dkg-driver.js';
import type { Clock } from './ports.js';

const rng: Rng = (n = 32) => new Uint8Array(randomBytes(n));
const names = ['p1', 'p2', 'p3'];
const clock: Clock = { now: () => 0, setTimeout: () => ({ cancel: () => undefined }) };

/** What a member does to one of its own outgoing messages before it is signed: [] drops it. */
type Lie = (from: string, out: Outgoing) => Outgoing[];

/**
 * Runs a DKG of k1 (2-of-3) through the driver, members replying at once; returns the key row.
 * `offline`: p3 is an offline member; what the driver holds for it is carried to it in trips (all
 * that waits, once nothing else moves), recorded in `trips`.
 */
async function runThroughDriver(lie: Lie = (_f, out) => [out], opts: { offline?: boolean; duplicateVault?: boolean } = {}) {
  const identities = new Map<string, IdentityKey>([...names, COORDINATOR].map((n) => [n, generateIdentity(rng)]));
  const keyOf = (n: string) => identities.get(n)?.publicKey;
  const sealers = new Map<string, EnvelopeSealer>([...identities].map(([n, id]) => [n, createEnvelopeSealer(n, id, 1)]));
  const store = new MemoryStore();
  store.addKey('k1', 'ed25519', 2, names);
  const members = new Map<string, DkgParticipant>();
  const inbox: { to: string; env: Envelope }[] = [];
  const coordinator = sealers.get(COORDINATOR) as EnvelopeSealer;
  const held: { env: Envelope; last: boolean }[] = [];
  const trips: { in: string[]; out: string[] }[] = [];
  const timers: number[] = [];
  const forwarded: Envelope[] = [];
  const driver = createDkgDriver({
    store,
    clock: {
      ...clock,
      setTimeout(_fn, ms) {
        timers.push(ms);
        return { cancel: () => undefined };
      },
    },
    ...(opts.offline
      ? {
          offline: {
            parties: ['p3'],
            deadlineMs: 86_400_000,
            hold: (_p, _k, item, last) => held.push({ env: 'envelope' in item ? item.envelope : coordinator.seal(item.message), last }),
            drop: () => undefined,
          },
        }
      : {}),
    logger: pino({ level: 'silent' }),
    metrics: nullMetrics,
    keyOf,
    timeoutMs: 60_000,
    link: {
      isConnected: (p) => !(opts.offline && p === 'p3'),
      sendSealed(to, out) {
        if (out.type === 'dkg_start') start(to, out);
        return true;
      },
      forward(to, env) {
        forwarded.push(env);
        inbox.push({ to, env });
        return true;
      },
    },
  });
  /** A member receives its dkg_start: it starts, and its round 1 goes to the driver. */
  function start(to: string, out: Pick<Outgoing, 'sessionId' | 'body'>): Outgoing[] {
    const b = out.body as MessageBody<'dkg_start'>;
    const m = createDkgParticipant({
      suite: getSuite(b.suite),
      keyId: b.keyId,
      sessionId: out.sessionId,
      self: to,
      committee: b.committee,
      threshold: b.threshold,
      identity: identities.get(to) as IdentityKey,
      peerKey: keyOf,
      rng,
    });
    members.set(to, m);
    const outs = m.start().outgoing;
    reply(to, outs);
    return outs;
  }
  /** One trip to p3's vault: everything held for it (but a last word) in, its answers out. */
  function trip(): boolean {
    const carried = held.filter((h) => !h.last);
    held.splice(0, held.length, ...held.filter((h) => h.last));
    if (carried.length === 0) return false;
    const out: Outgoing[] = [];
    for (const { env } of carried) {
      const msg = openEnvelope(env, { self: 'p3', keyOf, anyRecipient: true });
      if (msg.type === 'dkg_start') out.push(...start('p3', msg));
      else {
        const outs = (members.get('p3') as DkgParticipant).receive(msg).outgoing;
        reply('p3', outs);
        out.push(...outs);
      }
    }
    trips.push({ in: carried.map((h) => `${h.env.type}:${h.env.from}`), out: out.map((m) => `${m.type}:${m.to}`) });
    // A vault that lost its answer makes it again: the driver relays a repeated round 2 once.
    if (opts.duplicateVault) for (const m of out.filter((x) => x.type === 'dkg_round2')) reply('p3', [m]);
    return true;
  }
  const toDriver: { from: string; msg: Message; env: Envelope }[] = [];
  function reply(from: string, outs: Outgoing[]) {
    for (const out of outs.flatMap((o) => lie(from, o))) {
      const env = (sealers.get(from) as EnvelopeSealer).seal(out);
      toDriver.push({ from, env, msg: openEnvelope(env, { self: COORDINATOR, keyOf, anyRecipient: true }) });
    }
  }
  await driver.start('k1');
  // Before any online member's round 1 reached the driver.
  const heldAtStart = held.length;
  for (let i = 0; i < 1000 && (toDriver.length > 0 || inbox.length > 0 || trip()); i++) {
    const next = toDriver.shift();
    if (next) {
      driver.onMessage(next.from, next.msg, next.env);
      await new Promise((r) => setImmediate(r));
      continue;
    }
    const { to, env } = inbox.shift() as { to: string; env: Envelope };
    reply(to, (members.get(to) as DkgParticipant).receive(openEnvelope(env, { self: to, keyOf })).outgoing);
  }
  const key = store.keys.get('k1');
  if (key === undefined) throw new Error('the store lost key k1');
  return { ...key, trips, timers, held, forwarded, heldAtStart };
}

describe('the DKG driver with an offline member', () => {
  it('holds its messages until every online round 1 is in: two trips (start and round 1s in, round 1 and 2 out; round 2s in, confirmation out), then the certificate waits as its last word', async () => {
    const key = await runThroughDriver(undefined, { offline: true });
    expect(key.status).toBe('active');
    expect(key.timers).toEqual([86_400_000]);
    expect(key.heldAtStart).toBe(0);
    expect(key.trips).toEqual([
      { in: ['dkg_start:coordinator', 'dkg_round1:p1', 'dkg_round1:p2'], out: ['dkg_round1:*', 'dkg_round2:p1', 'dkg_round2:p2'] },
      { in: ['dkg_round2:p1', 'dkg_round2:p2'], out: ['dkg_confirm:coordinator'] },
    ]);
    expect(key.held.map((h) => [h.env.type, h.last])).toEqual([['dkg_complete', true]]);
  });

  it("a vault's round 2 carried twice is relayed once", async () => {
    const key = await runThroughDriver(undefined, { offline: true, duplicateVault: true });
    expect(key.status).toBe('active');
    const fromVault = key.forwarded.filter((e) => e.from === 'p3' && e.type === 'dkg_round2');
    expect(fromVault.map((e) => e.to).sort()).toEqual(['p1', 'p2']);
  });
});

describe('the DKG driver', () => {
  it('activates the key when every member is honest', async () => {
    expect((await runThroughDriver()).status).toBe('active');
  });

  it('a member that echoes another round-1 transcript in round 2 is named (dkg_transcript_mismatch)', async () => {
    const key = await runThroughDriver((from, out) =>
      from === 'p2' && out.type === 'dkg_round2' ? [{ ...out, body: { ...out.body, transcriptHash: '00'.repeat(32) } }] : [out],
    );
    expect(key).toMatchObject({
      status: 'failed',
      error: { code: 'dkg_transcript_mismatch', message: expect.stringContaining('culprits: p2') },
    });
  });

  it('a member that signs round 1 for other parameters than it was sent is named (dkg_parameter_mismatch)', async () => {
    const key = await runThroughDriver((from, out) =>
      from === 'p3' && out.type === 'dkg_round1' ? [{ ...out, body: { ...out.body, paramsHash: '11'.repeat(32) } }] : [out],
    );
    expect(key).toMatchObject({
      status: 'failed',
      error: { code: 'dkg_parameter_mismatch', message: expect.stringContaining('culprits: p3') },
    });
  });

  it('a round 2 sent before every round-1 package was relayed is named (dkg_unexpected_message)', async () => {
    const early: Outgoing = {
      type: 'dkg_round2',
      sessionId: 'dkg-k1',
      to: 'p2',
      body: { transcriptHash: '00'.repeat(32), box: { epk: '00', nonce: '00', ciphertext: '00' } },
    };
    const key = await runThroughDriver((from, out) => (from === 'p1' && out.type === 'dkg_round1' ? [early, out] : [out]));
    expect(key).toMatchObject({
      status: 'failed',
      error: { code: 'dkg_unexpected_message', message: expect.stringContaining('culprits: p1') },
    });
  });
});
