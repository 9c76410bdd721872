/**
 * Properties of the key lifecycle over random committees, for every suite: after a refresh, a
 * reshare to any committee and threshold with any dealing set, or a repair of any member by any
 * helpers, the key is the same and any t of the holders sign under the ORIGINAL public key
 * (suite verifier and, where one exists, an independent one). fast-check prints the seed and the
 * shrunk counterexample of any failure. Each run costs a DKG, so runs are few and committees small.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { SUITE_IDS, type SuiteId, toHex } from '../src/index.js';
import { cluster } from './harness.js';
import {
  activateAll,
  expectClean,
  expectSignsUnder,
  repairMachines,
  reshareMachines,
  reshareSuccessors,
  runRefresh,
  widenWorld,
  withShares,
} from './lifecycle-harness.js';
import { runSession } from './lifecycle-sim.js';

vi.setConfig({ testTimeout: 600_000 });

const NAMES = Array.from({ length: 8 }, (_, i) => `p${String(i + 1).padStart(2, '0')}`);
const suiteArb = fc.constantFrom<SuiteId>(...SUITE_IDS);
/** n ≤ 5 keeps one DKG plus one operation per run affordable (ed448 included). */
const committeeArb = (minN: number) =>
  fc
    .integer({ min: minN, max: 5 })
    .chain((n) => fc.record({ n: fc.constant(n), t: fc.integer({ min: 2, max: Math.max(2, n - (minN - 2)) }) }));

describe('lifecycle properties', () => {
  it('refresh: any committee; any t members sign under the original key; every share changed', () => {
    fc.assert(
      fc.property(
        suiteArb,
        committeeArb(2).chain(({ n, t }) =>
          fc.record({
            n: fc.constant(n),
            t: fc.constant(t),
            signers: fc.shuffledSubarray(NAMES.slice(0, n), { minLength: t, maxLength: t }),
          }),
        ),
        (id, { n, t, signers }) => {
          const c = cluster(id, n, t);
          const run = runRefresh(c);
          expectClean(run);
          const shares = activateAll(run.results, c.pub, run.toCoordinator, c.world.keyOf);
          for (const m of c.names)
            expect(toHex(shares.get(m)?.frostSecret.signingShare ?? new Uint8Array())).not.toBe(toHex(c.share(m).frostSecret.signingShare));
          expectSignsUnder(withShares(c, shares), signers, c.pub.publicKey);
        },
      ),
      { numRuns: 6 },
    );
  });

  it('reshare: any (t, n) → any (t′, n′), any dealing set of at least t old members; any t′ new members sign', () => {
    fc.assert(
      fc.property(
        suiteArb,
        committeeArb(2)
          .chain(({ n, t }) =>
            fc.record({
              n: fc.constant(n),
              t: fc.constant(t),
              dealers: fc.shuffledSubarray(NAMES.slice(0, n), { minLength: t }),
              committee: fc.shuffledSubarray(NAMES.slice(0, 7), { minLength: 2, maxLength: 5 }),
            }),
          )
          .chain((r) =>
            fc.integer({ min: 2, max: r.committee.length }).chain(
              (threshold) =>
                fc.record({
                  ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fc.constant(v)])),
                  threshold: fc.constant(threshold),
                  signers: fc.shuffledSubarray(r.committee, { minLength: threshold, maxLength: threshold }),
                }) as fc.Arbitrary<typeof r & { threshold: number; signers: string[] }>,
            ),
          ),
        (id, { n, t, dealers, committee, threshold, signers }) => {
          const c = cluster(id, n, t);
          const world = widenWorld(c, committee);
          const run = runSession(world, reshareMachines(c, world, { dealers, committee, threshold }));
          expectClean(run);
          const next = withShares(c, activateAll(reshareSuccessors(run), c.pub, run.toCoordinator, world.keyOf), world);
          expect(next.pub.committee).toEqual([...committee].sort());
          expect(next.pub.threshold).toBe(threshold);
          expectSignsUnder(next, signers, c.pub.publicKey);
        },
      ),
      { numRuns: 6 },
    );
  });

  it('repair: any member of any committee, rebuilt by any t or more others, gets exactly its share back', () => {
    fc.assert(
      fc.property(
        suiteArb,
        committeeArb(3).chain(({ n, t }) =>
          fc.integer({ min: 0, max: n - 1 }).chain((target) =>
            fc.record({
              n: fc.constant(n),
              t: fc.constant(t),
              target: fc.constant(NAMES[target] as string),
              helpers: fc.shuffledSubarray(
                NAMES.slice(0, n).filter((_, i) => i !== target),
                { minLength: t },
              ),
            }),
          ),
        ),
        (id, { n, t, target, helpers }) => {
          const c = cluster(id, n, t);
          const run = runSession(c.world, repairMachines(c, { target, helpers }));
          expectClean(run);
          const r = run.results.get(target);
          expect(r?.kind).toBe('repaired');
          if (r?.kind === 'repaired') expect(toHex(r.share.frostSecret.signingShare)).toBe(toHex(c.share(target).frostSecret.signingShare));
        },
      ),
      { numRuns: 6 },
    );
  });
});
