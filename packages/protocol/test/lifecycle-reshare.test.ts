/**
 * Resharing (src/lifecycle/reshare.ts): the key moves to a new committee and threshold with the
 * same public key, two-phase (old members keep signing until the caller switches); a dealer that
 * deals anything but its share is named; a dropout or a mixed-up relay changes nothing.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  type Envelope,
  type MessageBody,
  type ReshareResult,
  SUITE_IDS,
  sealBox,
  toHex,
  verifyLifecycleCertificate,
} from '../src/index.js';
import { type Cluster, cluster, expectCode, expectError } from './harness.js';
import {
  activateAll,
  expectClean,
  expectOnlyWrongSession,
  expectSignsUnder,
  freshBody,
  freshStart,
  mixingIn,
  type ReshareParams,
  reshareMachines,
  reshareSuccessors,
  sealAs,
  shareOffByOne,
  widenWorld,
  withFreshGuards,
  withShares,
} from './lifecycle-harness.js';
import { runSession, type SessionRun } from './lifecycle-sim.js';
import { rng, type SimWorld } from './sim.js';

// Each test runs DKGs and lifecycle sessions on a machine shared with other work: no tight limits.
vi.setConfig({ testTimeout: 60_000 });

/** Runs a reshare of `c` and, when it is clean, switches to the successor. */
function reshare(c: Cluster, p: ReshareParams, world: SimWorld = widenWorld(c, p.committee)) {
  const run = runSession(world, reshareMachines(c, world, p));
  return { run, world };
}

function switched(c: Cluster, run: SessionRun<ReshareResult>, world: SimWorld): Cluster {
  expectClean(run);
  const shares = activateAll(reshareSuccessors(run), c.pub, run.toCoordinator, world.keyOf);
  return withShares(c, shares, world);
}

const TO_3_OF_5: ReshareParams = { dealers: ['p01', 'p03'], committee: ['p02', 'p03', 'p04', 'p05', 'p06'], threshold: 3 };

