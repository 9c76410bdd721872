/**
 * Verified share repair (src/lifecycle/repair.ts): t helpers rebuild a lost share that nobody else
 * learns, every step checked against public commitments, so a helper that sends a wrong
 * contribution is named — unlike frost-rs's unverified scheme, whose vectors (repair-share.json)
 * pin the arithmetic the two share.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  type Envelope,
  fromHex,
  getSuite,
  type KeyShare,
  keyPackageHash,
  type MessageBody,
  makeKeyShare,
  type RepairResult,
  SUITE_IDS,
  sealBox,
  toHex,
  verifyShareDrill,
} from '../src/index.js';
import { splitScalar, sumScalars } from '../src/lifecycle/repair.js';
import { type Cluster, cluster, expectCode, expectError } from './harness.js';
import {
  expectClean,
  expectOnlyWrongSession,
  expectSignsUnder,
  freshBody,
  mixingIn,
  recreatedWorld,
  repairMachines,
  sealAs,
  shareOffByOne,
  withFreshGuards,
  withShares,
} from './lifecycle-harness.js';
import { runSession } from './lifecycle-sim.js';
import { CRATES, vectorJson } from './load-vectors.js';
import { rng, type SimWorld } from './sim.js';

// Each test runs DKGs and lifecycle sessions on a machine shared with other work: no tight limits.
vi.setConfig({ testTimeout: 60_000 });

const repaired = (r: RepairResult | undefined): KeyShare => {
  if (r?.kind !== 'repaired') throw new Error(`expected a repaired share, got ${JSON.stringify(r)}`);
  return r.share;
};

function boxed(c: Cluster, world: SimWorld, env: Envelope, to: string, value: Uint8Array) {
  const b = sealBox(
    value,
    world.keyOf(to) as Uint8Array,
    { suite: c.suite.id, sessionId: env.sessionId, round: env.type, from: env.from, to },
    rng,
  );
  return { epk: toHex(b.epk), nonce: toHex(b.nonce), ciphertext: toHex(b.ciphertext) };
}

describe('repair: a lost share rebuilt and checked', () => {
  for (const id of SUITE_IDS) {
    it(`${id}: 3-of-4, p03 rebuilt by p01, p02, p04 → its own share; it proves it and signs under the original key`, () => {
      const c = cluster(id, 4, 3);
      const run = runSession(c.world, repairMachines(c, { target: 'p03', helpers: ['p01', 'p02', 'p04'] }));
      expectClean(run);
      for (const h of ['p01', 'p02', 'p04']) expect(run.results.get(h)).toEqual({ kind: 'helped' });
      const share = repaired(run.results.get('p03'));
      expect(toHex(share.frostSecret.signingShare)).toBe(toHex(c.share('p03').frostSecret.signingShare));
      expect(share.public).toEqual(c.pub);
      // The coordinator checks the target's proof that it holds the share behind Y_p03.
      const [confirm] = run.toCoordinator as [Envelope];
      expect(confirm.type).toBe('repair_confirm');
      const body = confirm.body as MessageBody<'repair_confirm'>;
      verifyShareDrill(
        c.pub,
        { keyId: c.pub.keyId, partyId: 'p03', drillId: 'repair-1', nonce: keyPackageHash(c.pub) },
        { drillId: 'repair-1', ...body },
      );
      expectSignsUnder(
        withShares(c, new Map([...c.names.map((n) => [n, c.share(n)] as const), ['p03', share]])),
        ['p01', 'p03', 'p04'],
        c.pub.publicKey,
      );
    });
  }

  it('more helpers than the threshold (4 helpers, t = 3) rebuild the same share', () => {
    const c = cluster('secp256k1-tr', 5, 3);
    const run = runSession(c.world, repairMachines(c, { target: 'p05', helpers: ['p01', 'p02', 'p03', 'p04'] }));
    expectClean(run);
    expect(toHex(repaired(run.results.get('p05')).frostSecret.signingShare)).toBe(toHex(c.share('p05').frostSecret.signingShare));
  });

  it('a party restored from scratch with a new identity (re-pinned by the helpers) is repaired the same way', () => {
    const c = cluster('ed25519', 3, 2);
    const world = recreatedWorld(c, 'p02');
    const run = runSession(world, repairMachines(c, { target: 'p02', helpers: ['p01', 'p03'] }, world));
    expectClean(run);
    expect(toHex(repaired(run.results.get('p02')).frostSecret.signingShare)).toBe(toHex(c.share('p02').frostSecret.signingShare));
  });

  it('the coordinator sees only commitments and ciphertext: no Δ, σ or share in the clear', () => {
    const c = cluster('ed25519', 3, 2);
    const run = runSession(c.world, repairMachines(c, { target: 'p02', helpers: ['p01', 'p03'] }));
    const traffic = JSON.stringify(run.log);
    for (const n of c.names) expect(traffic).not.toContain(toHex(c.share(n).frostSecret.signingShare));
    expect(run.log.map((e) => e.type).sort()).toEqual([
      'repair_commit',
      'repair_commit',
      'repair_confirm',
      'repair_delta',
      'repair_delta',
      'repair_sigma',
      'repair_sigma',
    ]);
  });
});

describe('repair: a helper that sends a wrong contribution is named', () => {
  it('commitments that do not sum to λ_i·Y_i (it splits something other than its share) → lifecycle_invalid_commitment, named by everyone', () => {
    for (const id of SUITE_IDS) {
      const c = cluster(id, 4, 3);
      // p02 commits to a split of a value of its choosing (not λ·s_p02): valid elements, wrong sum.
      const split = Object.fromEntries(
        ['p01', 'p02', 'p04'].map((j) => [
          j,
          toHex(c.suite.Point.BASE.multiply(c.suite.Fn.fromBytes(c.suite.frost.utils.randomScalar(rng))).toBytes()),
        ]),
      );
      const run = runSession(c.world, repairMachines(c, { target: 'p03', helpers: ['p01', 'p02', 'p04'] }), {
        tamper: (env) =>
          env.type === 'repair_commit' && env.from === 'p02'
            ? sealAs(c.world, 'p02', env, { ...(env.body as object), commitments: split })
            : env,
      });
      for (const p of ['p01', 'p03', 'p04']) expectError(run.errors.get(p), 'lifecycle_invalid_commitment', ['p02']);
      expect(run.results.has('p03')).toBe(false);
      // No honest helper sent a part: the failure is found before anything secret leaves.
      expect(run.log.filter((e) => e.type !== 'repair_commit' && e.from !== 'p02')).toEqual([]);
    }
  });

  it('a part other than the one it committed to → lifecycle_invalid_share, named by the helper that received it', () => {
    const c = cluster('ed25519', 4, 3);
    const run = runSession(c.world, repairMachines(c, { target: 'p03', helpers: ['p01', 'p02', 'p04'] }), {
      tamper: (env, to) => {
        if (env.type !== 'repair_delta' || env.from !== 'p02' || to !== 'p04') return env;
        const body = env.body as MessageBody<'repair_delta'>;
        return sealAs(c.world, 'p02', env, { ...body, box: boxed(c, c.world, env, 'p04', c.suite.frost.utils.randomScalar(rng)) });
      },
    });
    expectError(run.errors.get('p04'), 'lifecycle_invalid_share', ['p02']);
    expect(run.results.has('p03')).toBe(false);
  });

  it('a sum other than the sum of its parts → lifecycle_invalid_share, named by the target (frost-rs would return a wrong share)', () => {
    for (const id of SUITE_IDS) {
      const c = cluster(id, 3, 2);
      const run = runSession(c.world, repairMachines(c, { target: 'p02', helpers: ['p01', 'p03'] }), {
        tamper: (env) => {
          if (env.type !== 'repair_sigma' || env.from !== 'p03') return env;
          const body = env.body as MessageBody<'repair_sigma'>;
          return sealAs(c.world, 'p03', env, { ...body, box: boxed(c, c.world, env, 'p02', c.suite.frost.utils.randomScalar(rng)) });
        },
      });
      expectError(run.errors.get('p02'), 'lifecycle_invalid_share', ['p03']);
      expect(run.results.has('p02')).toBe(false);
      expect(run.toCoordinator).toEqual([]);
    }
  });

  it('commitments for another target, or not one per helper → lifecycle_invalid_commitment naming the sender', () => {
    const c = cluster('ed25519', 3, 2);
    for (const rewrite of [
      (b: MessageBody<'repair_commit'>) => ({ ...b, target: 'p01' }),
      (b: MessageBody<'repair_commit'>) => ({ ...b, commitments: { p01: b.commitments.p01 as string } }),
    ]) {
      const run = runSession(c.world, repairMachines(c, { target: 'p02', helpers: ['p01', 'p03'] }), {
        tamper: (env) =>
          env.type === 'repair_commit' && env.from === 'p03' ? sealAs(c.world, 'p03', env, rewrite(env.body as never)) : env,
      });
      for (const p of ['p01', 'p02']) expectError(run.errors.get(p), 'lifecycle_invalid_commitment', ['p03']);
    }
  });

  it('two different signed commitment sets → lifecycle_equivocation naming the sender', () => {
    const c = cluster('secp256k1', 3, 2);
    const other = freshBody(repairMachines(c, { target: 'p02', helpers: ['p01', 'p03'] }), 'p03', 'repair_commit');
    const run = runSession(c.world, repairMachines(c, { target: 'p02', helpers: ['p01', 'p03'] }), {
      tamper: (env, to) =>
        env.type === 'repair_commit' && env.from === 'p03' && to === 'p02' ? [env, sealAs(c.world, 'p03', env, other)] : env,
    });
    expectError(run.errors.get('p02'), 'lifecycle_equivocation', ['p03']);
  });

  it('a relay that shows the target other (validly signed) commitments → lifecycle_transcript_mismatch, nobody named', () => {
    const c = cluster('ed25519', 3, 2);
    const other = freshBody(repairMachines(c, { target: 'p02', helpers: ['p01', 'p03'] }), 'p03', 'repair_commit');
    const run = runSession(c.world, repairMachines(c, { target: 'p02', helpers: ['p01', 'p03'] }), {
      tamper: (env, to) => (env.type === 'repair_commit' && env.from === 'p03' && to === 'p02' ? sealAs(c.world, 'p03', env, other) : env),
    });
    expectError(run.errors.get('p02'), 'lifecycle_transcript_mismatch', []);
  });

  it('a part sent to the target, or a sum sent to a helper → lifecycle_unexpected_message naming the sender', () => {
    const c = cluster('ed25519', 3, 2);
    const body = {
      keyId: c.pub.keyId,
      transcriptHash: '00'.repeat(32),
      box: { epk: 'ab'.repeat(32), nonce: 'ab'.repeat(24), ciphertext: 'ab'.repeat(48) },
    };
    for (const [type, to] of [
      ['repair_delta', 'p02'],
      ['repair_sigma', 'p01'],
    ] as const) {
      const m = repairMachines(c, { target: 'p02', helpers: ['p01', 'p03'] }).get(to);
      m?.start();
      const env = c.world.parties.get('p03')?.sealer.seal({ type, sessionId: 'repair-1', to, body }) as Envelope;
      expectError(m?.receive(c.world.open(to, env)).error, 'lifecycle_unexpected_message', ['p03']);
    }
  });
});

describe('repair: failures change nothing', () => {
  it('a helper that drops out: the target gets no share and no proof is sent; the key signs on with the others', () => {
    const c = cluster('ed25519', 4, 3);
    const run = runSession(c.world, repairMachines(c, { target: 'p03', helpers: ['p01', 'p02', 'p04'] }), {
      tamper: (env) => (env.from === 'p04' && env.type === 'repair_sigma' ? null : env),
    });
    expect(run.errors.size).toBe(0);
    expect(run.results.has('p03')).toBe(false);
    expect(run.toCoordinator).toEqual([]);
    expectSignsUnder(c, ['p01', 'p02', 'p04'], c.pub.publicKey);
  });

  it('messages of repair session A fed to session B are refused (wrong_session); B still rebuilds the share', () => {
    const c = cluster('ed25519', 3, 2);
    const params = { target: 'p02', helpers: ['p01', 'p03'] };
    const a = runSession(withFreshGuards(c.world), repairMachines(c, { ...params, sessionId: 'repair-A' }));
    const b = runSession(c.world, repairMachines(c, { ...params, sessionId: 'repair-B' }), { tamper: mixingIn(a.log) });
    expectOnlyWrongSession(b);
    expect(toHex(repaired(b.results.get('p02')).frostSecret.signingShare)).toBe(toHex(c.share('p02').frostSecret.signingShare));
  });
});

describe('repair: parameters', () => {
  const c = cluster('ed25519', 4, 3);
  const mk = (o: { target?: string; helpers?: string[] }) => () =>
    repairMachines(c, { target: o.target ?? 'p04', helpers: o.helpers ?? ['p01', 'p02', 'p03'] });

  it('too few helpers, a helper twice, the target helping itself, an outsider: typed errors', () => {
    expectCode(mk({ helpers: ['p01', 'p02'] }), 'too_few_signers');
    expectCode(mk({ helpers: ['p01', 'p02', 'p02'] }), 'duplicate_identifier');
    expectCode(mk({ helpers: ['p01', 'p02', 'p04'] }), 'invalid_identifier');
    expectCode(mk({ helpers: ['p01', 'p02', 'p09'] }), 'not_in_committee');
    expectCode(mk({ target: 'p09' }), 'not_in_committee');
  });

  it('a helper whose stored share is damaged refuses to help before it sends anything (lifecycle_key_mismatch)', () => {
    expectCode(
      () => repairMachines(c, { target: 'p04', helpers: ['p01', 'p02', 'p03'], shares: new Map([['p02', shareOffByOne(c, 'p02')]]) }),
      'lifecycle_key_mismatch',
    );
  });

  it('a helper whose share is of another key generation is refused before it sends anything (wrong_key)', () => {
    const other = cluster('ed25519', 4, 3);
    expectCode(
      () => repairMachines(c, { target: 'p04', helpers: ['p01', 'p02', 'p03'], shares: new Map([['p01', other.share('p01')]]) }),
      'wrong_key',
    );
  });
});

describe('frost-rs repair-share.json (the arithmetic the verified scheme shares with frost-rs)', () => {
  interface Repair {
    scalar_generation: Record<'random_scalar_1' | 'random_scalar_2' | 'random_scalar_3' | 'random_scalar_sum', string>;
    sigma_generation: Record<'sigma_1' | 'sigma_2' | 'sigma_3' | 'sigma_4' | 'sigma_sum', string>;
  }
  for (const [crate, id] of Object.entries(CRATES)) {
    it(`${crate}: Σ Δ (repair_share_part2) and Σ σ (repair_share_part3) through sumScalars; splitScalar's last part`, () => {
      const suite = getSuite(id);
      const v = vectorJson<Repair>(`zcash-frost/${crate}/repair-share.json`);
      const scalar = (h: string) => suite.parseScalar(fromHex(h), 'vector scalar');
      const g = v.scalar_generation;
      const parts = [g.random_scalar_1, g.random_scalar_2, g.random_scalar_3].map(scalar);
      const enc = (n: bigint) => toHex(suite.Fn.toBytes(n));
      expect(enc(sumScalars(suite.Fn, parts))).toBe(g.random_scalar_sum);
      const s = v.sigma_generation;
      expect(enc(sumScalars(suite.Fn, [s.sigma_1, s.sigma_2, s.sigma_3, s.sigma_4].map(scalar)))).toBe(s.sigma_sum);
      // repair_share_part1: given the first random parts, the last is value − Σ (here it must
      // give back the vector's third part for value = their sum).
      const random = [parts[0], parts[1]] as bigint[];
      const split = splitScalar(suite.Fn, scalar(g.random_scalar_sum), 3, () => random.shift() as bigint);
      expect(split.map(enc)).toEqual([g.random_scalar_1, g.random_scalar_2, g.random_scalar_3]);
    });
  }

  it('the verified scheme rebuilds exactly what frost-rs’s would: Σ_j σ_j = Σ_i λ_i·s_i = s_r', () => {
    const c = cluster('ristretto255', 4, 3);
    const run = runSession(c.world, repairMachines(c, { target: 'p01', helpers: ['p02', 'p03', 'p04'] }));
    const share = repaired(run.results.get('p01'));
    // And a repaired share is a valid share of the key, by noble's own VSS check.
    expect(() => makeKeyShare(c.pub, 'p01', share.frostSecret.signingShare)).not.toThrow();
  });
});
