/**
 * Variable-time multi-scalar multiplication on secp256k1, for public inputs only (commitments,
 * keys, binding factors, challenges): Σ k_i·P_i with the GLV endomorphism, interleaved width-5
 * wNAF over affine tables, Jacobian coordinates and a field reduction that uses the shape of p.
 *
 * Why not noble's `mulAddUnsafe`: profiles of the service under load put about a third of every
 * secp256k1-tr process's CPU in it (docs/benchmarks.md). noble walks 256-bit scalars with complete
 * projective formulas (12 field multiplications per addition, a `%` after every addition and
 * subtraction too) and tables of projective points. Here each scalar is split into two 128-bit
 * halves against P and ψ(P) = (β·x, y) = λ·P (halving the shared doubling chain), tables are made
 * affine with one inversion for all points so every addition in the walk is a mixed addition
 * (7M + 4S), and a product is reduced by folding 2^256 ≡ 2^32 + 977 twice instead of dividing.
 *
 * Nothing secret may come here: the walk's operations depend on the scalars. The result is the
 * same group element noble computes; the tests check it against noble on random and edge inputs
 * (identity points, zero and n − 1 scalars, equal and opposite points that hit the doubling and
 * cancellation cases of the addition).
 */
import { _splitEndoScalar } from '@noble/curves/abstract/weierstrass.js';
import type { GroupPoint } from '../suites.js';

import {
  type Affine,
  addAffine,
  addJacobian,
  double,
  IDENTITY,
  invertAll,
  type Jacobian,
  mul,
  N,
  P,
  type PointCons,
  type Projective,
  toAffineAll,
  toNoblePoint,
} from './secp256k1-arith.js';

/** A cube root of unity mod p: ψ(x, y) = (β·x, y) is multiplication by λ (below) on the curve. */
export const SECP256K1_BETA = 0x7ae96a2b657c07106e64479eac3434e99cf0497512f58995c1396c28719501een;
/** The cube root of unity mod n that ψ multiplies by. */
export const SECP256K1_LAMBDA = 0x5363ad4cc05c30e0a5261c028812645a122e22ea20816678df02967c1b23bd72n;
/** A reduced basis of {(a, b) : a + b·λ ≡ 0 mod n} (the one libsecp256k1 and noble use). */
export const SECP256K1_GLV_BASIS: [[bigint, bigint], [bigint, bigint]] = [
  [0x3086d221a7d46bcde86c90e49284eb15n, -0xe4437ed6010e88286f547fa90abfe4c3n],
  [0x114ca50f7a8e2f3f657c1108d9d44cfd8n, 0x3086d221a7d46bcde86c90e49284eb15n],
];
/** wNAF width: tables of 2^(W−2) = 8 odd multiples per point; a nonzero digit every ~6 bits. */
const W = 5;
const TABLE_SIZE = 1 << (W - 2);

/** Width-W non-adjacent form of 0 ≤ k, least significant digit first (digits 0 or odd, |d| < 2^(W−1)). */
function wnaf(k: bigint): Int8Array {
  const digits = new Int8Array(130);
  const size = 1 << W;
  const half = size >> 1;
  const mask = BigInt(size - 1);
  let i = 0;
  while (k > 0n) {
    if (k & 1n) {
      let d = Number(k & mask);
      if (d >= half) d -= size;
      k -= BigInt(d);
      digits[i] = d;
    }
    k >>= 1n;
    i++;
  }
  return digits.subarray(0, i);
}

/**
 * Σ scalars[i]·points[i] on secp256k1 (`Point` is noble's secp256k1 point class). Scalars must be
 * in [0, n) (a RangeError otherwise, as noble's MSM); identity points and zero scalars drop out.
 */
export function secp256k1Msm(Point: PointCons, points: readonly GroupPoint[], scalars: readonly bigint[]): GroupPoint {
  if (points.length !== scalars.length) throw new Error('arrays of points and scalars must have equal length');
  // Affine inputs (decoded points have Z = 1; others are normalized with one shared inversion).
  const live: { X: bigint; Y: bigint; Z: bigint; k: bigint }[] = [];
  for (let i = 0; i < points.length; i++) {
    const k = scalars[i] as bigint;
    if (typeof k !== 'bigint' || k < 0n || k >= N) throw new RangeError('invalid scalar: out of range');
    const p = points[i] as Projective;
    if (k === 0n || p.is0()) continue;
    live.push({ X: p.X, Y: p.Y, Z: p.Z, k });
  }
  if (live.length === 0) return Point.ZERO;
  const projective = live.filter((p) => p.Z !== 1n);
  if (projective.length > 0) {
    const inv = invertAll(projective.map((p) => p.Z));
    projective.forEach((p, i) => {
      const zi = inv[i] as bigint;
      p.X = mul(p.X, zi);
      p.Y = mul(p.Y, zi);
      p.Z = 1n;
    });
  }

  // Each point's odd multiples P, 3P, …, 15P in Jacobian coordinates, then all made affine at once.
  const jacobianTables: Jacobian[][] = [];
  let sum: Jacobian = IDENTITY;
  const walked: { x: bigint; y: bigint; k: bigint }[] = [];
  for (const p of live) {
    // A scalar of 1 (a hiding commitment's) needs no table: one addition.
    if (p.k === 1n) {
      sum = addAffine(sum, p.X, p.Y);
      continue;
    }
    const twice = double({ X: p.X, Y: p.Y, Z: 1n });
    const table: Jacobian[] = [{ X: p.X, Y: p.Y, Z: 1n }];
    for (let j = 1; j < TABLE_SIZE; j++) table.push(addJacobian(table[j - 1] as Jacobian, twice));
    jacobianTables.push(table);
    walked.push({ x: p.X, y: p.Y, k: p.k });
  }
  if (walked.length > 0) {
    // 3P … 15P of a prime-order point are never the identity, so every Z is invertible.
    const entries = jacobianTables.flat();
    const affine = toAffineAll(entries);
    // Per point: its table and ψ's (x·β), with the GLV halves' signs folded into y.
    const tables: Affine[][] = [];
    const digits: Int8Array[] = [];
    walked.forEach((w, i) => {
      const base = affine.slice(i * TABLE_SIZE, (i + 1) * TABLE_SIZE);
      const { k1neg, k1, k2neg, k2 } = _splitEndoScalar(w.k, SECP256K1_GLV_BASIS, N);
      tables.push(k1neg ? base.map((e) => ({ x: e.x, y: P - e.y })) : base);
      tables.push(base.map((e) => ({ x: mul(e.x, SECP256K1_BETA), y: k2neg ? P - e.y : e.y })));
      digits.push(wnaf(k1), wnaf(k2));
    });
    let top = 0;
    for (const d of digits) top = Math.max(top, d.length);
    let acc: Jacobian = IDENTITY;
    for (let bit = top - 1; bit >= 0; bit--) {
      acc = double(acc);
      for (let i = 0; i < digits.length; i++) {
        const d = (digits[i] as Int8Array)[bit];
        if (!d) continue;
        const e = (tables[i] as Affine[])[(Math.abs(d) - 1) >> 1] as Affine;
        acc = addAffine(acc, e.x, d < 0 ? P - e.y : e.y);
      }
    }
    sum = addJacobian(sum, acc);
  }
  return toNoblePoint(Point, sum);
}