describe('reshare: a new committee and threshold, same key', () => {
  for (const id of SUITE_IDS) {
    it(`${id}: 2-of-3 → 3-of-5 (dealers p01, p03; p01 leaves) → new shares sign under the original public key`, () => {
      const c = cluster(id, 3, 2);
      const { run, world } = reshare(c, TO_3_OF_5);
      expect(run.results.get('p01')).toEqual({ kind: 'dealt' });
      const next = switched(c, run, world);
      expect(next.pub.committee).toEqual(TO_3_OF_5.committee);
      expect(next.pub.threshold).toBe(3);
      expect(next.pub.groupCommitment).toHaveLength(3);
      expect(next.pub.publicKey).toBe(c.pub.publicKey);
      expect(next.pub.groupCommitment[0]).toBe(c.pub.groupCommitment[0]);
      expectSignsUnder(next, ['p02', 'p05', 'p06'], c.pub.publicKey);
      expectSignsUnder(next, ['p03', 'p04', 'p06'], c.pub.publicKey);
      // Two of the new committee are not enough any more: t' = 3.
      expect(() => expectSignsUnder(next, ['p02', 'p03'], c.pub.publicKey)).toThrow();
    });
  }

  it('secp256k1-tr: resharing the tweaked shares as they are keeps the x-only key (libsecp256k1 verifies), nothing is tweaked again', () => {
    const c = cluster('secp256k1-tr', 3, 2);
    const { run, world } = reshare(c, TO_3_OF_5);
    const next = switched(c, run, world);
    expect(next.pub.publicKey).toBe(c.pub.publicKey);
    expect(next.pub.publicKey).toHaveLength(64);
    expectSignsUnder(next, ['p04', 'p05', 'p06'], c.pub.publicKey);
    // And back to 2-of-2 on top: still the DKG's tweaked output key.
    const back = reshare(next, { dealers: ['p02', 'p04', 'p06'], committee: ['p01', 'p02'], threshold: 2 }, world);
    const last = switched(next, back.run, back.world);
    expectSignsUnder(last, ['p01', 'p02'], c.pub.publicKey);
  });

  it('2-of-3 → 3-of-4 → 2-of-2, each certificate chained to its predecessor', () => {
    const c = cluster('ed25519', 3, 2);
    const first = reshare(c, { dealers: ['p01', 'p02'], committee: ['p01', 'p02', 'p03', 'p04'], threshold: 3 });
    const mid = switched(c, first.run, first.world);
    expectSignsUnder(mid, ['p01', 'p03', 'p04'], c.pub.publicKey);
    const second = reshare(mid, { dealers: ['p02', 'p03', 'p04'], committee: ['p03', 'p04'], threshold: 2 }, first.world);
    const last = switched(mid, second.run, second.world);
    expectSignsUnder(last, ['p03', 'p04'], c.pub.publicKey);
    // The second certificate succeeds the first successor, not the DKG key.
    expectCode(
      () =>
        verifyLifecycleCertificate(second.run.toCoordinator, {
          predecessor: c.pub,
          operation: 'reshare',
          sessionId: 'reshare-1',
          committee: ['p03', 'p04'],
          threshold: 2,
          keyOf: second.world.keyOf,
        }),
      'lifecycle_confirmation_mismatch',
    );
  });

  it('more dealers than the old threshold, each also a new member (3 of 3 deal, 2-of-3 → 2-of-3 with one member replaced)', () => {
    const c = cluster('ristretto255', 3, 2);
    const { run, world } = reshare(c, { dealers: ['p01', 'p02', 'p03'], committee: ['p01', 'p02', 'p09'], threshold: 2 });
    expect(run.results.get('p03')).toEqual({ kind: 'dealt' });
    expectSignsUnder(switched(c, run, world), ['p01', 'p09'], c.pub.publicKey);
  });

  it('two-phase: until the switch the old committee signs; the pending shares are not live', () => {
    const c = cluster('ed448', 3, 2);
    const { run, world } = reshare(c, TO_3_OF_5);
    expectClean(run);
    expectSignsUnder(c, ['p01', 'p03'], c.pub.publicKey);
    const pending = reshareSuccessors(run).get('p04');
    expect(JSON.stringify(pending)).not.toContain(toHex(pending?.share.frostSecret.signingShare ?? new Uint8Array(1)));
    // A certificate missing one new member: nobody switches.
    const partial = run.toCoordinator.filter((e) => e.from !== 'p06');
    expectCode(() => activateAll(reshareSuccessors(run), c.pub, partial, world.keyOf), 'lifecycle_confirmation_mismatch');
  });
});

