/** Verifiable secret sharing over a suite's group (RFC 9591 Appendix C.2). */
import { fromHex } from '../bytes.js';
import type { GroupPoint, Suite } from '../suites.js';
import { msm, powersOf } from './group.js';

/**
 * Σ commitment[j]·x^j: the public image of the shared polynomial at identifier `x` (hex). One
 * multi-scalar multiplication (noble's interleaved wNAF): commitments and identifiers are public.
 */
export function evaluateVss(suite: Suite, commitment: readonly GroupPoint[], identifier: string): GroupPoint {
  const x = suite.Fn.fromBytes(fromHex(identifier));
  return msm(suite, commitment, powersOf(suite, x, commitment.length));
}
