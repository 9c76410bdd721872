/**
 * secp256k1-arith.ts and secp256k1-msm.ts against noble. The MSM against noble's (`mulAddUnsafe`,
 * and Σ k·P by `multiplyUnsafe`) on
 * random inputs and on the inputs that reach the special cases of the formulas: identity points,
 * scalars 0, 1, n − 1 and those whose GLV halves are negative, projective inputs with Z ≠ 1, and
 * equal or opposite points, which make the walk's additions double or cancel. The field reduction
 * and the endomorphism constants are checked against their definitions; compressed decoding
 * accepts and refuses exactly what noble's `fromBytes` does.
 */
import { mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import { _splitEndoScalar } from '@noble/curves/abstract/weierstrass.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GroupPoint } from '../suites.js';
import { decodeCompressed, reduceModP } from './secp256k1-arith.js';
import { SECP256K1_BETA, SECP256K1_GLV_BASIS, SECP256K1_LAMBDA, secp256k1Msm } from './secp256k1-msm.js';

const Point = secp256k1.Point;
const { ORDER: n } = Point.Fn;
const { ORDER: p } = Point.Fp;
type NoblePoint = InstanceType<typeof Point>;
const ours = (points: NoblePoint[], scalars: bigint[]) =>
  secp256k1Msm(Point as unknown as Parameters<typeof secp256k1Msm>[0], points as unknown as GroupPoint[], scalars) as unknown as NoblePoint;
const noble = (points: NoblePoint[], scalars: bigint[]) => mulAddUnsafe(Point, points, scalars);
const naive = (points: NoblePoint[], scalars: bigint[]) =>
  points.reduce((acc, pt, i) => acc.add(pt.multiplyUnsafe(scalars[i] as bigint)), Point.ZERO);

/** A deterministic stream of scalars in [0, n) (seeded, so a failure reproduces). */
function scalarStream(seed: number): () => bigint {
  let state = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n;
  return () => {
    state = (state * 6364136223846793005n + 1442695040888963407n) & ((1n << 512n) - 1n);
    return (state >> 64n) % n;
  };
}
const next = scalarStream(7);
/** Decoded points (Z = 1), as the fast path gets them from the wire. */
const decoded = Array.from({ length: 16 }, () => Point.fromBytes(Point.BASE.multiply(next() || 1n).toBytes()));
/** The same group elements with Z ≠ 1 (sums computed in projective coordinates). */
const projective = decoded.map((q, i) => q.add(decoded[(i + 1) % 16] as NoblePoint).subtract(decoded[(i + 1) % 16] as NoblePoint));

describe('secp256k1 constants and field', () => {
  it('β and λ are cube roots of unity and ψ(x, y) = (β·x, y) is multiplication by λ', () => {
    expect(Point.Fp.pow(SECP256K1_BETA, 3n)).toBe(1n);
    expect(SECP256K1_BETA).not.toBe(1n);
    expect(Point.Fn.pow(SECP256K1_LAMBDA, 3n)).toBe(1n);
    for (const q of [Point.BASE, ...decoded.slice(0, 4)]) {
      const a = q.toAffine();
      expect(q.multiply(SECP256K1_LAMBDA).toAffine()).toEqual({ x: Point.Fp.mul(a.x, SECP256K1_BETA), y: a.y });
    }
  });

  it('the GLV basis splits every scalar into halves with k ≡ k1 + k2·λ (mod n)', () => {
    for (const k of [1n, 2n, n - 1n, n / 2n, 1n << 128n, (1n << 128n) - 1n, ...Array.from({ length: 200 }, next)]) {
      if (k === 0n) continue;
      const { k1, k1neg, k2, k2neg } = _splitEndoScalar(k, SECP256K1_GLV_BASIS, n);
      const s1 = k1neg ? -k1 : k1;
      const s2 = k2neg ? -k2 : k2;
      expect(Point.Fn.create(s1 + s2 * SECP256K1_LAMBDA)).toBe(k);
      expect(k1 < 1n << 128n && k2 < 1n << 128n).toBe(true);
    }
  });

  it('reduceModP is t mod p on the extremes of its domain (products of elements below p)', () => {
    const edge = [0n, 1n, 2n, p - 1n, p - 2n, 1n << 255n, (1n << 256n) - 1n - p, 0x1000003d1n];
    for (const a of edge) for (const b of edge) expect(reduceModP(a * b)).toBe((a * b) % p);
    expect(reduceModP(p)).toBe(0n);
    expect(reduceModP((p - 1n) * (p - 1n))).toBe(1n);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: p - 1n }), fc.bigInt({ min: 0n, max: p - 1n }), (a, b) => reduceModP(a * b) === (a * b) % p),
      { numRuns: 2000 },
    );
  });
});