describe('reshare: a dealer that deals anything but its share is named', () => {
  it('a constant term other than λ_i·Y_i (e.g. a dealer that deals a share it made up) → lifecycle_invalid_commitment, named by every new member', () => {
    for (const id of SUITE_IDS) {
      const c = cluster(id, 3, 2);
      const world = widenWorld(c, TO_3_OF_5.committee);
      // p03's machine deals from its real share; the relay swaps in a dealing of another secret, signed by p03.
      const fake = reshareMachines(c, world, TO_3_OF_5);
      const r1 = freshBody(fake, 'p03', 'reshare_round1');
      const moved = { ...r1, commitment: [toHex(c.suite.Point.BASE.multiply(7n).toBytes()), ...r1.commitment.slice(1)] };
      const run = runSession(world, reshareMachines(c, world, TO_3_OF_5), {
        tamper: (env) => (env.type === 'reshare_round1' && env.from === 'p03' ? sealAs(world, 'p03', env, moved) : env),
      });
      for (const m of ['p02', 'p04', 'p05', 'p06']) expectError(run.errors.get(m), 'lifecycle_invalid_commitment', ['p03']);
      // Only the cheater's own (honest) machine, which never saw the swap, derived anything.
      expect([...reshareSuccessors(run).keys()]).toEqual(['p03']);
      expectSignsUnder(c, ['p01', 'p02'], c.pub.publicKey);
    }
  });

  it('a dealer with a damaged share refuses to deal (lifecycle_key_mismatch), before anything leaves', () => {
    const c = cluster('ed25519', 3, 2);
    const bent = shareOffByOne(c, 'p01');
    expectCode(
      () => reshareMachines(c, widenWorld(c, TO_3_OF_5.committee), { ...TO_3_OF_5, shares: new Map([['p01', bent]]) }),
      'lifecycle_key_mismatch',
    );
  });

  it('a share that does not match its dealer’s commitment → lifecycle_invalid_share, named by the member that got it', () => {
    const c = cluster('secp256k1', 3, 2);
    const world = widenWorld(c, TO_3_OF_5.committee);
    const run = runSession(world, reshareMachines(c, world, TO_3_OF_5), {
      tamper: (env, to) => {
        if (env.type !== 'reshare_round2' || env.from !== 'p01' || to !== 'p05') return env;
        const b = sealBox(
          c.suite.frost.utils.randomScalar(rng),
          world.keyOf('p05') as Uint8Array,
          { suite: c.suite.id, sessionId: env.sessionId, round: env.type, from: 'p01', to: 'p05' },
          rng,
        );
        const box = { epk: toHex(b.epk), nonce: toHex(b.nonce), ciphertext: toHex(b.ciphertext) };
        return sealAs(world, 'p01', env, { ...(env.body as MessageBody<'reshare_round2'>), box });
      },
    });
    expectError(run.errors.get('p05'), 'lifecycle_invalid_share', ['p01']);
    expect(reshareSuccessors(run).has('p05')).toBe(false);
  });

  it('a share for another round 1 than the dealer broadcast → lifecycle_equivocation naming the dealer', () => {
    const c = cluster('ed25519', 3, 2);
    const world = widenWorld(c, TO_3_OF_5.committee);
    const run = runSession(world, reshareMachines(c, world, TO_3_OF_5), {
      tamper: (env, to) =>
        env.type === 'reshare_round2' && env.from === 'p03' && to === 'p04'
          ? sealAs(world, 'p03', env, { ...(env.body as MessageBody<'reshare_round2'>), commitmentHash: 'ee'.repeat(32) })
          : env,
    });
    expectError(run.errors.get('p04'), 'lifecycle_equivocation', ['p03']);
  });

  it('two different signed round-1 broadcasts → lifecycle_equivocation naming the dealer', () => {
    const c = cluster('p256', 3, 2);
    const world = widenWorld(c, TO_3_OF_5.committee);
    const other = freshBody(reshareMachines(c, world, TO_3_OF_5), 'p01', 'reshare_round1');
    const run = runSession(world, reshareMachines(c, world, TO_3_OF_5), {
      tamper: (env, to) =>
        env.type === 'reshare_round1' && env.from === 'p01' && to === 'p06' ? [env, sealAs(world, 'p01', env, other)] : env,
    });
    expectError(run.errors.get('p06'), 'lifecycle_equivocation', ['p01']);
  });

  it('a dealer that shows members different (validly signed) dealings: members disagree, no certificate, nobody switches', () => {
    const c = cluster('ed25519', 3, 2);
    const world = widenWorld(c, TO_3_OF_5.committee);
    // p01 deals twice, consistently each time, and shows p06 the second dealing only.
    const second = freshStart(reshareMachines(c, world, TO_3_OF_5), 'p01');
    const run = runSession(world, reshareMachines(c, world, TO_3_OF_5), {
      tamper: (env, to) => {
        if (env.from !== 'p01' || to !== 'p06') return env;
        const twin = second.find((o) => o.type === env.type && (o.to === '*' || o.to === 'p06'));
        return twin ? sealAs(world, 'p01', env, twin.body) : env;
      },
    });
    expect(run.errors.size).toBe(0);
    expectCode(() => activateAll(reshareSuccessors(run), c.pub, run.toCoordinator, world.keyOf), 'lifecycle_confirmation_mismatch');
  });

  it('a message from a new member posing as a dealer → lifecycle_unexpected_message naming it', () => {
    const c = cluster('ed25519', 3, 2);
    const world = widenWorld(c, TO_3_OF_5.committee);
    const machines = reshareMachines(c, world, TO_3_OF_5);
    const m = machines.get('p04');
    m?.start();
    const env = world.parties.get('p05')?.sealer.seal({
      type: 'reshare_round1',
      sessionId: 'reshare-1',
      to: '*',
      body: { keyId: c.pub.keyId, commitment: ['ab'.repeat(32), 'ab'.repeat(32), 'ab'.repeat(32)] },
    }) as Envelope;
    expectError(m?.receive(world.open('p04', env)).error, 'lifecycle_unexpected_message', ['p05']);
  });
});

