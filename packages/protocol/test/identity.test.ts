/**
 * Identity signatures through node:crypto against noble's Ed25519 (`zip215: false`, what Glacis
 * used before): the same signature bytes, and the same verdict on honest signatures, mutated keys,
 * signatures and messages, every small-order public-key encoding (canonical or not), non-canonical
 * R and S, and crafted torsion signatures — the one case where OpenSSL's equation alone says no
 * and noble yes. The OpenSSL half alone must never accept what noble refuses.
 */
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { opensslAcceptsIdentitySignature } from '../src/identity.js';
import { concatBytes, fromHex, generateIdentity, identityFromSeed, toHex, utf8, verifyIdentitySignature } from '../src/index.js';
import { rng } from './sim.js';

const noble = (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array) => {
  try {
    return ed25519.verify(sig, msg, pk, { zip215: false });
  } catch {
    return false;
  }
};

/** Both verifiers agree, and the OpenSSL half never accepts what noble refuses. */
function expectSameVerdict(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array, label = ''): boolean {
  const expected = noble(sig, msg, pk);
  expect(verifyIdentitySignature(sig, msg, pk), label).toBe(expected);
  if (!expected) expect(opensslAcceptsIdentitySignature(sig, msg, pk), label).toBe(false);
  return expected;
}

const { Point } = ed25519;
const { Fp, Fn } = Point;
const P = Fp.ORDER;
const L = Fn.ORDER;

/** y (255 bits) and sign bit as an encoding; y may be ≥ p (non-canonical). */
const encode = (y: bigint, sign: boolean) => {
  const b = numberToBytesLE(y, 32);
  if (sign) b[31] = (b[31] as number) | 0x80;
  return b;
};

/** Every 32-byte string noble or OpenSSL could read as a small-order point: canonical, sign-flipped, y + p. */
function smallOrderEncodings(): [string, Uint8Array][] {
  const out: [string, Uint8Array][] = [];
  for (const h of ED25519_TORSION_SUBGROUP) {
    const b = fromHex(h);
    const y = bytesToNumberLE(b) & ((1n << 255n) - 1n);
    for (const sign of [false, true]) {
      out.push([`y=${y.toString(16).slice(0, 8)} sign=${sign}`, encode(y, sign)]);
      if (y + P < 1n << 255n) out.push([`y+p sign=${sign}`, encode(y + P, sign)]);
    }
  }
  return out;
}

/** A signature by `scalar` (with public key `A`) over `msg` whose R is r·B + `torsionR`. */
function craftedSignature(scalar: bigint, A: Uint8Array, msg: Uint8Array, torsionR = Point.ZERO) {
  const r = Fn.create(bytesToNumberLE(rng(64)));
  const R = Point.BASE.multiply(r).add(torsionR).toBytes();
  const k = Fn.create(bytesToNumberLE(sha512(concatBytes(R, A, msg))));
  return concatBytes(R, Fn.toBytes(Fn.add(r, Fn.mul(k, scalar))));
}

describe('identity signatures through node:crypto', () => {
  it('sign: the same bytes and public key as noble, for any seed and message', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, msg) => {
        const id = identityFromSeed(seed);
        expect(toHex(id.publicKey)).toBe(toHex(ed25519.getPublicKey(seed)));
        expect(toHex(id.sign(msg))).toBe(toHex(ed25519.sign(msg, seed)));
      }),
      { numRuns: 200 },
    );
  });

  it('honest signatures verify through OpenSSL alone (noble is not consulted)', () => {
    for (let i = 0; i < 50; i++) {
      const id = generateIdentity(rng);
      const msg = rng(1 + i);
      const sig = id.sign(msg);
      expect(opensslAcceptsIdentitySignature(sig, msg, id.publicKey)).toBe(true);
      expect(verifyIdentitySignature(sig, msg, id.publicKey)).toBe(true);
    }
  });

  // Every refusal costs two noble verifications here (the reference and the confirmation).
  it('fuzz: bit flips and byte rewrites of key, signature and message get noble’s verdict', { timeout: 120_000 }, () => {
    const id = generateIdentity(rng);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom('publicKey', 'R', 'S', 'message'),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        (msg, where, at, value, flipBit) => {
          const sig = id.sign(msg);
          const pk = id.publicKey.slice();
          const m = msg.slice();
          const target = where === 'publicKey' ? pk : where === 'message' ? m : sig;
          const offset = where === 'S' ? 32 : 0;
          const span = where === 'R' || where === 'S' ? 32 : target.length;
          if (span > 0) {
            const i = offset + (at % span);
            target[i] = flipBit ? (target[i] as number) ^ (1 << (value % 8)) : value;
          }
          expectSameVerdict(sig, m, pk, where);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('every small-order public key, in every encoding, is refused — OpenSSL alone would take a forgery under it', () => {
    const msg = utf8('pay mallory');
    // R = s·B satisfies R = s·B − k·A for A = identity, whatever the message: a universal forgery.
    const s = 5n;
    const forged = concatBytes(Point.BASE.multiply(s).toBytes(), Fn.toBytes(s));
    const encodings = smallOrderEncodings();
    expect(encodings.length).toBeGreaterThanOrEqual(16);
    for (const [label, pk] of encodings) {
      expect(expectSameVerdict(forged, msg, pk, label)).toBe(false);
      // Signatures of random shape under it too.
      expect(expectSameVerdict(rng(64), msg, pk, label)).toBe(false);
    }
  });

  it('non-canonical S (S + L, S = L, all ones) and R (y ≥ p, x = 0 with the sign bit) are refused', () => {
    const id = generateIdentity(rng);
    const msg = utf8('m');
    const sig = id.sign(msg);
    const S = bytesToNumberLE(sig.subarray(32));
    for (const bad of [S + L, L, (1n << 256n) - 1n]) {
      expectSameVerdict(concatBytes(sig.subarray(0, 32), numberToBytesLE(bad, 32)), msg, id.publicKey, `S=${bad}`);
    }
    for (const R of [encode(P, false), encode(P + 1n, false), encode(1n, true), encode(P - 1n, true), encode(2n ** 255n - 1n, false)]) {
      expect(expectSameVerdict(concatBytes(R, sig.subarray(32)), msg, id.publicKey, toHex(R))).toBe(false);
    }
  });

  it('torsion in R or in A: OpenSSL’s equation alone refuses, noble accepts, and so does verifyIdentitySignature', () => {
    const seed = rng(32);
    const { scalar, pointBytes: A } = ed25519.utils.getExtendedPublicKey(seed);
    const msg = utf8('malleable by the key holder only');
    const torsion = ED25519_TORSION_SUBGROUP.map((h) => Point.fromBytes(fromHex(h))).filter((t) => !t.is0());
    let openSslSaidNo = 0;
    for (const t of torsion) {
      // R with a torsion component: 8·(R + k·A − s·B) = 8·T = O, but R ≠ s·B − k·A.
      const sig = craftedSignature(scalar, A, msg, t);
      expect(expectSameVerdict(sig, msg, A, 'torsion in R')).toBe(true);
      if (!opensslAcceptsIdentitySignature(sig, msg, A)) openSslSaidNo++;
      // A with a torsion component (not of small order): R + k·A' − s·B = k·T.
      const mixedA = Point.fromBytes(A).add(t).toBytes();
      expectSameVerdict(craftedSignature(scalar, mixedA, msg), msg, mixedA, 'torsion in A');
    }
    expect(openSslSaidNo).toBe(torsion.length);
  });
});
