/**
 * Typed access to noble's multi-scalar and scalar multiplications for the fast path, and the
 * random-linear-combination coefficients every batch check uses. No curve arithmetic is
 * implemented here: each operation is a call into @noble/curves (abstract/curve.js `mulAddUnsafe`
 * and `interleavedMSMUnsafe`, the points' own `multiply` / `multiplyUnsafe`).
 */
import { interleavedMSMUnsafe, mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, type Rng, utf8 } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import type { GroupPoint, Suite } from '../suites.js';

type Cons = Parameters<typeof mulAddUnsafe>[0];
type Points = Parameters<typeof mulAddUnsafe>[1];

/**
 * Σ scalars[i]·points[i], variable time: public inputs only (commitments, keys, shares, batch
 * coefficients). noble's interleaved wNAF.
 */
export function msm(suite: Suite, points: readonly GroupPoint[], scalars: readonly bigint[]): GroupPoint {
  return mulAddUnsafe(suite.Point as unknown as Cons, points as unknown as Points, [...scalars]) as unknown as GroupPoint;
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

/** k·P, variable time, for public `k` (0 gives the identity). */
export function mulPublic(suite: Suite, p: GroupPoint, k: bigint): GroupPoint {
  return suite.Fn.is0(k) ? suite.Point.ZERO : p.multiplyUnsafe(k);
}

/**
 * k·G in constant time, for secret `k` (a DKG share or a sum involving one). noble's constant-time
 * `multiply` refuses 0; G·0 is the identity.
 */
export function mulBaseSecret(suite: Suite, k: bigint): GroupPoint {
  return suite.Fn.is0(k) ? suite.Point.ZERO : suite.Point.BASE.multiply(k);
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
