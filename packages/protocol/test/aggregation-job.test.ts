/**
 * A session's aggregation run elsewhere (signing/aggregation-job.ts): the job crosses a thread
 * boundary as plain data (structuredClone here, as postMessage does), and the verdict it brings
 * back is the one `finish` reaches inline — the same signature bytes, the same cheaters — in every
 * suite, for sessions of one message and of several (an intent of width k: one commitment and one
 * share per message and signer). ROAST with `deferAggregation` asks for the job as an action and
 * decides on the verdict as it does inline, a two-input PSBT included.
 */
import { describe, expect, it } from 'vitest';
import {
  type AggregationJob,
  createAggregator,
  createRoastCoordinator,
  createSigner,
  fromHex,
  getSuite,
  type Intent,
  type RoastAction,
  runAggregationJob,
  SUITE_IDS,
  type SuiteId,
  signingMessages,
  toHex,
  utf8,
} from '../src/index.js';
import { aggregatedTwoWays, type Cluster, cluster, commitmentOf } from './harness.js';
import { p2wpkhDestination, taprootSpend } from './psbt-fixtures.js';
import { rng } from './sim.js';

const clusters = new Map<SuiteId, Cluster>();
function key(id: SuiteId): Cluster {
  const c = clusters.get(id) ?? cluster(id, 3, 2);
  clusters.set(id, c);
  return c;
}

const ONE = [utf8('job')];
const TWO = [utf8('job, first input'), utf8('job, second input')];

describe('aggregation as a job for another thread', () => {
  for (const id of SUITE_IDS) {
    for (const messages of [ONE, TWO]) {
      it(`${id}, ${messages.length} message(s): a cloned job brings back finish's signatures, and the same cheater`, () => {
        const c = key(id);
        const honest = aggregatedTwoWays(c, messages);
        const job: AggregationJob = structuredClone(honest.deferred.job());
        const verdict = runAggregationJob(job);
        expect(verdict.ok).toBe(true);
        const signatures = honest.deferred.conclude(structuredClone(verdict));
        expect(signatures.map(toHex)).toEqual(honest.inline.finish().map(toHex));
        expect(signatures).toHaveLength(messages.length);
        for (const [i, sig] of signatures.entries())
          expect(getSuite(id).verify(sig, messages[i] as Uint8Array, fromHex(c.pub.publicKey)), `message ${i}`).toBe(true);

        // The cheat is in the last message's share: a job that looked at the first message only would miss it.
        const cheater = c.names[1] as string;
        const cheated = aggregatedTwoWays(c, messages, cheater, messages.length - 1);
        const bad = runAggregationJob(structuredClone(cheated.deferred.job()));
        expect(bad).toEqual({ ok: false, culprits: [cheater], reason: expect.any(String) });
        expect(() => cheated.inline.finish()).toThrow(expect.objectContaining({ code: 'invalid_signature_share', culprits: [cheater] }));
        expect(() => cheated.deferred.conclude(bad)).toThrow(
          expect.objectContaining({ code: 'invalid_signature_share', culprits: [cheater] }),
        );
      });
    }
  }

  it('a job carries one commitment and one share per message and signer, as points and scalars: nothing to decode', () => {
    const job = aggregatedTwoWays(key('ed25519'), TWO).deferred.job();
    expect(job.messages).toHaveLength(2);
    for (const s of job.signers) {
      expect(s.commitments).toHaveLength(2);
      expect(s.shares).toHaveLength(2);
      for (const c of s.commitments) {
        expect(typeof c.hiding.x).toBe('bigint');
        expect(typeof c.binding.y).toBe('bigint');
      }
      for (const z of s.shares) expect(typeof z).toBe('bigint');
    }
  });

  it('two cheaters on different messages of one session are both named', () => {
    const c = cluster('ed25519', 3, 3);
    const [a, b, d] = c.names as [string, string, string];
    const intent: Intent = { type: 'raw', message: toHex(TWO[0] as Uint8Array) };
    const signers = [a, b, d].map((n) => [n, createSigner(c.share(n), rng)] as const);
    const agg = createAggregator({ key: c.pub, requestId: 'r', intent, messages: TWO, deferred: true });
    for (const [n, s] of signers)
      agg.addCommitment(
        n,
        TWO.map(() => commitmentOf(c.suite, s, n)),
      );
    const pkg = agg.buildPackage();
    const bump = (z: Uint8Array) => c.suite.Fn.toBytes(c.suite.Fn.add(c.suite.Fn.fromBytes(z), 1n));
    for (const [n, s] of signers) {
      const zs = s.sign(pkg, TWO).shares.map((z, i) => ((n === a && i === 0) || (n === d && i === 1) ? bump(z) : z));
      agg.addShare(
        n,
        zs.map((z) => toHex(z)),
      );
    }
    expect(runAggregationJob(structuredClone(agg.job()))).toEqual({ ok: false, culprits: [a, d].sort(), reason: expect.any(String) });
  });
});

/**
 * One request where the first two members sign `intent` (the second cheating on the last message
 * if asked); returns ROAST and what it did.
 */
