/**
 * Cheating parties are identified by party id. The cheater here is the party itself (its
 * envelopes carry its own valid signature), so only the protocol's own checks can catch it.
 */
import { describe, expect, it } from 'vitest';
import {
  createDkgParticipant,
  type DkgParticipant,
  type Envelope,
  fromHex,
  getSuite,
  type MessageBody,
  SUITE_IDS,
  type SuiteId,
  sealBox,
  toHex,
  utf8,
  verifyDkgCertificate,
} from '../src/index.js';
import { cluster, expectCode, expectError, resign, scalarBytes, session } from './harness.js';
import { makeWorld, rng, runDkg, type SimWorld, type Tamper } from './sim.js';

const names = ['p01', 'p02', 'p03'];

/** Another valid round-1 body of `name`: same identifier, another polynomial (what an equivocator sends). */
/** Another valid round-1 package of `name`, for the same session parameters as `env`'s. */
function otherRound1(id: SuiteId, name: string, env: Envelope): MessageBody<'dkg_round1'> {
  const suite = getSuite(id);
  const r1 = suite.frost.DKG.round1(suite.identifierFor(name), { min: 2, max: names.length }, undefined, rng);
  const { paramsHash } = env.body as MessageBody<'dkg_round1'>;
  return { paramsHash, commitment: r1.public.commitment.map(toHex), proofOfKnowledge: toHex(r1.public.proofOfKnowledge) };
}

/** Re-seals `body` as `from` (a fresh, valid signature: the party itself is lying). */
function sealAs(world: SimWorld, from: string, env: Envelope, body: unknown): Envelope {
  return world.parties.get(from)!.sealer.seal({ type: env.type, sessionId: env.sessionId, to: env.to, body } as never);
}

/** Runs a 2-of-3 DKG among p01..p03 in which `tamper` rewrites traffic. */
function dkgWith(id: SuiteId, makeTamper: (world: SimWorld) => Tamper) {
  const world = makeWorld(names);
  const run = runDkg(world, getSuite(id), names, 2, { tamper: makeTamper(world) });
  return { world, run };
}

describe('signature-share cheaters are named', () => {
  for (const id of SUITE_IDS) {
    it(`${id}: one wrong share → exactly that party; two → both`, () => {
      const c = cluster(id, 3, 2);
      const bump = (hex: string) => toHex(c.suite.Fn.toBytes(c.suite.Fn.add(c.suite.Fn.fromBytes(fromHex(hex)), 1n)));
      const msg = utf8('withdraw');

      const one = session(c, c.names, msg);
      for (const [n, h] of one.shares) one.addShare(n, n === 'p02' ? bump(h) : h);
      expectCode(() => one.finish(), 'invalid_signature_share', ['p02']);

      const two = session(c, c.names, msg);
      for (const [n, h] of two.shares) two.addShare(n, n === 'p01' || n === 'p03' ? bump(h) : h);
      expectCode(() => two.finish(), 'invalid_signature_share', ['p01', 'p03']);

      // A share that is valid, but for another message, is just as wrong here.
      const honest = session(c, c.names, msg);
      const elsewhere = session(c, c.names, utf8('something else'));
      for (const [n, h] of honest.shares) honest.addShare(n, n === 'p03' ? (elsewhere.shares.get('p03') as string) : h);
      expectCode(() => honest.finish(), 'invalid_signature_share', ['p03']);
    });
  }
});

