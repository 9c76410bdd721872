/**
 * Prime-order subgroup membership for Ed25519 and Ed448 points by point halving (T. Pornin,
 * "Point-halving and subgroup membership in twisted Edwards curves", IACR ePrint 2022/1164),
 * instead of noble's `isTorsionFree` ([L]P == O, a full variable-time scalar multiplication).
 *
 * Why it works. Both curves have a cyclic 2-part: E ≅ Z/h × Z/L with h = 8 (Ed25519) or 4 (Ed448).
 * So P is in the order-L subgroup iff P ∈ hE, i.e. iff P can be halved log2(h) times in a row
 * (which half is taken does not matter: two halves differ by the 2-torsion point, which lies in
 * hE/2 already). Halving is done on the birationally equivalent curve u·w² = u² + A·u + B
 * (u = (a−d)(1+y)/(1−y), w = 2/x, A = 2(a+d), B = (a−d)²): doubling there is iso∘ψ2∘ψ1, two
 * 2-isogenies with kernel {O, (0,0)} and an isomorphism, and inverting them costs one square root
 * each. ψ2 can be inverted iff u is a square — which is also the test whether a point can be
 * halved at all, so the last halving is only a Legendre symbol. B' = A² − 4B = 16ad is a
 * non-square on both curves, so of the two ψ2-preimages exactly one is a square and ψ1 can always
 * be inverted from it. Every value is kept scaled by a running factor e (the isomorphism
 * (u, w) ↦ (u·e², w·e) onto u·w² = u² + A·e²·u + B·e⁴), so no field inversion is needed.
 *
 * Low-order points (order 1, 2, 4, 8) make the map or an intermediate value degenerate; they are
 * recognised first from their coordinates, and only the identity among them is in the subgroup.
 * Cost (measured by `npm run bench`): 2·(log2 h − 1) + 1 field exponentiations — five on Ed25519,
 * three on Ed448 — against ~250 / ~450 point doublings for [L]P.
 *
 * Variable time: only for public points (every point a peer sends is public). The exact [L]P
 * check stays in the differential tests (prime-order.test.ts) that keep this one honest.
 */
import type { IField } from '@noble/curves/abstract/modular.js';
import { ed448 } from '@noble/curves/ed448.js';
import { ed25519 } from '@noble/curves/ed25519.js';

/** Projective coordinates of a twisted Edwards point (noble's extended points have them). */
export interface EdwardsCoordinates {
  readonly X: bigint;
  readonly Y: bigint;
  readonly Z: bigint;
}

/** The two curves with a cofactor (ristretto255 encodes prime-order elements by construction). */
export type CofactorCurve = 'ed25519' | 'ed448';

/**
 * A square-root attempt in the curve's field. `square: false` carries √(B'·x) instead, which the
 * halving needs exactly when x is not a square (B'·x then is one), at no extra exponentiation.
 */
type RootAttempt = { square: true; root: bigint } | { square: false; rootOfBpX: bigint };

interface CurveKit {
  readonly Fp: IField<bigint>;
  readonly aMinusD: bigint;
  /** A = 2(a + d) and A' = −2A of the halving curves. */
  readonly A: bigint;
  readonly Ap: bigint;
  /** Halvings before the final "can it be halved once more" test: log2(cofactor) − 1. */
  readonly halvings: number;
  isLowOrder(p: EdwardsCoordinates): boolean;
  tryRoot(x: bigint): RootAttempt;
}

/** The two operations an exponentiation chain runs on, over reduced field elements. */
export interface ChainOps {
  sqr(x: bigint): bigint;
  mul(a: bigint, b: bigint): bigint;
}

const squarings = (Fp: ChainOps, x: bigint, n: number): bigint => {
  let r = x;
  for (let i = 0; i < n; i++) r = Fp.sqr(r);
  return r;
};

/** x^(2^k − 1) for the k of an addition chain, from x^(2^i − 1) and x^(2^j − 1): k = i + j. */
const joinOnes = (Fp: ChainOps, hi: bigint, lo: bigint, loBits: number): bigint => Fp.mul(squarings(Fp, hi, loBits), lo);

const P25519 = (1n << 255n) - 19n;
const LOW255 = (1n << 255n) - 1n;

/**
 * x mod 2²⁵⁵ − 19 for 0 ≤ x < 2⁵¹⁰ (a product of two reduced elements), by folding: 2²⁵⁵ ≡ 19.
 * After one fold x < 20·2²⁵⁵, after two x < 2²⁵⁵ + 380 < 2p, so one subtraction ends it. Shifts,
 * masks and a small multiplication instead of noble's generic `%` by p: the exponentiations of the
 * subgroup check run about a third faster on this machine (differential test: prime-order.test.ts).
 */
