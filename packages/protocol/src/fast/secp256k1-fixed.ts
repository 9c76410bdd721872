/**
 * Multiplications of fixed points on secp256k1 by fixed-window tables of affine multiples (every
 * doubling baked into the table, one mixed addition per window), on secp256k1-arith.ts's arithmetic:
 *
 * - k·G for a secret k (nonces, the commitments every signer makes for every signature): the same
 *   algorithm as noble's `Point.BASE.multiply` — a blinded scalar k + r·n (r a fresh 128-bit
 *   random with its top bit set), signed windows of 6 bits, one table addition per window whatever
 *   the digit (a zero digit adds into a discarded accumulator), every entry of a window read before
 *   the digit picks one — with mixed additions (7M + 4S) instead of noble's complete ones (12M and
 *   a `%` after every field operation). Profiles put noble's version at a quarter of a
 *   secp256k1-tr signer's CPU (docs/benchmarks.md). The operation sequence does not depend on k,
 *   as with noble's; as with noble's, JavaScript bigints give no guarantee below that (their time
 *   varies with their values). The accumulators start at fixed points whose discrete logarithms
 *   nobody knows (hashed to the curve), so no addition starts from the identity; the mixed
 *   addition's equal and opposite cases stay handled for correctness but need k + r·n to meet those
 *   points, which no one can arrange.
 * - k·P for a public k and a long-lived P (G, a group key): the aggregate check z·G == R + c·PK,
 *   variable time, zero digits skipped.
 *
 * Results are the points noble computes (tests: random and edge scalars, both blinds' extremes).
 */
import { secp256k1_hasher } from '@noble/curves/secp256k1.js';
import type { GroupPoint } from '../suites.js';
import {
  type Affine,
  addAffine,
  addJacobian,
  double,
  IDENTITY,
  type Jacobian,
  mul,
  N,
  P,
  type PointCons,
  type Projective,
  sqr,
  toAffineAll,
  toNoblePoint,
} from './secp256k1-arith.js';

/** Multiples (j + 1)·2^(W·w)·P for j < 2^(W−1), w < windows, affine, for one fixed P. */
export interface FixedWindowTable {
  readonly W: number;
  readonly windows: number;
  readonly entries: readonly Affine[];
}

/**
 * The table of `point` (not the identity) for scalars below 2^bits: ceil(bits / W) + 1 windows
 * (one for the signed recoding's last carry) of 2^(W−1) entries, one inversion for all of them.
 */
export function fixedWindowTable(point: GroupPoint, W: number, bits: number): FixedWindowTable {
  const half = 1 << (W - 1);
  const windows = Math.ceil(bits / W) + 1;
  const p = point as Projective;
  if (p.is0()) throw new RangeError('no table for the identity');
  const jacobian: Jacobian[] = [];
  // Homogeneous (X, Y, Z) is the Jacobian (X·Z, Y·Z², Z).
  let base: Jacobian = { X: mul(p.X, p.Z), Y: mul(p.Y, sqr(p.Z)), Z: p.Z };
  for (let w = 0; w < windows; w++) {
    let acc = base;
    jacobian.push(acc);
    for (let j = 1; j < half; j++) {
      acc = addJacobian(acc, base);
      jacobian.push(acc);
    }
    // 2^W·base = 2·(2^(W−1)·base), the last entry doubled.
    base = double(acc);
  }
  // (j + 1)·2^(W·w) is never a multiple of the prime n, so no entry is the identity.
  if (jacobian.some((e) => e.Z === 0n)) throw new Error('fixed-window table reached the identity');
  const entries = toAffineAll(jacobian);
  return Object.freeze({ W, windows, entries: Object.freeze(entries) });
}

/** Signed digits of n in [−2^(W−1) + 1, 2^(W−1)], `windows` of them, least significant first. */
function signedWindows(n: bigint, W: number, windows: number): Int8Array {
  const digits = new Int8Array(windows);
  const half = 1 << (W - 1);
  const mask = BigInt((1 << W) - 1);
  const shift = BigInt(W);
  for (let w = 0; w < windows; w++) {
    let d = Number(n & mask);
    n >>= shift;
    if (d > half) {
      d -= 1 << W;
      n += 1n;
    }
    digits[w] = d;
  }
  if (n !== 0n) throw new RangeError('scalar too large for the table');
  return digits;
}

