/**
 * Lagrange coefficients over a set of identifiers, evaluated at any point: RFC 9591 §4.2
 * `derive_interpolating_value` is the special case `at = 0` (what resharing needs: Σ λ_i·s_i is the
 * group secret); repair evaluates at the lost party's identifier instead (Σ λ_i·s_i = s_r).
 */
import { ProtocolError } from '../errors.js';
import type { Suite } from '../suites.js';

/**
 * λ_i(at) = Π_{j ≠ i} (at − x_j) / (x_i − x_j) over `xs`, which must hold `xi` once and no value
 * twice (committee identifiers are distinct by construction; this checks anyway).
 */
export function lagrangeCoefficient(suite: Suite, xs: readonly bigint[], xi: bigint, at: bigint): bigint {
  const { Fn } = suite;
  let num = Fn.create(1n);
  let den = Fn.create(1n);
  let found = 0;
  for (const xj of xs) {
    if (xj === xi) {
      found++;
      continue;
    }
    num = Fn.mul(num, Fn.sub(at, xj));
    den = Fn.mul(den, Fn.sub(xi, xj));
  }
  if (found !== 1 || Fn.is0(den)) throw new ProtocolError('duplicate_identifier', 'interpolation set must hold each identifier once');
  return Fn.mul(num, Fn.inv(den));
}
