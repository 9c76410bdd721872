/**
 * A session's aggregation run elsewhere (signing/aggregation-job.ts): the job crosses a thread
 * boundary as plain data (structuredClone here, as postMessage does), and the verdict it brings
 * back is the one `finish` reaches inline — the same signature bytes, the same cheaters — in every
 * suite. ROAST with `deferAggregation` asks for the job as an action and decides on the verdict as
 * it does inline.
 */
import { describe, expect, it } from 'vitest';
import {
  type AggregationJob,
  createRoastCoordinator,
  createSigner,
  getSuite,
  type RoastAction,
  runAggregationJob,
  SUITE_IDS,
  type SuiteId,
  toHex,
  utf8,
} from '../src/index.js';
import { aggregatedTwoWays, type Cluster, cluster, commitmentOf } from './harness.js';
import { rng } from './sim.js';

const clusters = new Map<SuiteId, Cluster>();
function key(id: SuiteId): Cluster {
  const c = clusters.get(id) ?? cluster(id, 3, 2);
  clusters.set(id, c);
  return c;
}

const twoWays = (c: Cluster, cheat?: string) => aggregatedTwoWays(c, utf8('job'), cheat);

describe('aggregation as a job for another thread', () => {
  for (const id of SUITE_IDS) {
    it(`${id}: a cloned job brings back finish's signature, and the same cheater`, () => {
      const c = key(id);
      const honest = twoWays(c);
      const job: AggregationJob = structuredClone(honest.deferred.job());
      const verdict = runAggregationJob(job);
      expect(verdict.ok).toBe(true);
      const signature = honest.deferred.conclude(structuredClone(verdict));
      expect(toHex(signature)).toBe(toHex(honest.inline.finish()));
      expect(getSuite(id).verify(signature, utf8('job'), Buffer.from(c.pub.publicKey, 'hex'))).toBe(true);

      const cheater = c.names[1] as string;
      const cheated = twoWays(c, cheater);
      const bad = runAggregationJob(structuredClone(cheated.deferred.job()));
      expect(bad).toEqual({ ok: false, culprits: [cheater], reason: expect.any(String) });
      let inlineError: unknown;
      try {
        cheated.inline.finish();
      } catch (e) {
        inlineError = e;
      }
      expect(() => cheated.deferred.conclude(bad)).toThrow(
        expect.objectContaining({ code: 'invalid_signature_share', culprits: [cheater] }),
      );
      expect(inlineError).toMatchObject({ code: 'invalid_signature_share', culprits: [cheater] });
    });
  }

  it('the job decodes nothing: its commitments travel as points, not bytes', () => {
    const job = twoWays(key('ed25519')).deferred.job();
    for (const s of job.signers) {
      expect(typeof s.commitment.hiding.x).toBe('bigint');
      expect(typeof s.commitment.binding.y).toBe('bigint');
    }
  });
});

/** One request where p01 and p02 sign (p02 cheating if asked); returns ROAST and what it did. */
function run(defer: boolean, cheat: boolean) {
  const c = key('ed25519');
  const [a, b] = c.names as [string, string];
  const roast = createRoastCoordinator({
    key: c.pub,
    requestId: 'r',
    message: utf8('m'),
    sessionId: (n) => `s${n}`,
    deferAggregation: defer,
  });
  const signers = new Map([a, b].map((n) => [n, createSigner(c.share(n), rng)]));
  const actions: RoastAction[] = [];
  for (const [n, s] of signers) actions.push(...roast.handle({ type: 'commitment', from: n, commitment: commitmentOf(c.suite, s, n) }, 0));
  const send = actions.find((x) => x.type === 'send_package');
  if (send?.type !== 'send_package') throw new Error('no session started');
  const after: RoastAction[] = [];
  for (const [n, s] of signers) {
    let z = s.sign(send.pkg).share;
    if (cheat && n === b) z = c.suite.Fn.toBytes(c.suite.Fn.add(c.suite.Fn.fromBytes(z), 1n));
    after.push(...roast.handle({ type: 'share', from: n, sessionId: send.sessionId, share: toHex(z), next: s.commit() }, 1));
  }
  return { roast, after, a, b };
}

describe('ROAST with deferred aggregation', () => {
  for (const cheat of [false, true]) {
    it(`asks for the aggregation, then ${cheat ? 'blames the cheater' : 'completes'} on the verdict exactly as inline`, () => {
      const inline = run(false, cheat);
      const deferred = run(true, cheat);
      const ask = deferred.after.find((x) => x.type === 'aggregate');
      if (ask?.type !== 'aggregate') throw new Error('no aggregate action');
      expect(
        deferred.after.filter((x) => x.type !== 'aggregate'),
        'nothing decided before the verdict',
      ).toEqual([]);
      expect(deferred.roast.phase).toBe('running');
      const decided = deferred.roast.handle({ type: 'aggregated', sessionId: ask.sessionId, verdict: runAggregationJob(ask.job) }, 2);
      const shape = (xs: RoastAction[]) =>
        xs.map((x) =>
          x.type === 'completed'
            ? { type: x.type, signers: x.signers }
            : x.type === 'exclude'
              ? { type: x.type, party: x.party, code: x.code }
              : { type: x.type },
        );
      expect(shape(decided)).toEqual(shape(inline.after));
      expect(deferred.roast.phase).toBe(inline.roast.phase);
      expect(deferred.roast.partyPhase(deferred.b)).toBe(inline.roast.partyPhase(inline.b));
      // A verdict nobody asked for (again, or for another session) changes nothing.
      expect(
        deferred.roast.handle({ type: 'aggregated', sessionId: ask.sessionId, verdict: { ok: false, culprits: ['p01'], reason: 'x' } }, 3),
      ).toEqual([]);
    });
  }
});

describe('ROAST with deferred aggregation, while a verdict is out', () => {
  it('a last signer that disconnects before a failing verdict is not made ready with the commitment it sent', () => {
    const { roast, after, a, b } = run(true, false);
    const ask = after.find((x) => x.type === 'aggregate');
    if (ask?.type !== 'aggregate') throw new Error('no aggregate action');
    roast.handle({ type: 'unavailable', party: b }, 2);
    // An inconsistent-key verdict: nobody blamed, the session simply failed.
    roast.handle({ type: 'aggregated', sessionId: ask.sessionId, verdict: { ok: false, culprits: [], reason: 'inconsistent' } }, 3);
    expect(roast.partyPhase(b), 'its commitment may be gone with its process').toBe('idle');
    expect(roast.partyPhase(a)).toBe('ready');
  });
});
