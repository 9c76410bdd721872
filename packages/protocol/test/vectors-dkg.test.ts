/**
 * frost-rs DKG vectors (`vectors_dkg.json`, 2-of-3) for all six crates, through noble's DKG as the
 * suite layer exposes it. The vectors fix each participant's polynomial but not its proof-of-
 * knowledge nonce, so round 1 is rebuilt as noble's DKG_Secret and the published proofs are fed
 * to the others' round 2; every round-2 share, verifying share, signing share and the group key
 * must come out byte-for-byte. secp256k1-tr output is BIP-341 tweaked (empty merkle root).
 */

import { randomBytes } from 'node:crypto';
import type { DKG_Round1, DKG_Round2, DKG_Secret } from '@noble/curves/abstract/frost.js';
import { describe, expect, it } from 'vitest';
import { fromHex, getSuite, toHex } from '../src/index.js';
import { CRATES, type DkgParticipantVector, type DkgVector, dkgParticipants, vectorJson } from './load-vectors.js';

for (const [crate, id] of Object.entries(CRATES)) {
  it(`frost-rs ${crate} vectors_dkg.json → ${id}`, () => {
    const suite = getSuite(id);
    const { frost } = suite;
    const v = vectorJson<DkgVector>(`zcash-frost/${crate}/vectors_dkg.json`);
    const signers = { min: v.config.MIN_PARTICIPANTS, max: v.config.MAX_PARTICIPANTS };
    const idOf = (n: number) => frost.Identifier.fromNumber(n);
    const parts = dkgParticipants(v);
    expect(parts.map((p) => p.identifier)).toEqual([1, 2, 3]);

    const round1 = new Map<number, DKG_Round1>();
    for (const p of parts) {
      const commitment = p.vss_commitments.map((h) => fromHex(h));
      // The commitments are G·signing_key and G·coefficient.
      const poly = frost.utils.generateSecretPolynomial(signers, fromHex(p.signing_key), [suite.parseScalar(fromHex(p.coefficient), 'c')]);
      expect(poly.commitment.map(toHex)).toEqual(p.vss_commitments);
      for (const [i, c] of commitment.entries()) suite.parseElement(c, `commitment[${i}]`);
      const pok = fromHex(p.proof_of_knowledge);
      expect(pok.length).toBe(suite.signatureLength);
      suite.parseScalar(pok.subarray(pok.length - suite.scalarLength), 'pok response');
      round1.set(p.identifier, { identifier: idOf(p.identifier), commitment, proofOfKnowledge: pok });
    }

    const secretOf = (n: number): DKG_Secret => {
      const p = parts.find((x) => x.identifier === n) as (typeof parts)[number];
      return {
        identifier: BigInt(n),
        coefficients: [suite.parseScalar(fromHex(p.signing_key), 'k'), suite.parseScalar(fromHex(p.coefficient), 'c')],
        commitment: p.vss_commitments.map((h) => fromHex(h)),
        signers,
        step: 1,
      };
    };

    for (const me of parts) {
      const secret = secretOf(me.identifier);
      const others = parts.filter((p) => p.identifier !== me.identifier);
      const othersR1 = others.map((p) => round1.get(p.identifier) as DKG_Round1);
      // Round 2 validates every other participant's proof of knowledge.
      const out = frost.DKG.round2(secret, othersR1);
      for (const p of others) {
        const pkg = out[idOf(p.identifier)] as DKG_Round2;
        expect(pkg.identifier).toBe(idOf(me.identifier));
        expect(toHex(pkg.signingShare)).toBe(p.signing_shares[String(me.identifier)]);
      }
      const received: DKG_Round2[] = others.map((p) => ({
        identifier: idOf(p.identifier),
        signingShare: fromHex(me.signing_shares[String(p.identifier)] as string),
      }));
      const key = frost.DKG.round3(secret, othersR1, received);
      expect(toHex(key.secret.signingShare)).toBe(me.signing_share);
      expect(toHex(key.public.commitments[0] as Uint8Array)).toBe(v.inputs.verifying_key);
      for (const p of parts) expect(toHex(key.public.verifyingShares[idOf(p.identifier)] as Uint8Array)).toBe(p.verifying_share);
      frost.validateSecret(key.secret, key.public);
      const publicKey = suite.encodePublicKey(key.public);
      expect(toHex(publicKey)).toBe(id === 'secp256k1-tr' ? v.inputs.verifying_key.slice(2) : v.inputs.verifying_key);
    }

    // The DKG'd key signs under the suite's standard verifier (for secp256k1-tr: the tweaked key).
    const shares = parts.slice(0, 2).map((p) => ({ identifier: idOf(p.identifier), signingShare: fromHex(p.signing_share) }));
    const pub = {
      signers,
      commitments: [fromHex(v.inputs.verifying_key)],
      verifyingShares: Object.fromEntries(parts.map((p) => [idOf(p.identifier), fromHex(p.verifying_share)])),
    };
    const rng = (n = 32) => new Uint8Array(randomBytes(n));
    const gens = shares.map((s) => frost.commit(s, rng));
    const list = gens.map((g) => g.commitments);
    const msg = new TextEncoder().encode('glacis dkg vector');
    const sigShares = Object.fromEntries(shares.map((s, i) => [s.identifier, frost.signShare(s, pub, gens[i]!.nonces, list, msg)]));
    const sig = frost.aggregate(pub, list, msg, sigShares);
    expect(suite.verify(sig, msg, suite.encodePublicKey(pub))).toBe(true);
  });
}

describe('DKG vectors are not accepted blindly', () => {
  it('round 3 refuses received shares swapped between their senders', () => {
    const suite = getSuite('ed25519');
    const v = vectorJson<DkgVector>('zcash-frost/frost-ed25519/vectors_dkg.json');
    const [a, b, c] = dkgParticipants(v) as [DkgParticipantVector, DkgParticipantVector, DkgParticipantVector];
    const idOf = (n: number) => suite.frost.Identifier.fromNumber(n);
    const r1 = (p: DkgParticipantVector): DKG_Round1 => ({
      identifier: idOf(p.identifier),
      commitment: p.vss_commitments.map((h) => fromHex(h)),
      proofOfKnowledge: fromHex(p.proof_of_knowledge),
    });
    const secret: DKG_Secret = {
      identifier: 1n,
      coefficients: [suite.parseScalar(fromHex(a.signing_key), 'k'), suite.parseScalar(fromHex(a.coefficient), 'c')],
      commitment: a.vss_commitments.map((h) => fromHex(h)),
      signers: { min: 2, max: 3 },
      step: 1,
    };
    const others = [r1(b), r1(c)];
    suite.frost.DKG.round2(secret, others);
    // Each share is valid for someone, neither for the sender it is now attributed to.
    const received: DKG_Round2[] = [
      { identifier: idOf(2), signingShare: fromHex(a.signing_shares['3'] as string) },
      { identifier: idOf(3), signingShare: fromHex(a.signing_shares['2'] as string) },
    ];
    expect(() => suite.frost.DKG.round3(secret, others, received)).toThrow(/invalid secret share/);
  });
});
