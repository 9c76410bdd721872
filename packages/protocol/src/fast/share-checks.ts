/**
 * Checking signature shares against a session's context (RFC 9591 §5.4): one share exactly, every
 * share exactly (naming each invalid one), or all shares at once with a random linear combination.
 * None of these decodes a point or rehashes the session: that happened once, in session.ts and
 * key.ts.
 */
import type { Rng } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import type { GroupPoint } from '../suites.js';
import { batchCoefficient, msm } from './group.js';
import type { SessionContext, SessionSigner } from './session.js';

/** Signature shares as scalars, by signer identifier. */
export type ShareScalars = ReadonlyMap<string, bigint>;

/** The points and scalars of signer `s`'s commitment share ±(D_i + ρ_i·E_i) + c·λ_i·Y_i, scaled by `r`. */
function shareTerms(ctx: SessionContext, s: SessionSigner, r: bigint): { points: GroupPoint[]; scalars: bigint[] } {
  const Fn = ctx.key.suite.Fn;
  const { hiding: D, binding: E } = s.commitment;
  // secp256k1-tr: when R has odd Y every commitment share is negated (noble's adjustGroupCommitmentShare).
  const [d, e] = ctx.negateCommitmentShares ? [D.negate(), E.negate()] : [D, E];
  const Y = ctx.key.verifyingShare(s.identifier);
  const cl = Fn.mul(ctx.challenge, ctx.lagrange(s.identifier));
  return { points: [d, e, Y], scalars: [r, Fn.mul(r, s.bindingFactor), Fn.mul(r, cl)] };
}

function signerOf(ctx: SessionContext, identifier: string): SessionSigner {
  const s = ctx.signer(identifier);
  if (s === undefined) throw new ProtocolError('unexpected_signature_share', `identifier ${identifier} is not a signer of this session`);
  return s;
}

/**
 * RFC 9591 §5.4 verify_signature_share: z_i·G == ±(D_i + ρ_i·E_i) + c·λ_i·Y_i. Deterministic and
 * exact: a share passes if and only if it is the share the signer's key and nonces imply.
 */
export function verifySignatureShare(ctx: SessionContext, identifier: string, share: bigint): boolean {
  const s = signerOf(ctx, identifier);
  const { points, scalars } = shareTerms(ctx, s, 1n);
  // D_i has coefficient 1: add it rather than feed it to the MSM.
  const rhs = msm(ctx.key.suite, points.slice(1), scalars.slice(1)).add(points[0] as GroupPoint);
  // z_i·G through noble's precomputed base-point table.
  return ctx.key.suite.Point.BASE.multiplyUnsafe(share).equals(rhs);
}

function assertComplete(ctx: SessionContext, shares: ShareScalars): void {
  for (const id of shares.keys()) signerOf(ctx, id);
  const missing = ctx.signers.filter((s) => !shares.has(s.identifier)).map((s) => s.identifier);
  if (missing.length > 0) throw new ProtocolError('missing_signature_share', `no share from ${missing.join(', ')}`);
}

/**
 * Every identifier whose share is invalid, in signer order — exactly those (each share is checked
 * on its own with `verifySignatureShare`; nothing probabilistic decides blame).
 */
export function findInvalidShares(ctx: SessionContext, shares: ShareScalars): string[] {
  assertComplete(ctx, shares);
  return ctx.signers.filter((s) => !verifySignatureShare(ctx, s.identifier, shares.get(s.identifier) as bigint)).map((s) => s.identifier);
}

/**
 * True when every share is valid, checked in one multi-scalar multiplication:
 * (Σ r_i·z_i)·G == Σ r_i·(±(D_i + ρ_i·E_i) + c·λ_i·Y_i) for independent random 128-bit r_i ≠ 0
 * (`batchCoefficient`). All shares valid ⇒ true, always. Some share invalid ⇒ true only if
 * Σ r_i·e_i = 0 for the non-zero error points e_i of a prime-order group, which random r_i (drawn
 * after the shares are fixed) hit with probability ≤ 2⁻¹²⁸. Use `findInvalidShares` to name
 * parties: blame is never decided by this check.
 */
export function batchVerifySignatureShares(ctx: SessionContext, shares: ShareScalars, rng: Rng): boolean {
  assertComplete(ctx, shares);
  const Fn = ctx.key.suite.Fn;
  const points: GroupPoint[] = [];
  const scalars: bigint[] = [];
  let zSum = Fn.create(0n);
  for (const s of ctx.signers) {
    const r = batchCoefficient(rng);
    const t = shareTerms(ctx, s, r);
    points.push(...t.points);
    scalars.push(...t.scalars);
    zSum = Fn.add(zSum, Fn.mul(r, shares.get(s.identifier) as bigint));
  }
  return ctx.key.suite.Point.BASE.multiplyUnsafe(zSum).equals(msm(ctx.key.suite, points, scalars));
}