function run(c: Cluster, intent: Intent, defer: boolean, cheat: boolean) {
  const [a, b] = c.names as [string, string];
  const messages = signingMessages(intent, { keyId: c.pub.keyId, suite: c.suite.id, publicKey: fromHex(c.pub.publicKey) });
  const roast = createRoastCoordinator({ key: c.pub, requestId: 'r', intent, sessionId: (n) => `s${n}`, deferAggregation: defer });
  const signers = new Map([a, b].map((n) => [n, createSigner(c.share(n), rng)]));
  const actions: RoastAction[] = [];
  for (const [n, s] of signers)
    actions.push(...roast.handle({ type: 'commitment', from: n, commitments: messages.map(() => commitmentOf(c.suite, s, n)) }, 0));
  const send = actions.find((x) => x.type === 'send_package');
  if (send?.type !== 'send_package') throw new Error('no session started');
  const after: RoastAction[] = [];
  for (const [n, s] of signers) {
    const zs = s
      .sign(send.pkg, messages)
      .shares.map((z, i) =>
        cheat && n === b && i === messages.length - 1 ? c.suite.Fn.toBytes(c.suite.Fn.add(c.suite.Fn.fromBytes(z), 1n)) : z,
      );
    const next = { ...s.commit(), ...(messages.length > 1 ? { more: messages.slice(1).map(() => s.commit()) } : {}) };
    after.push(...roast.handle({ type: 'share', from: n, sessionId: send.sessionId, shares: zs.map((z) => toHex(z)), next }, 1));
  }
  return { roast, after, a, b, messages };
}

/** A raw intent (one message) for the ed25519 key, and a two-input Taproot PSBT for the secp256k1-tr key. */
function requests(): { name: string; c: Cluster; intent: Intent }[] {
  const ed = key('ed25519');
  const tr = key('secp256k1-tr');
  const { intent: psbt } = taprootSpend(fromHex(tr.pub.publicKey), [40_000n, 60_000n], [{ ...p2wpkhDestination(7), amount: 90_000n }]);
  return [
    { name: 'a raw intent', c: ed, intent: { type: 'raw', message: toHex(utf8('m')) } },
    { name: 'a two-input PSBT', c: tr, intent: psbt },
  ];
}

describe('ROAST with deferred aggregation', () => {
  for (const { name, c, intent } of requests()) {
    for (const cheat of [false, true]) {
      it(`${name}: asks for the aggregation, then ${cheat ? 'blames the cheater' : 'completes'} on the verdict exactly as inline`, () => {
        const inline = run(c, intent, false, cheat);
        const deferred = run(c, intent, true, cheat);
        const ask = deferred.after.find((x) => x.type === 'aggregate');
        if (ask?.type !== 'aggregate') throw new Error('no aggregate action');
        expect(ask.job.messages).toHaveLength(deferred.messages.length);
        expect(
          deferred.after.filter((x) => x.type !== 'aggregate'),
          'nothing decided before the verdict',
        ).toEqual([]);
        expect(deferred.roast.phase).toBe('running');
        const decided = deferred.roast.handle({ type: 'aggregated', sessionId: ask.sessionId, verdict: runAggregationJob(ask.job) }, 2);
        const shape = (xs: RoastAction[]) =>
          xs.map((x) =>
            x.type === 'completed'
              ? { type: x.type, signers: x.signers, signatures: x.signatures.length }
              : x.type === 'exclude'
                ? { type: x.type, party: x.party, code: x.code }
                : { type: x.type },
          );
        expect(shape(decided)).toEqual(shape(inline.after));
        const completed = decided.find((x) => x.type === 'completed');
        if (completed?.type === 'completed')
          for (const [i, sig] of completed.signatures.entries())
            expect(c.suite.verify(sig, deferred.messages[i] as Uint8Array, fromHex(c.pub.publicKey)), `message ${i}`).toBe(true);
        expect(deferred.roast.phase).toBe(inline.roast.phase);
        expect(deferred.roast.partyPhase(deferred.b)).toBe(inline.roast.partyPhase(inline.b));
        // A verdict nobody asked for (again, or for another session) changes nothing.
        expect(
          deferred.roast.handle(
            { type: 'aggregated', sessionId: ask.sessionId, verdict: { ok: false, culprits: ['p01'], reason: 'x' } },
            3,
          ),
        ).toEqual([]);
      });
    }
  }
});

describe('ROAST with deferred aggregation, while a verdict is out', () => {
  it('a last signer that disconnects before a failing verdict is not made ready with the commitments it sent', () => {
    const psbt = requests().find((r) => r.name === 'a two-input PSBT');
    if (!psbt) throw new Error('no PSBT request');
    const { roast, after, a, b } = run(psbt.c, psbt.intent, true, false);
    const ask = after.find((x) => x.type === 'aggregate');
    if (ask?.type !== 'aggregate') throw new Error('no aggregate action');
    roast.handle({ type: 'unavailable', party: b }, 2);
    // An inconsistent-key verdict: nobody blamed, the session simply failed.
    roast.handle({ type: 'aggregated', sessionId: ask.sessionId, verdict: { ok: false, culprits: [], reason: 'inconsistent' } }, 3);
    expect(roast.partyPhase(b), 'its commitments may be gone with its process').toBe('idle');
    expect(roast.partyPhase(a)).toBe('ready');
  });
});