describe('reshare: failures leave the old committee in charge', () => {
  it('a dealer that drops out: no new member derives a share; the old key still signs', () => {
    const c = cluster('ed25519', 3, 2);
    const world = widenWorld(c, TO_3_OF_5.committee);
    const run = runSession(world, reshareMachines(c, world, TO_3_OF_5), { silent: ['p01'] });
    expect(run.errors.size).toBe(0);
    expect(reshareSuccessors(run).size).toBe(0);
    expect(run.toCoordinator).toEqual([]);
    expectSignsUnder(c, ['p01', 'p03'], c.pub.publicKey);
  });

  it('a new member that drops out before confirming: no certificate; the others’ pending shares stay pending', () => {
    const c = cluster('secp256k1-tr', 3, 2);
    const world = widenWorld(c, TO_3_OF_5.committee);
    const run = runSession(world, reshareMachines(c, world, TO_3_OF_5), { silent: ['p05'] });
    expect(reshareSuccessors(run).size).toBe(5);
    expect(run.toCoordinator.map((e) => e.from).sort()).toEqual(['p02', 'p03', 'p04', 'p06']);
    expectCode(() => activateAll(reshareSuccessors(run), c.pub, run.toCoordinator, world.keyOf), 'lifecycle_confirmation_mismatch');
    expectSignsUnder(c, ['p02', 'p03'], c.pub.publicKey);
  });

  it('messages of reshare session A fed to session B are refused (wrong_session); B completes unchanged', () => {
    const c = cluster('ed25519', 3, 2);
    const world = widenWorld(c, TO_3_OF_5.committee);
    const a = runSession(withFreshGuards(world), reshareMachines(c, world, { ...TO_3_OF_5, sessionId: 'reshare-A' }));
    const b = runSession(world, reshareMachines(c, world, { ...TO_3_OF_5, sessionId: 'reshare-B' }), { tamper: mixingIn(a.log) });
    expectOnlyWrongSession(b);
    const next = withShares(c, activateAll(reshareSuccessors(b), c.pub, b.toCoordinator, world.keyOf), world);
    expectSignsUnder(next, ['p02', 'p03', 'p04'], c.pub.publicKey);
  });
});

describe('reshare: parameters', () => {
  const c = cluster('ed25519', 3, 2);
  const world = widenWorld(c, ['p04']);
  const mk = (p: Partial<ReshareParams>) => () => reshareMachines(c, world, { ...TO_3_OF_5, committee: ['p02', 'p03', 'p04'], ...p });

  it('too few dealers, a dealer outside the old committee, a dealer twice, a bad new threshold: typed errors', () => {
    expectCode(mk({ dealers: ['p01'] }), 'too_few_signers');
    expectCode(mk({ dealers: ['p01', 'p04'] }), 'not_in_committee');
    expectCode(mk({ dealers: ['p01', 'p01'] }), 'duplicate_identifier');
    expectCode(mk({ threshold: 4 }), 'invalid_threshold');
    expectCode(mk({ threshold: 1 }), 'invalid_threshold');
  });
});
