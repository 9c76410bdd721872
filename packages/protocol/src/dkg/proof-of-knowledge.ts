/**
 * Round-1 proofs of knowledge (RFC 9591 App. C.1; frost-rs `dkg::part2` → `verify_proof_of_knowledge`):
 * a Schnorr proof (R, z) that the dealer knows a_0 = log φ_0, with challenge
 * c = H_DKG(SerializeScalar(identifier) ‖ SerializeElement(φ_0) ‖ SerializeElement(R)), valid iff
 * z·G = R + c·φ_0. This is noble's `ProofOfKnowledge.validate` check on points decoded once
 * (round1-package.ts); the hash is noble's, rebuilt in fast/hashes.ts with DST contextString‖"dkg".
 *
 * All proofs are checked in one multi-scalar multiplication on the happy path; only when that
 * fails is each proof checked on its own, so blame is always exact.
 */
import { concatBytes, type Rng } from '../bytes.js';
import { batchCoefficient, msm, mulPublic } from '../fast/index.js';
import type { GroupPoint, Suite } from '../suites.js';
import type { Round1Package } from './round1-package.js';

/** c = H_DKG(id ‖ φ_0 ‖ R) (frost-rs `dkg::challenge`; noble `ProofOfKnowledge.challenge`). */
export function proofChallenge(suite: Suite, pkg: Round1Package): bigint {
  const input = concatBytes(suite.Fn.toBytes(pkg.x), pkg.bytes[0] as Uint8Array, pkg.proofRBytes);
  return suite.hashes.hashToScalar(input, 'dkg');
}

/** Exact check of one proof: z·G == R + c·φ_0. All inputs are public: variable time is fine. */
export function verifyProofOfKnowledge(suite: Suite, pkg: Round1Package): boolean {
  const c = proofChallenge(suite, pkg);
  const rhs = pkg.proofR.add(mulPublic(suite, pkg.points[0] as GroupPoint, c));
  return mulPublic(suite, suite.Point.BASE, pkg.proofZ).equals(rhs);
}

/**
 * True when every proof is valid, checked as (Σ a_j·z_j)·G == Σ a_j·R_j + Σ (a_j·c_j)·φ_0,j with
 * independent random 128-bit a_j ≠ 0. All valid ⇒ true. Some invalid ⇒ true with probability
 * ≤ 2⁻¹²⁸ (every point is in the prime-order subgroup, checked on decode, so the error terms of
 * bad proofs are non-zero elements of a group of prime order). Never used to assign blame.
 */
export function batchVerifyProofsOfKnowledge(suite: Suite, pkgs: readonly Round1Package[], rng: Rng): boolean {
  const { Fn } = suite;
  const points: GroupPoint[] = [];
  const scalars: bigint[] = [];
  let zSum = Fn.create(0n);
  for (const pkg of pkgs) {
    const a = batchCoefficient(rng);
    points.push(pkg.proofR, pkg.points[0] as GroupPoint);
    scalars.push(a, Fn.mul(a, proofChallenge(suite, pkg)));
    zSum = Fn.add(zSum, Fn.mul(a, pkg.proofZ));
  }
  return mulPublic(suite, suite.Point.BASE, zSum).equals(msm(suite, points, scalars));
}

/**
 * The packages whose proof of knowledge is invalid — exactly those: one batch check, and on its
 * failure each proof on its own (`verifyProofOfKnowledge`).
 */
export function findInvalidProofs(suite: Suite, pkgs: readonly Round1Package[], rng: Rng): Round1Package[] {
  if (pkgs.length === 0 || batchVerifyProofsOfKnowledge(suite, pkgs, rng)) return [];
  return pkgs.filter((p) => !verifyProofOfKnowledge(suite, p));
}
