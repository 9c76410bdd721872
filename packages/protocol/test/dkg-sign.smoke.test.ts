import { describe, expect, it } from 'vitest';
import { createAggregator, createSigner, getSuite, SUITE_IDS, utf8 } from '../src/index.js';
import { makeWorld, rng, runDkg } from './sim.js';

describe('smoke', () => {
  for (const id of SUITE_IDS) {
    it(`${id}: DKG 2-of-3 then sign`, () => {
      const suite = getSuite(id);
      const names = ['alice', 'bob', 'carol'];
      const world = makeWorld(names);
      const run = runDkg(world, suite, names, 2);
      expect([...run.errors.values()]).toEqual([]);
      expect(run.shares.size).toBe(3);
      const pub = (run.shares.get('alice') ?? expect.fail('no share')).public;
      const msg = utf8('hello');
      const agg = createAggregator({ key: pub, requestId: 'r1', message: msg });
      const signers = ['alice', 'carol'].map((n) => createSigner(run.shares.get(n) ?? expect.fail('x'), rng));
      for (const [i, n] of ['alice', 'carol'].entries()) agg.addCommitment(n, signers[i]!.commit());
      const pkg = agg.buildPackage();
      for (const [i, n] of ['alice', 'carol'].entries()) agg.addShare(n, Buffer.from(signers[i]!.sign(pkg).share).toString('hex'));
      const sig = agg.finish();
      expect(suite.verify(sig, msg, Buffer.from(pub.publicKey, 'hex'))).toBe(true);
    });
  }
});