const reduce25519 = (x: bigint): bigint => {
  let r = (x & LOW255) + 19n * (x >> 255n);
  r = (r & LOW255) + 19n * (r >> 255n);
  return r >= P25519 ? r - P25519 : r;
};

/** Ed25519's field operations with the fold reduction, for the exponentiation chain. */
export const ed25519ChainOps: ChainOps = {
  sqr: (x) => reduce25519(x * x),
  mul: (a, b) => reduce25519(a * b),
};

/** The field and the halving curves' constants of an Edwards curve a·x² + y² = 1 + d·x²·y². */
function curveConstants(Point: typeof ed25519.Point | typeof ed448.Point) {
  const Fp = Point.Fp;
  const { a, d } = Point.CURVE();
  const A = Fp.mul(Fp.create(2n), Fp.add(a, d));
  const B = Fp.sqr(Fp.sub(a, d));
  return { Fp, aMinusD: Fp.sub(a, d), A, Ap: Fp.neg(Fp.mul(Fp.create(2n), A)), Bp: Fp.sub(Fp.sqr(A), Fp.mul(Fp.create(4n), B)) };
}

/** x^((p−5)/8) = x^(2²⁵² − 3) in Ed25519's field, by the classic addition chain through x^(2^k − 1). */
export function ed25519PowPm5d8(x: bigint): bigint {
  const F = ed25519ChainOps;
  const x2 = F.sqr(x);
  const x9 = F.mul(squarings(F, x2, 2), x);
  const x11 = F.mul(x9, x2);
  const e5 = F.mul(F.sqr(x11), x9);
  const e10 = joinOnes(F, e5, e5, 5);
  const e20 = joinOnes(F, e10, e10, 10);
  const e40 = joinOnes(F, e20, e20, 20);
  const e50 = joinOnes(F, e40, e10, 10);
  const e100 = joinOnes(F, e50, e50, 50);
  const e200 = joinOnes(F, e100, e100, 100);
  const e250 = joinOnes(F, e200, e50, 50);
  return F.mul(squarings(F, e250, 2), x);
}

/** Ed25519: p = 2²⁵⁵ − 19 ≡ 5 (mod 8), cofactor 8. */
function ed25519Kit(): CurveKit {
  const { Fp, aMinusD, A, Ap, Bp } = curveConstants(ed25519.Point);
  const sqrtM1 = Fp.sqrt(Fp.neg(Fp.ONE));
  // When x is not a square, c = x^((p+3)/8) has c² = ±√−1·x, and √(B'·x) = c·√(B'/(±√−1)).
  // Both radicands are squares: B' and √−1 are non-squares mod p (p ≡ 5 mod 8), −1 is a square.
  const rootBpOverI = Fp.sqrt(Fp.mul(Bp, Fp.neg(sqrtM1)));
  const rootBpOverMinusI = Fp.sqrt(Fp.mul(Bp, sqrtM1));
  return {
    Fp,
    aMinusD,
    A,
    Ap,
    halvings: 2,
    // Order 1/2: x = 0; order 4: y = 0; order 8: x = ±√−1·y, i.e. X² = −Y².
    isLowOrder: ({ X, Y }) => Fp.is0(X) || Fp.is0(Y) || Fp.eql(Fp.sqr(X), Fp.neg(Fp.sqr(Y))),
    tryRoot(x) {
      const c = Fp.mul(x, ed25519PowPm5d8(x));
      const c2 = Fp.sqr(c);
      if (Fp.eql(c2, x)) return { square: true, root: c };
      if (Fp.eql(c2, Fp.neg(x))) return { square: true, root: Fp.mul(c, sqrtM1) };
      const plusI = Fp.eql(c2, Fp.mul(sqrtM1, x));
      return { square: false, rootOfBpX: Fp.mul(c, plusI ? rootBpOverI : rootBpOverMinusI) };
    },
  };
}

