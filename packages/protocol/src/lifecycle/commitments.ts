/**
 * VSS commitments of refresh and reshare dealers (RFC 9591 App. C.2: φ_k = a_k·G), decoded once
 * on arrival into the `VssCommitment` shape the DKG's share checks take (dkg/round2-shares.ts), and
 * the sums and evaluations a successor key is derived from.
 *
 * A refresh polynomial has constant term 0, so φ_0 is the identity, which SerializeElement cannot
 * encode (RFC 9591 §3.1) and parseElement refuses: it is never on the wire, and is put back here
 * explicitly as `Point.ZERO` (its `bytes` entry is empty), so the share check and the sums treat
 * it like any other term.
 */
import { fromHex, type Rng } from '../bytes.js';
import { identifierScalar, type VssCommitment } from '../dkg/round1-package.js';
import { findInvalidReceivedShares, type ReceivedShare } from '../dkg/round2-shares.js';
import { ProtocolError } from '../errors.js';
import { fixedPointsMsm, powersOf } from '../fast/group.js';
import type { GroupPoint, Suite } from '../suites.js';

/** Whether the commitment's constant term travels (reshare) or is the implicit identity (refresh). */
export type ConstantTerm = 'on_wire' | 'implicit_identity';

/**
 * Decodes `from`'s commitment: exactly `threshold` terms in all (one fewer on the wire when the
 * constant term is implicit), each an RFC 9591 §3.1 element. A wrong count is
 * `lifecycle_invalid_commitment`, a bad element `invalid_point`, both naming `from` (the envelope
 * carrying it is signed).
 */
export function parseDealerCommitment(
  suite: Suite,
  from: string,
  identifier: string,
  hexes: readonly string[],
  threshold: number,
  constant: ConstantTerm,
): VssCommitment {
  const expected = constant === 'on_wire' ? threshold : threshold - 1;
  if (hexes.length !== expected) {
    throw new ProtocolError('lifecycle_invalid_commitment', `commitment from ${from}: ${hexes.length} elements, expected ${expected}`, [
      from,
    ]);
  }
  const bytes = hexes.map((h, k) => fromHex(h, `commitment[${k}]`));
  const points = bytes.map((b, k) => suite.parseElement(b, `commitment from ${from}: element ${k}`, from));
  if (constant === 'implicit_identity') {
    points.unshift(suite.Point.ZERO);
    bytes.unshift(new Uint8Array(0));
  }
  return Object.freeze({ from, identifier, x: identifierScalar(suite, identifier), points, bytes });
}

/** This party's own commitment from its coefficients' points (not peer input: no decode). */
export function ownCommitment(suite: Suite, from: string, identifier: string, points: readonly GroupPoint[]): VssCommitment {
  return Object.freeze({
    from,
    identifier,
    x: identifierScalar(suite, identifier),
    points: [...points],
    bytes: points.map((p) => (p.is0() ? new Uint8Array(0) : p.toBytes())),
  });
}

/**
 * Checks every received share against its dealer's commitment (RFC 9591 App. C.2 vss_verify: one
 * batch, each share on its own only on failure) and returns their sum. Every dealer whose share
 * fails is named (`lifecycle_invalid_share`); the envelopes that carried them are signed.
 */
export function sumVerifiedShares(suite: Suite, x: bigint, received: readonly ReceivedShare[], rng: Rng, what: string): bigint {
  const bad = findInvalidReceivedShares(suite, x, received, rng);
  if (bad.length > 0) {
    const culprits = bad.map((b) => b.dealer.from);
    throw new ProtocolError('lifecycle_invalid_share', `${what} from ${culprits.join(', ')} does not match its commitment`, culprits);
  }
  return received.reduce((acc, r) => suite.Fn.add(acc, r.share), suite.Fn.create(0n));
}

/** Σ_j φ_{j,k} for every k: the commitment to the sum of the dealers' polynomials. */
export function sumCommitments(suite: Suite, dealers: readonly VssCommitment[]): GroupPoint[] {
  const t = dealers[0]?.points.length ?? 0;
  const out: GroupPoint[] = [];
  for (let k = 0; k < t; k++) {
    let sum = suite.Point.ZERO;
    for (const d of dealers) sum = sum.add(d.points[k] as GroupPoint);
    out.push(sum);
  }
  return out;
}

/**
 * x ↦ Σ_k C_k·x^k, for evaluating one commitment at many identifiers (each point's window table
 * is built once). Public inputs only.
 */
export function commitmentEvaluator(suite: Suite, commitment: readonly GroupPoint[]): (x: bigint) => GroupPoint {
  const evaluate = fixedPointsMsm(suite, commitment, 4);
  return (x) => evaluate(powersOf(suite, x, commitment.length));
}