describe('secp256k1Msm equals noble', () => {
  it('on random points and scalars, 1 to 8 terms, Z = 1 and Z ≠ 1', () => {
    for (let i = 0; i < 120; i++) {
      const size = 1 + (i % 8);
      const source = i % 2 === 0 ? decoded : projective;
      const pts = Array.from({ length: size }, (_, j) => source[(i * 5 + j * 3) % 16] as NoblePoint);
      const ks = Array.from({ length: size }, next);
      expect(ours(pts, ks).equals(noble(pts, ks))).toBe(true);
    }
  });

  it('on the scalars 0, 1, 2, n − 1 and the GLV halves’ sign cases', () => {
    const special = [0n, 1n, 2n, 3n, n - 1n, n - 2n, n / 2n, (1n << 128n) - 1n, 1n << 128n, SECP256K1_LAMBDA, n - SECP256K1_LAMBDA];
    for (const a of special)
      for (const b of special) {
        const pts = [decoded[0] as NoblePoint, projective[1] as NoblePoint];
        expect(ours(pts, [a, b]).equals(naive(pts, [a, b]))).toBe(true);
      }
  });

  it('with identity points and all-zero scalars (the identity comes back)', () => {
    const q = decoded[2] as NoblePoint;
    expect(ours([Point.ZERO, q], [next(), 5n]).equals(q.multiply(5n))).toBe(true);
    expect(ours([q, q], [0n, 0n]).is0()).toBe(true);
    expect(ours([], []).is0()).toBe(true);
    expect(ours([Point.ZERO], [1n]).is0()).toBe(true);
  });

  it('when additions double or cancel: equal and opposite points, hiding-style scalar 1 terms', () => {
    const q = decoded[3] as NoblePoint;
    const k = next();
    // Equal points with equal scalars: the walk adds an entry to itself (the doubling branch).
    expect(ours([q, q], [k, k]).equals(q.multiply(Point.Fn.add(k, k)))).toBe(true);
    // Opposite points: every addition of the second table cancels the first's (identity branch).
    expect(ours([q, q.negate()], [k, k]).is0()).toBe(true);
    expect(ours([q, q.negate()], [1n, 1n]).is0()).toBe(true);
    expect(ours([q, q], [1n, 1n]).equals(q.double())).toBe(true);
    // A point and ψ of it (λ·q: x times β, same y), weighted to cancel: k·q − (k·λ²)·λq = O.
    const psi = q.multiply(SECP256K1_LAMBDA);
    const Fn = Point.Fn;
    expect(ours([q, psi], [k, Fn.neg(Fn.mul(k, Fn.mul(SECP256K1_LAMBDA, SECP256K1_LAMBDA)))]).is0()).toBe(true);
    expect(ours([q, q.multiply(2n)], [2n, n - 1n]).is0()).toBe(true);
  });

  it('as a property over random term lists', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.boolean(), fc.bigInt({ min: 0n, max: n - 1n })), {
          minLength: 1,
          maxLength: 5,
        }),
        (terms) => {
          const pts = terms.map(([i, proj]) => (proj ? projective : decoded)[i] as NoblePoint);
          const ks = terms.map(([, , k]) => k);
          return ours(pts, ks).equals(naive(pts, ks));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses scalars outside [0, n) and lists of different lengths, as noble does', () => {
    const q = decoded[0] as NoblePoint;
    expect(() => ours([q], [n])).toThrow(RangeError);
    expect(() => ours([q], [-1n])).toThrow(RangeError);
    expect(() => ours([q, q], [1n])).toThrow(/equal length/);
  });
});

describe('secp256k1 compressed decoding equals noble’s', () => {
  const decode = (b: Uint8Array) =>
    decodeCompressed(Point as unknown as Parameters<typeof decodeCompressed>[0], b) as unknown as NoblePoint;
  const verdict = (f: () => NoblePoint) => {
    try {
      return f().toHex();
    } catch {
      return 'refused';
    }
  };
  const same = (b: Uint8Array) => expect(verdict(() => decode(b))).toBe(verdict(() => Point.fromBytes(b)));

  it('accepts every valid point as noble does, both parities', () => {
    for (const q of [Point.BASE, ...decoded, ...decoded.map((d) => d.negate())]) {
      const b = q.toBytes(true);
      expect(decode(b).equals(q)).toBe(true);
      expect(decode(b).toBytes(true)).toEqual(b);
    }
  });

  it('refuses what noble refuses: x ≥ p, x with no point, other prefixes and lengths', () => {
    const x = (v: bigint, prefix = 2) => {
      const b = new Uint8Array(33);
      b[0] = prefix;
      for (let i = 32, t = v; i >= 1; i--, t >>= 8n) b[i] = Number(t & 0xffn);
      return b;
    };
    for (const v of [p, p + 1n, (1n << 256n) - 1n, 0n, 5n]) for (const prefix of [2, 3]) same(x(v, prefix));
    const g = Point.BASE.toBytes(true);
    for (const prefix of [0, 1, 4, 5, 6, 7, 0xff]) expect(() => decode(Uint8Array.of(prefix, ...g.subarray(1)))).toThrow();
    expect(() => decode(g.subarray(0, 32))).toThrow();
    expect(() => decode(Point.BASE.toBytes(false))).toThrow();
    expect(() => decode(new Uint8Array(0))).toThrow();
    // x-coordinates with and without a point: about half of random values have none.
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), fc.boolean(), (v, odd) => {
        same(x(v, odd ? 3 : 2));
      }),
      { numRuns: 400 },
    );
  });
});