/** k·P for a public k in [0, n) and P's table: variable time, zero digits skipped. */
export function mulFixedPublic(Point: PointCons, table: FixedWindowTable, k: bigint): GroupPoint {
  if (typeof k !== 'bigint' || k < 0n || k >= N) throw new RangeError('invalid scalar: out of range');
  const half = 1 << (table.W - 1);
  const digits = signedWindows(k, table.W, table.windows);
  let acc: Jacobian = IDENTITY;
  for (let w = 0; w < table.windows; w++) {
    const d = digits[w] as number;
    if (d === 0) continue;
    const e = table.entries[w * half + Math.abs(d) - 1] as Affine;
    acc = addAffine(acc, e.x, d < 0 ? P - e.y : e.y);
  }
  return toNoblePoint(Point, acc);
}

/** Window width of G's table, as noble's default for its base point. */
const BASE_W = 6;
/** Scalar bits after blinding: 256 for k, 128 more for r·n. */
const BLINDED_BITS = 256 + 128;

interface BaseTable {
  readonly table: FixedWindowTable;
  /** Where the real and the discarded accumulator start, and −(the real one's start). */
  readonly start: Affine;
  readonly negStart: Affine;
  readonly fakeStart: Affine;
}

let base: BaseTable | undefined;

/** G's table, built on first use (about 2 000 additions and one inversion, a few ms; ~300 KB). */
function baseTable(Point: PointCons & { readonly BASE: GroupPoint }): BaseTable {
  if (base) return base;
  const hashed = (tag: string): Affine => {
    const p = secp256k1_hasher.hashToCurve(new TextEncoder().encode(tag), { DST: 'GLACIS-SECP256K1-BASE-MULT-OFFSET' }).toAffine();
    return Object.freeze({ x: p.x, y: p.y });
  };
  const start = hashed('real accumulator');
  base = Object.freeze({
    table: fixedWindowTable(Point.BASE, BASE_W, BLINDED_BITS),
    start,
    negStart: Object.freeze({ x: start.x, y: P - start.y }),
    fakeStart: hashed('discarded accumulator'),
  });
  return base;
}

/** k·G for a public k in [0, n): the aggregate check's z·G. */
export function secp256k1MulBasePublic(Point: PointCons & { readonly BASE: GroupPoint }, k: bigint): GroupPoint {
  return mulFixedPublic(Point, baseTable(Point).table, k);
}

/**
 * k·G for secret k in [1, n) (a RangeError otherwise, as noble's `multiply`). `blind` gives the
 * 16 random bytes of the blinding factor (default: `crypto.getRandomValues`; tests pass their own).
 */
export function secp256k1MulBase(
  Point: PointCons & { readonly BASE: GroupPoint },
  k: bigint,
  blind: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n)),
): GroupPoint {
  if (typeof k !== 'bigint' || k <= 0n || k >= N) throw new RangeError('invalid scalar: out of range');
  const t = baseTable(Point);
  const { W, windows, entries } = t.table;
  const half = 1 << (W - 1);
  const r = blind(16);
  if (r.length !== 16) throw new Error('blinding randomness of the wrong length');
  // noble's blind: top bits 10, so r ∈ [2^127, 1.5·2^127) and k + r·n < 2^384.
  let rb = BigInt((r[0] as number & 0x3f) | 0x80);
  for (let i = 1; i < 16; i++) rb = (rb << 8n) | BigInt(r[i] as number);
  const digits = signedWindows(k + rb * N, W, windows);
  let acc: Jacobian = { X: t.start.x, Y: t.start.y, Z: 1n };
  let fake: Jacobian = { X: t.fakeStart.x, Y: t.fakeStart.y, Z: 1n };
  for (let w = 0; w < windows; w++) {
    const d = digits[w] as number;
    const at = w * half;
    const idx = Math.abs(d) - 1;
    let sel = entries[at] as Affine;
    for (let i = 1; i < half; i++) sel = i === idx ? (entries[at + i] as Affine) : sel;
    const negY = P - sel.y;
    const y = d < 0 ? negY : sel.y;
    if (d === 0) fake = addAffine(fake, sel.x, y);
    else acc = addAffine(acc, sel.x, y);
  }
  // The discarded sum is never used: its additions are there so a zero digit costs what another does.
  void fake;
  return toNoblePoint(Point, addAffine(acc, t.negStart.x, t.negStart.y));
}
