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
import { MemoryStore } from '../../../../test/support/memory-store.js';
import { createDkgDriver } from './dkg-driver.js';
import type { Clock, OrchestratorMetrics } from './ports.js';

const rng: Rng = (n = 32) => new Uint8Array(randomBytes(n));
const names = ['p1', 'p2', 'p3'];
const metrics: OrchestratorMetrics = {
  sessionEnded: () => undefined,
  connectedParties: () => undefined,
  wsRejected: () => undefined,
  partyExcluded: () => undefined,
  partyLatency: () => undefined,
};
const clock: Clock = { now: () => 0, setTimeout: () => ({ cancel: () => undefined }) };

/** What a member does to one of its own outgoing messages before it is signed: [] drops it. */
type Lie = (from: string, out: Outgoing) => Outgoing[];

/** Runs a DKG of k1 (2-of-3) through the driver, members replying at once; returns the key row. */
async function runThroughDriver(lie: Lie = (_f, out) => [out]) {
  const identities = new Map<string, IdentityKey>(names.map((n) => [n, generateIdentity(rng)]));
  const keyOf = (n: string) => identities.get(n)?.publicKey;
  const sealers = new Map<string, EnvelopeSealer>([...identities].map(([n, id]) => [n, createEnvelopeSealer(n, id, 1)]));
  const store = new MemoryStore();
  store.addKey('k1', 'ed25519', 2, names);
  const members = new Map<string, DkgParticipant>();
  const inbox: { to: string; env: Envelope }[] = [];
  const driver = createDkgDriver({
    store,
    clock,
    logger: pino({ level: 'silent' }),
    metrics,
    keyOf,
    timeoutMs: 60_000,
    link: {
      isConnected: () => true,
      sendSealed(to, out) {
        if (out.type === 'dkg_start') {
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
          reply(to, m.start().outgoing);
        }
        return true;
      },
      forward(to, env) {
        inbox.push({ to, env });
        return true;
      },
    },
  });
  const toDriver: { from: string; msg: Message; env: Envelope }[] = [];
  function reply(from: string, outs: Outgoing[]) {
    for (const out of outs.flatMap((o) => lie(from, o))) {
      const env = (sealers.get(from) as EnvelopeSealer).seal(out);
      toDriver.push({ from, env, msg: openEnvelope(env, { self: COORDINATOR, keyOf, anyRecipient: true }) });
    }
  }
  await driver.start('k1');
  for (let i = 0; i < 1000 && (toDriver.length > 0 || inbox.length > 0); i++) {
    const next = toDriver.shift();
    if (next) {
      driver.onMessage(next.from, next.msg, next.env);
      await new Promise((r) => setImmediate(r));
      continue;
    }
    const { to, env } = inbox.shift() as { to: string; env: Envelope };
    reply(to, (members.get(to) as DkgParticipant).receive(openEnvelope(env, { self: to, keyOf })).outgoing);
  }
  return store.keys.get('k1');
}

describe('the DKG driver', () => {
  it('activates the key when every member is honest', async () => {
    expect((await runThroughDriver())?.status).toBe('active');
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
