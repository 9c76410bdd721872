/** Verifiable secret sharing over a suite's group (RFC 9591 Appendix C.2). */
import { fromHex } from './bytes.js';
import type { GroupPoint, Suite } from './suites.js';

/** Σ commitment[j]·x^j: the public image of the shared polynomial at identifier `x` (hex). */
export function evaluateVss(suite: Suite, commitment: readonly GroupPoint[], identifier: string): GroupPoint {
  const x = suite.Fn.fromBytes(fromHex(identifier));
  let acc = suite.Point.ZERO;
  let xj = suite.Fn.create(1n);
  for (const c of commitment) {
    // Commitments and identifiers are public: variable-time multiplication is safe.
    acc = acc.add(c.multiplyUnsafe(xj));
    xj = suite.Fn.mul(xj, x);
  }
  return acc;
}
