/**
 * secp256k1 field and group arithmetic for the fast path's own multiplications (secp256k1-msm.ts,
 * secp256k1-fixed.ts): a field element is a bigint in [0, p), a product is reduced by folding
 * 2^256 ≡ 2^32 + 977 twice instead of dividing, and points are Jacobian (x = X/Z², y = Y/Z³) with
 * the formulas of the Explicit-Formulas Database for a = 0 — every addition handles the equal and
 * opposite cases its formula does not. noble's `Point` (homogeneous projective, complete formulas,
 * a `%` after every field operation) stays the type everything else sees; `toNoblePoint` converts.
 */
import { invert } from '@noble/curves/abstract/modular.js';
import type { GroupPoint } from '../suites.js';

export const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
export const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const MASK_256 = (1n << 256n) - 1n;
/** 2^256 mod p. */
const FOLD = (1n << 32n) + 977n;

/**
 * t mod p for 0 ≤ t < 2^512 (a product of two reduced elements): two folds of the bits above
 * 2^256 (each ×(2^32 + 977)) leave t < 2^256 + 2^75, one conditional subtraction finishes.
 */
export function reduceModP(t: bigint): bigint {
  t = (t & MASK_256) + (t >> 256n) * FOLD;
  t = (t & MASK_256) + (t >> 256n) * FOLD;
  return t >= P ? t - P : t;
}
export const mul = (a: bigint, b: bigint): bigint => reduceModP(a * b);
export const sqr = (a: bigint): bigint => reduceModP(a * a);
export function add(a: bigint, b: bigint): bigint {
  const s = a + b;
  return s >= P ? s - P : s;
}
export function sub(a: bigint, b: bigint): bigint {
  const d = a - b;
  return d < 0n ? d + P : d;
}

/** Jacobian coordinates: x = X/Z², y = Y/Z³; Z = 0 is the identity. */
export interface Jacobian {
  X: bigint;
  Y: bigint;
  Z: bigint;
}
export interface Affine {
  x: bigint;
  y: bigint;
}
export const IDENTITY: Jacobian = Object.freeze({ X: 1n, Y: 1n, Z: 0n });

/** 2·A on y² = x³ + 7 (dbl-2009-l: 2M + 5S). secp256k1 has no point with y = 0, so 2·A ≠ O for A ≠ O. */
export function double(a: Jacobian): Jacobian {
  if (a.Z === 0n) return IDENTITY;
  const A = sqr(a.X);
  const B = sqr(a.Y);
  const C = sqr(B);
  const t = sub(sub(sqr(add(a.X, B)), A), C);
  const D = add(t, t);
  const E = add(add(A, A), A);
  const F = sqr(E);
  const X3 = sub(F, add(D, D));
  const C2 = add(C, C);
  const C4 = add(C2, C2);
  const Y3 = sub(mul(E, sub(D, X3)), add(C4, C4));
  const YZ = mul(a.Y, a.Z);
  return { X: X3, Y: Y3, Z: add(YZ, YZ) };
}

/** A + (x, y) for an affine point (madd-2007-bl: 7M + 4S), with the equal and opposite cases. */
export function addAffine(a: Jacobian, x: bigint, y: bigint): Jacobian {
  if (a.Z === 0n) return { X: x, Y: y, Z: 1n };
  const Z1Z1 = sqr(a.Z);
  const U2 = mul(x, Z1Z1);
  const S2 = mul(mul(y, a.Z), Z1Z1);
  const H = sub(U2, a.X);
  const s = sub(S2, a.Y);
  if (H === 0n) return s === 0n ? double(a) : IDENTITY;
  const HH = sqr(H);
  const HH2 = add(HH, HH);
  const I = add(HH2, HH2);
  const J = mul(H, I);
  const r = add(s, s);
  const V = mul(a.X, I);
  const X3 = sub(sub(sqr(r), J), add(V, V));
  const YJ = mul(a.Y, J);
  const Y3 = sub(mul(r, sub(V, X3)), add(YJ, YJ));
  const Z3 = sub(sub(sqr(add(a.Z, H)), Z1Z1), HH);
  return { X: X3, Y: Y3, Z: Z3 };
}

/** A + B, both Jacobian (add-2007-bl: 11M + 5S), with the equal and opposite cases. */
export function addJacobian(a: Jacobian, b: Jacobian): Jacobian {
  if (a.Z === 0n) return b;
  if (b.Z === 0n) return a;
  const Z1Z1 = sqr(a.Z);
  const Z2Z2 = sqr(b.Z);
  const U1 = mul(a.X, Z2Z2);
  const U2 = mul(b.X, Z1Z1);
  const S1 = mul(mul(a.Y, b.Z), Z2Z2);
  const S2 = mul(mul(b.Y, a.Z), Z1Z1);
  const H = sub(U2, U1);
  const s = sub(S2, S1);
  if (H === 0n) return s === 0n ? double(a) : IDENTITY;
  const H2 = add(H, H);
  const I = sqr(H2);
  const J = mul(H, I);
  const r = add(s, s);
  const V = mul(U1, I);
  const X3 = sub(sub(sqr(r), J), add(V, V));
  const S1J = mul(S1, J);
  const Y3 = sub(mul(r, sub(V, X3)), add(S1J, S1J));
  const Z3 = mul(sub(sub(sqr(add(a.Z, b.Z)), Z1Z1), Z2Z2), H);
  return { X: X3, Y: Y3, Z: Z3 };
}

