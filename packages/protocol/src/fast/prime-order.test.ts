/**
 * The halving subgroup check against the definition, [L]P == O (noble's `isTorsionFree`), on
 * Ed25519 and Ed448: every small-order point, random prime-order points with a torsion component
 * of every order added, canonical and non-canonical encodings, projective representatives with
 * Z ≠ 1, and fast-check properties over thousands of points. The halving is built with an `exact`
 * fallback that fails the test, so every verdict here is the halving's own.
 */
import { ED448_TORSION_SUBGROUP, ed448 } from '@noble/curves/ed448.js';
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, getSuite, isProtocolError } from '../index.js';
import {
  type CofactorCurve,
  createPrimeOrderCheck,
  type EdwardsCoordinates,
  ed25519ChainOps,
  ed25519PowPm5d8,
  isEdwardsIdentity,
} from './prime-order.js';

type EdPoint = ReturnType<typeof ed25519.Point.fromBytes>;
type EdCons = {
  new (X: bigint, Y: bigint, Z: bigint, T: bigint): EdPoint;
  BASE: EdPoint;
  ZERO: EdPoint;
  Fp: typeof ed25519.Point.Fp;
  Fn: typeof ed25519.Point.Fn;
  fromBytes(bytes: Uint8Array, zip215?: boolean): EdPoint;
};

const CURVES: { id: CofactorCurve; Point: EdCons; torsion: readonly string[]; cofactor: number }[] = [
  { id: 'ed25519', Point: ed25519.Point as unknown as EdCons, torsion: ED25519_TORSION_SUBGROUP, cofactor: 8 },
  { id: 'ed448', Point: ed448.Point as unknown as EdCons, torsion: ED448_TORSION_SUBGROUP, cofactor: 4 },
];

/** The definition: L·P is the identity (noble's `isTorsionFree`, whose is0 compares X and Y). */
const inSubgroupByDefinition = (p: EdPoint) => p.isTorsionFree();

/** The same point with every projective coordinate scaled by λ ≠ 0 (Z ≠ 1 when λ ≠ 1). */
const rescaled = (Point: EdCons, p: EdPoint, lambda: bigint): EdPoint => {
  const { Fp } = Point;
  return new Point(Fp.mul(p.X, lambda), Fp.mul(p.Y, lambda), Fp.mul(p.Z, lambda), Fp.mul(p.T, lambda));
};

const orderOf = (t: EdPoint): number => {
  let q = t;
  for (let k = 1; k <= 8; k++) {
    if (q.is0()) return k;
    q = q.add(t);
  }
  throw new Error('not a small-order point');
};