describe('DKG cheaters are named', () => {
  for (const id of SUITE_IDS) {
    it(`${id}: a tampered round-1 proof of knowledge → dkg_invalid_round1 naming its author`, () => {
      const suite = getSuite(id);
      let forged: Envelope | undefined;
      const { run } = dkgWith(id, (world) => (env) => {
        if (env.type !== 'dkg_round1' || env.from !== 'p02') return env;
        if (!forged) {
          const body = env.body as MessageBody<'dkg_round1'>;
          const pok = fromHex(body.proofOfKnowledge);
          const zAt = pok.length - suite.scalarLength;
          const z = suite.Fn.add(suite.Fn.fromBytes(pok.subarray(zAt)), 1n);
          pok.set(suite.Fn.toBytes(z), zAt);
          forged = sealAs(world, 'p02', env, { ...body, proofOfKnowledge: toHex(pok) });
        }
        return forged;
      });
      expect(run.shares.size).toBe(0);
      for (const p of ['p01', 'p03']) expectError(run.errors.get(p), 'dkg_invalid_round1', ['p02']);
    });

    it(`${id}: a wrong round-2 share → dkg_invalid_secret_share naming its dealer`, () => {
      const suite = getSuite(id);
      const { run } = dkgWith(id, (world) => (env, to) => {
        if (env.type !== 'dkg_round2' || env.from !== 'p02' || to !== 'p01') return env;
        const body = env.body as MessageBody<'dkg_round2'>;
        const wrong = suite.frost.utils.randomScalar(rng);
        const ctx = { suite: id, sessionId: env.sessionId, round: 'dkg_round2', from: 'p02', to: 'p01' };
        const box = sealBox(wrong, world.keyOf('p01')!, ctx, rng);
        return sealAs(world, 'p02', env, {
          ...body,
          box: { epk: toHex(box.epk), nonce: toHex(box.nonce), ciphertext: toHex(box.ciphertext) },
        });
      });
      expectError(run.errors.get('p01'), 'dkg_invalid_secret_share', ['p02']);
      expect(run.shares.has('p01')).toBe(false);
      // The others received honest shares and are unaffected.
      expect(run.shares.has('p03')).toBe(true);
    });
  }

  const boxedShare = (id: SuiteId, scalar: Uint8Array) => (world: SimWorld) => (env: Envelope, to: string) => {
    if (env.type !== 'dkg_round2' || env.from !== 'p02' || to !== 'p01') return env;
    const ctx = { suite: id, sessionId: env.sessionId, round: 'dkg_round2', from: 'p02', to: 'p01' };
    const box = sealBox(scalar, world.keyOf('p01')!, ctx, rng);
    const body = env.body as MessageBody<'dkg_round2'>;
    return sealAs(world, 'p02', env, { ...body, box: { epk: toHex(box.epk), nonce: toHex(box.nonce), ciphertext: toHex(box.ciphertext) } });
  };

  it('a dealer sending a zero round-2 share is named (dkg_invalid_secret_share, not an anonymous dkg_failed)', () => {
    const s = getSuite('secp256k1');
    const { run } = dkgWith('secp256k1', boxedShare('secp256k1', new Uint8Array(s.scalarLength)));
    expectError(run.errors.get('p01'), 'dkg_invalid_secret_share', ['p02']);
  });

  it('a non-canonical round-2 share → invalid_scalar naming its dealer', () => {
    const s = getSuite('ed25519');
    const { run } = dkgWith('ed25519', boxedShare('ed25519', scalarBytes(s, s.Fn.ORDER + 5n)));
    expectError(run.errors.get('p01'), 'invalid_scalar', ['p02']);
  });

  it('a round-2 box that does not open → decryption_failed naming its sender', () => {
    const { run } = dkgWith('ed25519', (world) => (env, to) => {
      if (env.type !== 'dkg_round2' || env.from !== 'p02' || to !== 'p01') return env;
      const body = env.body as MessageBody<'dkg_round2'>;
      const ct = fromHex(body.box.ciphertext);
      ct[0] = (ct[0] as number) ^ 1;
      return sealAs(world, 'p02', env, { ...body, box: { ...body.box, ciphertext: toHex(ct) } });
    });
    expectError(run.errors.get('p01'), 'decryption_failed', ['p02']);
  });

  it('a party that signs two different round-1 packages → dkg_equivocation naming it', () => {
    const { run } = dkgWith('ed25519', (world) => (env, to) => {
      if (env.type !== 'dkg_round1' || env.from !== 'p02' || to !== 'p01') return env;
      return [env, sealAs(world, 'p02', env, otherRound1('ed25519', 'p02', env))];
    });
    expectError(run.errors.get('p01'), 'dkg_equivocation', ['p02']);
  });

  it('a party that signs two different round-2 packages for one recipient → dkg_equivocation naming it', () => {
    const suite = getSuite('ed25519');
    const { run } = dkgWith('ed25519', (world) => (env, to) => {
      if (env.type !== 'dkg_round2' || to !== 'p01') return env;
      // Hold p03's share back so p01 is still collecting when the second package arrives.
      if (env.from === 'p03') return null;
      if (env.from !== 'p02') return env;
      const other = boxedShare('ed25519', suite.frost.utils.randomScalar(rng))(world)(env, to);
      return [env, other];
    });
    expectError(run.errors.get('p01'), 'dkg_equivocation', ['p02']);
  });

  it('a relay that shows one party another (validly signed) round 1 → dkg_transcript_mismatch', () => {
    const { run } = dkgWith('ed25519', (world) => (env, to) => {
      if (env.type !== 'dkg_round1' || env.from !== 'p02' || to !== 'p03') return env;
      return sealAs(world, 'p02', env, otherRound1('ed25519', 'p02', env));
    });
    expect(run.shares.size).toBe(0);
    const codes = [...run.errors.values()].map((e) => e.code);
    expect(codes).toContain('dkg_transcript_mismatch');
    // Whether p02 equivocated or the relay swapped packages cannot be told apart here: nobody is blamed.
    for (const e of run.errors.values()) if (e.code === 'dkg_transcript_mismatch') expect(e.culprits).toEqual([]);
  });
});