/** Ed448: p = 2⁴⁴⁸ − 2²²⁴ − 1 ≡ 3 (mod 4), cofactor 4. */
function ed448Kit(): CurveKit {
  const { Fp, aMinusD, A, Ap, Bp } = curveConstants(ed448.Point);
  // When x is not a square, −x is (−1 is a non-square), c = x^((p+1)/4) = √−x and √(B'·x) = c·√−B'.
  const rootMinusBp = Fp.sqrt(Fp.neg(Bp));
  // x^((p−3)/4) = x^(2⁴⁴⁶ − 2²²² − 1) = (x^(2²²³ − 1))^(2²²³) · x^(2²²² − 1).
  const powPm3d4 = (x: bigint): bigint => {
    const e2 = joinOnes(Fp, x, x, 1);
    const e3 = joinOnes(Fp, e2, x, 1);
    const e6 = joinOnes(Fp, e3, e3, 3);
    const e12 = joinOnes(Fp, e6, e6, 6);
    const e24 = joinOnes(Fp, e12, e12, 12);
    const e30 = joinOnes(Fp, e24, e6, 6);
    const e48 = joinOnes(Fp, e24, e24, 24);
    const e96 = joinOnes(Fp, e48, e48, 48);
    const e192 = joinOnes(Fp, e96, e96, 96);
    const e222 = joinOnes(Fp, e192, e30, 30);
    const e223 = joinOnes(Fp, e222, x, 1);
    return joinOnes(Fp, e223, e222, 223);
  };
  return {
    Fp,
    aMinusD,
    A,
    Ap,
    halvings: 1,
    // Order 1/2: x = 0; order 4: y = 0. There are no points of order 8.
    isLowOrder: ({ X, Y }) => Fp.is0(X) || Fp.is0(Y),
    tryRoot(x) {
      const c = Fp.mul(x, powPm3d4(x));
      if (Fp.eql(Fp.sqr(c), x)) return { square: true, root: c };
      return { square: false, rootOfBpX: Fp.mul(c, rootMinusBp) };
    },
  };
}

/** True when `p` is the identity: both coordinates (x = 0 alone is also the point of order 2). */
export function isEdwardsIdentity(Fp: IField<bigint>, p: EdwardsCoordinates): boolean {
  return Fp.is0(Fp.create(p.X)) && Fp.eql(Fp.create(p.Y), Fp.create(p.Z));
}

/**
 * The prime-order subgroup test for `curve`: true iff the point is in the subgroup of order L
 * (the identity included). `exact` decides the cases the halving never reaches for a point on the
 * curve (a zero where the algebra forbids one); it is the [L]P check, and only a point that is not
 * on the curve could get there.
 */
export function createPrimeOrderCheck(curve: CofactorCurve, exact: (p: EdwardsCoordinates) => boolean): (p: EdwardsCoordinates) => boolean {
  const kit = curve === 'ed25519' ? ed25519Kit() : ed448Kit();
  const { Fp, A, Ap } = kit;
  const inv2 = Fp.inv(Fp.create(2n));
  const four = Fp.create(4n);
  const two = Fp.create(2n);
  // Named: the benchmark's DKG profile counts its calls (scripts/bench/dkg-profile.mjs).
  return function isInPrimeOrderSubgroup(p) {
    // Reduced first: decoders may hand out unreduced coordinates (ZIP-215 decoding keeps y ≥ p).
    const X = Fp.create(p.X);
    const Y = Fp.create(p.Y);
    const Z = Fp.create(p.Z);
    if (kit.isLowOrder({ X, Y, Z })) return isEdwardsIdentity(Fp, { X, Y, Z });
    // Onto u·w² = u² + A·e²·u + B·e⁴ with e = X(Z − Y): u = (a−d)(Z+Y)(Z−Y)X², w = 2Z(Z−Y).
    let e = Fp.mul(X, Fp.sub(Z, Y));
    let u = Fp.mul(Fp.mul(kit.aMinusD, Fp.add(Z, Y)), Fp.mul(X, e));
    let w = Fp.mul(two, Fp.mul(Z, Fp.sub(Z, Y)));
    for (let i = 0; i < kit.halvings; i++) {
      // Undo iso: (4u, 2w). Undo ψ2: w' = √(4u) — no root, no half: P is not in 2E.
      const us = Fp.mul(four, u);
      const first = kit.tryRoot(us);
      if (!first.square) return false;
      let wp = first.root;
      const e2 = Fp.sqr(e);
      // u' from the curve equation and ψ2's w-formula: u' = (u_s − A'·e² − w'·w_s) / 2.
      const up = Fp.mul(Fp.sub(Fp.sub(us, Fp.mul(Ap, e2)), Fp.mul(wp, Fp.mul(two, w))), inv2);
      if (Fp.is0(up)) return exact(p);
      // Undo ψ1 from whichever ψ2-preimage is a square: (u', w') or (B'e⁴/u', −w'). The second is
      // rescaled by u' to stay division-free: e ← e·u', w' ← −w'·u', and its root is e²·√(B'·u').
      const second = kit.tryRoot(up);
      if (second.square) {
        w = second.root;
      } else {
        w = Fp.mul(e2, second.rootOfBpX);
        wp = Fp.neg(Fp.mul(wp, up));
        e = Fp.mul(e, up);
      }
      u = Fp.mul(Fp.sub(Fp.sub(Fp.sqr(w), Fp.mul(A, Fp.sqr(e))), Fp.mul(w, wp)), inv2);
      if (Fp.is0(u) || Fp.is0(w)) return exact(p);
    }
    // One more halving is possible iff u is a square (e² scaling does not change that).
    return kit.tryRoot(u).square;
  };
}