for (const { id, Point, torsion, cofactor } of CURVES) {
  describe(`${id}: prime-order check by point halving`, () => {
    const check = createPrimeOrderCheck(id, () => {
      throw new Error('the exact fallback was reached: the halving did not decide on its own');
    });
    const halving = (p: EdPoint) => check(p as unknown as EdwardsCoordinates);
    const T = torsion.map((h) => Point.fromBytes(fromHex(h)));
    const { Fp, Fn } = Point;

    it(`the torsion subgroup has every order dividing ${cofactor}, and only its identity passes`, () => {
      const orders = T.map((t) => orderOf(t)).sort((a, b) => a - b);
      expect(new Set(orders)).toEqual(new Set(cofactor === 8 ? [1, 2, 4, 8] : [1, 2, 4]));
      for (const t of T) {
        expect(halving(t), `order ${orderOf(t)}`).toBe(t.is0());
        expect(halving(t)).toBe(inSubgroupByDefinition(t));
      }
    });

    it('random prime-order points plus every torsion point (all orders), decoded and projective, agree with [L]P', () => {
      for (let i = 0; i < 12; i++) {
        const P = Point.BASE.multiplyUnsafe(Fn.create(BigInt(`0x${'9e3779b97f4a7c15'.repeat(4)}`) * BigInt(i + 1) + 1n));
        for (const t of T) {
          const Q = P.add(t); // Z ≠ 1
          const decoded = Point.fromBytes(Q.toBytes()); // Z = 1
          const expected = t.is0();
          expect(inSubgroupByDefinition(Q)).toBe(expected);
          for (const q of [Q, decoded, rescaled(Point, decoded, Fp.create(BigInt(i) + 7n))]) {
            expect(halving(q), `P + point of order ${orderOf(t)}`).toBe(expected);
          }
        }
      }
    });

    it('non-canonical encodings (y + p): the halving agrees with [L]P on the point, and parseElement refuses the bytes', () => {
      const suite = getSuite(id);
      let decoded = 0;
      for (let y = 0n; y < 40n; y++) {
        for (const sign of [0, 0x80]) {
          const bytes = Fp.toBytes(y + Fp.ORDER); // little-endian, the sign bit is the top bit
          const b = new Uint8Array(suite.elementLength);
          b.set(bytes.subarray(0, suite.elementLength));
          b[b.length - 1] = ((b[b.length - 1] as number) & 0x7f) | sign;
          let p: EdPoint;
          try {
            p = Point.fromBytes(b, true); // ZIP-215 decoding accepts y ≥ p
          } catch {
            continue;
          }
          decoded++;
          expect(halving(p)).toBe(inSubgroupByDefinition(p));
          let refused = false;
          try {
            suite.parseElement(b, 'non-canonical');
          } catch (e) {
            refused = isProtocolError(e, 'invalid_point');
          }
          expect(refused).toBe(true);
        }
      }
      expect(decoded).toBeGreaterThan(5);
    });

    it('an identity test must compare both coordinates: the order-2 point (0, −1) and P + T₂ are refused', () => {
      const t2 = T.find((t) => orderOf(t) === 2) as EdPoint;
      // x = 0 alone does not make the identity: (0, −1) has x = 0 too.
      expect(Fp.is0(t2.X)).toBe(true);
      expect(isEdwardsIdentity(Fp, t2)).toBe(false);
      expect(isEdwardsIdentity(Fp, Point.ZERO)).toBe(true);
      expect(halving(t2)).toBe(false);
      // [L](P + T₂) = T₂ for P of order L (L is odd): an X-only identity test would accept P + T₂.
      const P = Point.BASE.multiplyUnsafe(12345n);
      const Lx = P.add(t2)
        .multiplyUnsafe(Fn.ORDER - 1n)
        .add(P.add(t2));
      expect(Fp.is0(Lx.toAffine().x)).toBe(true);
      expect(Lx.is0()).toBe(false);
      expect(halving(P.add(t2))).toBe(false);
      expect(halving(rescaled(Point, P.add(t2), 3n))).toBe(false);
    });

    it(`fast-check: k·G + T is in the subgroup iff T = O (${cofactor === 8 ? 2400 : 1200} cases, random Z)`, () => {
      fc.assert(
        fc.property(
          fc.bigInt({ min: 1n, max: Fn.ORDER - 1n }),
          fc.nat({ max: T.length - 1 }),
          fc.bigInt({ min: 1n, max: Fp.ORDER - 1n }),
          (k, i, lambda) => {
            const t = T[i] as EdPoint;
            const q = rescaled(Point, Point.BASE.multiplyUnsafe(k).add(t), lambda);
            return halving(q) === t.is0();
          },
        ),
        { numRuns: cofactor === 8 ? 2400 : 1200 },
      );
    });

    it(`fast-check: any decodable encoding agrees with [L]P (${cofactor === 8 ? 300 : 120} cases)`, () => {
      const len = getSuite(id).elementLength;
      let points = 0;
      fc.assert(
        fc.property(fc.uint8Array({ minLength: len, maxLength: len }), (bytes) => {
          let p: EdPoint;
          try {
            p = Point.fromBytes(bytes, true);
          } catch {
            return true;
          }
          points++;
          return halving(p) === inSubgroupByDefinition(p);
        }),
        { numRuns: cofactor === 8 ? 300 : 120 },
      );
      expect(points).toBeGreaterThan(20);
    });
  });
}

describe("Ed25519's field operations with the fold reduction, against noble's field", () => {
  const { Fp } = ed25519.Point;
  const p = Fp.ORDER;
  // The edges of the fold: 0, 1, p − 1 (the largest product), values around 2¹²⁸ and 2²⁵⁴.
  const edges = [0n, 1n, 2n, 19n, p - 1n, p - 2n, p - 19n, (1n << 128n) - 1n, 1n << 128n, (1n << 254n) - 1n, 1n << 254n];
  const element = fc.oneof(fc.constantFrom(...edges), fc.bigInt({ min: 0n, max: p - 1n }));

  it("sqr and mul give noble's Fp.sqr and Fp.mul on every pair of reduced elements (edges and 20,000 random)", () => {
    for (const a of edges) {
      expect(ed25519ChainOps.sqr(a)).toBe(Fp.sqr(a));
      for (const b of edges) expect(ed25519ChainOps.mul(a, b)).toBe(Fp.mul(a, b));
    }
    fc.assert(
      fc.property(element, element, (a, b) => ed25519ChainOps.mul(a, b) === Fp.mul(a, b) && ed25519ChainOps.sqr(a) === Fp.sqr(a)),
      { numRuns: 20_000 },
    );
  });

  it('the addition chain gives x^((p − 5) / 8) (Fp.pow) on edges and 500 random elements', () => {
    const e = (p - 5n) / 8n;
    for (const x of edges) expect(ed25519PowPm5d8(x)).toBe(Fp.pow(x, e));
    fc.assert(
      fc.property(element, (x) => ed25519PowPm5d8(x) === Fp.pow(x, e)),
      { numRuns: 500 },
    );
  });
});
