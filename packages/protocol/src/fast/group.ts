/**
 * Typed access to the fast path's multi-scalar and scalar multiplications, and the
 * random-linear-combination coefficients every batch check uses. Each operation is a call into
 * @noble/curves (abstract/curve.js `mulAddUnsafe` and `interleavedMSMUnsafe`, the points' own
 * `multiply` / `multiplyUnsafe`), except on secp256k1, whose MSM, k·G and table multiplications are
 * Glacis's own (secp256k1-msm.ts, secp256k1-fixed.ts; differential-tested against noble's).
 */
import { interleavedMSMUnsafe, mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, type Rng, utf8 } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import type { GroupPoint, Suite } from '../suites.js';
import { secp256k1MulBase, secp256k1MulBasePublic } from './secp256k1-fixed.js';
import { secp256k1Msm } from './secp256k1-msm.js';

type Cons = Parameters<typeof mulAddUnsafe>[0];
type Points = Parameters<typeof mulAddUnsafe>[1];

type Secp256k1Cons = Parameters<typeof secp256k1MulBase>[0];
/** Both secp256k1 suites share noble's point class: the curve whose arithmetic is Glacis's own. */
export const isSecp256k1 = (suite: Suite): boolean => (suite.Point as unknown) === secp256k1.Point;

/**
 * Σ scalars[i]·points[i], variable time: public inputs only (commitments, keys, shares, batch
 * coefficients). secp256k1 (both suites): secp256k1-msm.ts; every other curve: noble's
 * interleaved wNAF, with terms of scalar 1 (a session's hiding commitments) added, not walked.
 */
export function msm(suite: Suite, points: readonly GroupPoint[], scalars: readonly bigint[]): GroupPoint {
  if (isSecp256k1(suite)) return secp256k1Msm(suite.Point as unknown as Secp256k1Cons, points, scalars);
  if (points.length !== scalars.length) throw new Error('arrays of points and scalars must have equal length');
  const walked: GroupPoint[] = [];
  const walkedScalars: bigint[] = [];
  const added: GroupPoint[] = [];
  points.forEach((p, i) => {
    const k = scalars[i] as bigint;
    if (k === 1n) added.push(p);
    else {
      walked.push(p);
      walkedScalars.push(k);
    }
  });
  let sum = mulAddUnsafe(suite.Point as unknown as Cons, walked as unknown as Points, walkedScalars) as unknown as GroupPoint;
  for (const p of added) sum = sum.add(p);
  return sum;
}

/**
 * A variable-time MSM over a fixed point set, for evaluating many scalar vectors against the same
 * points (noble's `interleavedMSMUnsafe`: each point's odd-multiple table is built once). Public
 * inputs only. `windowSize` trades table size (2^(w−2) points each) against additions per MSM.
 */
export function fixedPointsMsm(
  suite: Suite,
  points: readonly GroupPoint[],
  windowSize: number,
): (scalars: readonly bigint[]) => GroupPoint {
  const run = interleavedMSMUnsafe(suite.Point as unknown as Cons, points as unknown as Points, windowSize);
  return (scalars) => run([...scalars]) as unknown as GroupPoint;
}

/** k·G, variable time, for public `k` (0 gives the identity): G's window table on every curve. */
export function mulBasePublic(suite: Suite, k: bigint): GroupPoint {
  if (isSecp256k1(suite)) return secp256k1MulBasePublic(suite.Point as unknown as Secp256k1Cons, k);
  return suite.Fn.is0(k) ? suite.Point.ZERO : suite.Point.BASE.multiplyUnsafe(k);
}

/** k·P, variable time, for public `k` (0 gives the identity). */
export function mulPublic(suite: Suite, p: GroupPoint, k: bigint): GroupPoint {
  return suite.Fn.is0(k) ? suite.Point.ZERO : p.multiplyUnsafe(k);
}

/**
 * k·G with noble's constant-time discipline, for secret `k` (a nonce, a DKG share or a sum
 * involving one): secp256k1-fixed.ts on secp256k1, noble's `multiply` elsewhere. G·0 is the
 * identity (both refuse 0 themselves).
 */
export function mulBaseSecret(suite: Suite, k: bigint): GroupPoint {
  if (suite.Fn.is0(k)) return suite.Point.ZERO;
  return isSecp256k1(suite) ? secp256k1MulBase(suite.Point as unknown as Secp256k1Cons, k) : suite.Point.BASE.multiply(k);
}

/** 1, x, x², …, x^(count−1) over the scalar field: RFC 9591 App. C.2's monomial basis at x. */
export function powersOf(suite: Suite, x: bigint, count: number): bigint[] {
  const out: bigint[] = [];
  let p = suite.Fn.create(1n);
  for (let i = 0; i < count; i++) {
    out.push(p);
    p = suite.Fn.mul(p, x);
  }
  return out;
}

/** Bytes of a random batch coefficient: 128-bit coefficients bound a false accept by 2⁻¹²⁸. */
export const BATCH_COEFFICIENT_BYTES = 16;

/**
 * A random-linear-combination coefficient: 1 + a 128-bit integer from `rng` (never 0, so no term
 * drops out of the combination). `rng` must be unpredictable to whoever chose the checked values
 * (protocol code reads no ambient randomness: callers pass e.g. `crypto.getRandomValues`).
 */
export function batchCoefficient(rng: Rng): bigint {
  const bytes = rng(BATCH_COEFFICIENT_BYTES);
  if (bytes.length !== BATCH_COEFFICIENT_BYTES) throw new ProtocolError('invalid_encoding', 'rng returned the wrong number of bytes');
  let r = 0n;
  for (const b of bytes) r = (r << 8n) | BigInt(b);
  return r + 1n;
}

/**
 * `count` batch coefficients derived from `transcript` (Fiat–Shamir), for checks that have no RNG
 * (verifying a certificate must be deterministic and reads no ambient randomness). Sound as long
 * as `transcript` encodes every value the check covers: whoever chose them fixed the coefficients
 * too, and finding values that cancel under hash-derived 128-bit coefficients takes ~2¹²⁸ hashes.
 */
export function derivedBatchCoefficients(domain: string, transcript: Uint8Array, count: number): bigint[] {
  const seed = sha256(concatBytes(utf8(domain), transcript));
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const block = sha256(concatBytes(seed, Uint8Array.of(i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff)));
    out.push(batchCoefficient((n = BATCH_COEFFICIENT_BYTES) => block.slice(0, n) as Uint8Array<ArrayBuffer>));
  }
  return out;
}