/** Inverts every element of `zs` (all nonzero) with one inversion (Montgomery's trick; noble's extended Euclid). */
export function invertAll(zs: readonly bigint[]): bigint[] {
  const prefix: bigint[] = new Array(zs.length);
  let acc = 1n;
  for (let i = 0; i < zs.length; i++) {
    prefix[i] = acc;
    acc = mul(acc, zs[i] as bigint);
  }
  let inv = invert(acc, P);
  const out: bigint[] = new Array(zs.length);
  for (let i = zs.length - 1; i >= 0; i--) {
    out[i] = mul(inv, prefix[i] as bigint);
    inv = mul(inv, zs[i] as bigint);
  }
  return out;
}
/** noble's secp256k1 point class: homogeneous projective coordinates (x = X/Z, y = Y/Z). */
export type PointCons = { new (X: bigint, Y: bigint, Z: bigint): GroupPoint; readonly ZERO: GroupPoint };
/** What a noble secp256k1 point holds besides the GroupPoint methods. */
export type Projective = GroupPoint & { readonly X: bigint; readonly Y: bigint; readonly Z: bigint };

/** Every point of `points` (none the identity) made affine, with one inversion for all of them. */
export function toAffineAll(points: readonly Jacobian[]): Affine[] {
  const inv = invertAll(points.map((e) => e.Z));
  return points.map((e, i) => {
    const zi = inv[i] as bigint;
    const zi2 = sqr(zi);
    return Object.freeze({ x: mul(e.X, zi2), y: mul(e.Y, mul(zi2, zi)) });
  });
}

/**
 * A Jacobian point as noble's, made affine (Z = 1): one inversion here, where noble's `toBytes`
 * of a point with Z ≠ 1 inverts Z twice (once to check the point, once to encode it).
 */
export function toNoblePoint(Point: PointCons, a: Jacobian): GroupPoint {
  if (a.Z === 0n) return Point.ZERO;
  const zi = invert(a.Z, P);
  const zi2 = sqr(zi);
  return new Point(mul(a.X, zi2), mul(a.Y, mul(zi2, zi)), 1n);
}

/** a^(2^k) by k squarings. */
function pow2k(a: bigint, k: number): bigint {
  for (let i = 0; i < k; i++) a = sqr(a);
  return a;
}

/**
 * a^((p+1)/4), the square root of a when a has one (p ≡ 3 mod 4), by the addition chain
 * libsecp256k1 uses: 253 squarings and 13 multiplications. (p+1)/4 in binary is 223 ones, a zero,
 * 22 ones, four zeros, then 11, 00.
 */
export function sqrtCandidate(a: bigint): bigint {
  const x2 = mul(sqr(a), a);
  const x3 = mul(sqr(x2), a);
  const x6 = mul(pow2k(x3, 3), x3);
  const x9 = mul(pow2k(x6, 3), x3);
  const x11 = mul(pow2k(x9, 2), x2);
  const x22 = mul(pow2k(x11, 11), x11);
  const x44 = mul(pow2k(x22, 22), x22);
  const x88 = mul(pow2k(x44, 44), x44);
  const x176 = mul(pow2k(x88, 88), x88);
  const x220 = mul(pow2k(x176, 44), x44);
  const x223 = mul(pow2k(x220, 3), x3);
  const t = mul(pow2k(x223, 23), x22);
  return pow2k(mul(pow2k(t, 6), x2), 2);
}

/**
 * SEC1 compressed decoding (0x02 / 0x03 || x, 33 bytes) of a secp256k1 point, as noble's
 * `Point.fromBytes` for that form: x must be below p and x³ + 7 a square; the root with the
 * prefix's parity is taken. Throws on anything else (other lengths and prefixes included).
 */
export function decodeCompressed(Point: PointCons, bytes: Uint8Array): GroupPoint {
  if (bytes.length !== 33 || (bytes[0] !== 0x02 && bytes[0] !== 0x03)) throw new Error('bad point: not a compressed encoding');
  let x = 0n;
  for (let i = 1; i < 33; i++) x = (x << 8n) | BigInt(bytes[i] as number);
  if (x >= P) throw new Error('bad point: x not in the field');
  const rhs = add(mul(sqr(x), x), 7n);
  let y = sqrtCandidate(rhs);
  if (sqr(y) !== rhs) throw new Error('bad point: x³ + 7 has no square root');
  if ((y & 1n) !== BigInt((bytes[0] as number) & 1)) y = P - y;
  return new Point(x, y, 1n);
}