/**
 * Issue 10, item 6: a coordinator that tells members different session parameters. Each member's
 * round 1 is honest for what it was told, so no member may be named; before the parameters were
 * signed into round 1, a member told t = 3 named a member told t = 2 for a "wrong" commitment length.
 */
describe('DKG session parameters', () => {
  const told = (params: Record<string, { threshold: number; committee?: string[]; keyId?: string }>) => {
    const world = makeWorld(names);
    const participants = new Map<string, DkgParticipant>(
      names.map((self) => {
        const p = params[self] ?? { threshold: 2 };
        const sim = world.parties.get(self)!;
        return [
          self,
          createDkgParticipant({
            suite: getSuite('ed25519'),
            keyId: p.keyId ?? 'k1',
            sessionId: 'dkg-k1',
            self,
            committee: p.committee ?? names,
            threshold: p.threshold,
            identity: sim.identity,
            peerKey: world.keyOf,
            rng,
          }),
        ];
      }),
    );
    return runDkg(world, getSuite('ed25519'), names, 2, { keyId: 'k1', participants });
  };

  it('members told different thresholds abort with dkg_parameter_mismatch and blame nobody', () => {
    const run = told({ p03: { threshold: 3 } });
    expect(run.shares.size).toBe(0);
    expect(run.errors.size).toBe(3);
    for (const e of run.errors.values()) expectError(e, 'dkg_parameter_mismatch', []);
  });

  it('members told different key ids abort the same way, naming nobody', () => {
    const run = told({ p02: { threshold: 2, keyId: 'k-other' } });
    expect(run.shares.size).toBe(0);
    for (const e of run.errors.values()) expectError(e, 'dkg_parameter_mismatch', []);
  });
});

describe('DKG certificate', () => {
  const c = cluster('ed25519', 3, 2);
  const exp = { keyId: c.pub.keyId, suite: 'ed25519', threshold: 2, committee: c.names, keyOf: c.world.keyOf };
  const confirmations = c.run.confirmations;

  it('accepts the run’s confirmations and yields the key every party holds', () => {
    expect(confirmations.length).toBe(3);
    expect(verifyDkgCertificate(confirmations, exp)).toEqual(c.pub);
    expect(verifyDkgCertificate([...confirmations].reverse(), exp)).toEqual(c.pub);
  });

  it('rejects a certificate missing a confirmation', () => {
    expectCode(() => verifyDkgCertificate(confirmations.slice(1), exp), 'dkg_confirmation_mismatch');
  });

  it('rejects a duplicated confirmation, naming its party', () => {
    const first = confirmations[0] as Envelope;
    expectCode(() => verifyDkgCertificate([...confirmations, first], exp), 'dkg_confirmation_mismatch', [first.from]);
  });

  it('rejects an altered confirmation (bad_signature), or one its party re-signed (mismatch)', () => {
    const [first, ...rest] = confirmations as [Envelope, ...Envelope[]];
    const body = first.body as MessageBody<'dkg_confirm'>;
    const forgedKey = toHex(getSuite('ed25519').Point.BASE.toBytes());
    const altered = { ...first, body: { ...body, publicKey: forgedKey } };
    expectCode(() => verifyDkgCertificate([altered, ...rest], exp), 'bad_signature');
    const resigned = resign(altered, c.world.parties.get(first.from)!.identity);
    expectCode(() => verifyDkgCertificate([resigned, ...rest], exp), 'dkg_confirmation_mismatch');
  });

  it('rejects confirmations for another key or threshold', () => {
    expectCode(() => verifyDkgCertificate(confirmations, { ...exp, keyId: 'other' }), 'dkg_confirmation_mismatch');
    expectCode(() => verifyDkgCertificate(confirmations, { ...exp, threshold: 3 }), 'dkg_confirmation_mismatch');
  });

  it('rejects a confirmation by someone outside the committee', () => {
    expectCode(() => verifyDkgCertificate(confirmations, { ...exp, committee: ['p01', 'p02'] }), 'unknown_party');
  });

  it('rejects a certificate that smuggles in another message type, naming its sender', () => {
    const round1 = c.run.log.find((e) => e.type === 'dkg_round1') as Envelope;
    expectCode(() => verifyDkgCertificate([...confirmations.slice(1), round1], exp), 'dkg_confirmation_mismatch', [round1.from]);
  });
});
