/**
 * Share drills (src/lifecycle/drill.ts): a holder proves its stored share matches its certified
 * verifying share without revealing it; the proof answers exactly one challenge.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  type DrillChallenge,
  type DrillProof,
  fromHex,
  type KeyShare,
  proveShareIntact,
  SUITE_IDS,
  toHex,
  verifyShareDrill,
} from '../src/index.js';
import { type Cluster, cluster, expectCode } from './harness.js';
import { activateAll, runRefresh } from './lifecycle-harness.js';
import { rng } from './sim.js';

// Each test runs DKGs and lifecycle sessions on a machine shared with other work: no tight limits.
vi.setConfig({ testTimeout: 60_000 });

const challengeFor = (c: Cluster, partyId: string, drillId = 'drill-1'): DrillChallenge => ({
  keyId: c.pub.keyId,
  partyId,
  drillId,
  nonce: toHex(rng(32)),
});

describe('drill: proof of an intact share', () => {
  for (const id of SUITE_IDS) {
    it(`${id}: every holder proves its share; the proof reveals nothing of it and answers only its own challenge`, () => {
      const c = cluster(id, 3, 2);
      for (const n of c.names) {
        const ch = challengeFor(c, n);
        const proof = proveShareIntact(c.share(n), ch, rng);
        verifyShareDrill(c.pub, ch, proof);
        expect(JSON.stringify(proof)).not.toContain(toHex(c.share(n).frostSecret.signingShare));
        // Another nonce, drill, party: the same proof does not verify.
        expectCode(() => verifyShareDrill(c.pub, { ...ch, nonce: toHex(rng(32)) }, proof), 'drill_invalid_proof', [n]);
        expectCode(() => verifyShareDrill(c.pub, { ...ch, drillId: 'drill-2' }, { ...proof, drillId: 'drill-2' }), 'drill_invalid_proof', [
          n,
        ]);
        const other = c.names.find((m) => m !== n) as string;
        expectCode(() => verifyShareDrill(c.pub, { ...ch, partyId: other }, proof), 'drill_invalid_proof', [other]);
      }
    });
  }

  it('a proof for another drill id (the body says so) → drill_invalid_proof', () => {
    const c = cluster('ed25519', 3, 2);
    const ch = challengeFor(c, 'p01');
    const proof = proveShareIntact(c.share('p01'), ch, rng);
    expectCode(() => verifyShareDrill(c.pub, ch, { ...proof, drillId: 'drill-9' }), 'drill_invalid_proof', ['p01']);
  });

  it('a bent proof (R or z changed, wrong length, not hex) → drill_invalid_proof naming the holder', () => {
    const c = cluster('secp256k1-tr', 3, 2);
    const ch = challengeFor(c, 'p02');
    const proof = proveShareIntact(c.share('p02'), ch, rng);
    const bytes = fromHex(proof.proof);
    const bend = (i: number): DrillProof => {
      const b = bytes.slice();
      b[i] = (b[i] as number) ^ 1;
      return { ...proof, proof: toHex(b) };
    };
    for (const p of [
      bend(5),
      bend(bytes.length - 1),
      { ...proof, proof: proof.proof.slice(2) },
      { ...proof, proof: `${proof.proof.slice(0, -2)}zz` },
    ]) {
      expectCode(() => verifyShareDrill(c.pub, ch, p), 'drill_invalid_proof', ['p02']);
    }
  });

  it('a damaged stored share cannot be proven: drill_share_mismatch, before any proof is made', () => {
    const c = cluster('p256', 3, 2);
    const s = c.share('p03');
    const bent = s.frostSecret.signingShare.slice();
    bent[bent.length - 1] = (bent[bent.length - 1] as number) ^ 1;
    const damaged: KeyShare = { ...s, frostSecret: { ...s.frostSecret, signingShare: bent } };
    expectCode(() => proveShareIntact(damaged, challengeFor(c, 'p03'), rng), 'drill_share_mismatch', []);
  });

  it('a proof made with a share of the previous generation fails against the refreshed key', () => {
    const c = cluster('ed25519', 3, 2);
    const run = runRefresh(c);
    const shares = activateAll(run.results, c.pub, run.toCoordinator, c.world.keyOf);
    const next = (shares.get('p01') as KeyShare).public;
    const ch = challengeFor(c, 'p01');
    expectCode(() => verifyShareDrill(next, ch, proveShareIntact(c.share('p01'), ch, rng)), 'drill_invalid_proof', ['p01']);
    verifyShareDrill(next, ch, proveShareIntact(shares.get('p01') as KeyShare, ch, rng));
  });

  it('a challenge for another key or party is refused by the prover (wrong_key)', () => {
    const c = cluster('ed25519', 3, 2);
    expectCode(() => proveShareIntact(c.share('p01'), challengeFor(c, 'p02'), rng), 'wrong_key');
    expectCode(() => proveShareIntact(c.share('p01'), { ...challengeFor(c, 'p01'), keyId: 'other' }, rng), 'wrong_key');
  });
});
