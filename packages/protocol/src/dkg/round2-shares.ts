/**
 * DKG round 2: the shares a dealer hands out, f(x_i), and the check of the shares a party receives
 * against their dealers' round-1 commitments (RFC 9591 App. C.2 `vss_verify`:
 * share·G == Σ_k φ_k·x^k; frost-rs `dkg::part3`).
 *
 * All received shares are checked in one random linear combination on the happy path, arranged so
 * that most scalars are 128 bits rather than full width; only when that fails is each share checked
 * on its own, so every dealer named is one whose share is provably wrong.
 */
import type { Rng } from '../bytes.js';
import { batchCoefficient, msm, mulBaseSecret, powersOf } from '../fast/index.js';
import type { GroupPoint, Suite } from '../suites.js';
import type { VssCommitment } from './round1-package.js';

/**
 * f(x) = Σ_k a_k·x^k by Horner's rule over noble's scalar field: RFC 9591 App. C.1
 * `polynomial_evaluate`, the value noble's DKG.round2 sends (its `polynomialEvaluate`).
 */
export function evaluatePolynomial(suite: Suite, coefficients: readonly bigint[], x: bigint): bigint {
  const { Fn } = suite;
  let acc = Fn.create(0n);
  for (let k = coefficients.length - 1; k >= 0; k--) acc = Fn.add(Fn.mul(acc, x), coefficients[k] as bigint);
  return acc;
}

/** A share this party received, with the commitment of the dealer who sent it. */
export interface ReceivedShare {
  readonly dealer: VssCommitment;
  /** f_dealer(x), secret. */
  readonly share: bigint;
}

/** Exact `vss_verify` of one share at our identifier x: share·G == Σ_k φ_k·x^k. */
export function verifyReceivedShare(suite: Suite, x: bigint, r: ReceivedShare): boolean {
  const expected = msm(suite, r.dealer.points, powersOf(suite, x, r.dealer.points.length));
  // The share is secret: constant-time multiplication.
  return mulBaseSecret(suite, r.share).equals(expected);
}

/**
 * True when every share is valid, checked as
 *   (Σ_j b_j·s_j)·G == Σ_k x^k·(Σ_j b_j·φ_{j,k})
 * for independent random 128-bit b_j ≠ 0: t inner MSMs with 128-bit scalars and one outer t-point
 * MSM, about half the work of checking each share on its own. All valid ⇒ true. Some invalid ⇒
 * true with probability ≤ 2⁻¹²⁸ (all commitments are prime-order elements, checked on decode).
 */
export function batchVerifyReceivedShares(suite: Suite, x: bigint, received: readonly ReceivedShare[], rng: Rng): boolean {
  const { Fn } = suite;
  const first = received[0];
  if (first === undefined) return true;
  const t = first.dealer.points.length;
  const b = received.map(() => batchCoefficient(rng));
  let weighted = Fn.create(0n);
  received.forEach((r, j) => {
    weighted = Fn.add(weighted, Fn.mul(b[j] as bigint, r.share));
  });
  const inner: GroupPoint[] = [];
  for (let k = 0; k < t; k++) {
    inner.push(
      msm(
        suite,
        received.map((r) => r.dealer.points[k] as GroupPoint),
        b,
      ),
    );
  }
  const rhs = msm(suite, inner, powersOf(suite, x, t));
  return mulBaseSecret(suite, weighted).equals(rhs);
}

/**
 * The received shares that fail `vss_verify` — exactly those: one batch check, and on its failure
 * each share on its own. Every dealer's commitment must have the same length (the threshold).
 */
export function findInvalidReceivedShares(suite: Suite, x: bigint, received: readonly ReceivedShare[], rng: Rng): ReceivedShare[] {
  if (batchVerifyReceivedShares(suite, x, received, rng)) return [];
  return received.filter((r) => !verifyReceivedShare(suite, x, r));
}
