/**
 * Aggregation (RFC 9591 §5.3) with the lean happy path of §5.4: sum the shares, verify the group
 * signature once, and only when that fails check shares one by one to name every cheater. noble's
 * `aggregate` does the same steps but rebuilds the session from bytes for the aggregate and again
 * for each share it checks; here everything comes from one session context. Output is
 * byte-identical to noble's `aggregate`.
 */
import { concatBytes } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import { mulBasePublic } from './group.js';
import type { SessionContext } from './session.js';
import { findInvalidShares, type ShareScalars } from './share-checks.js';

/**
 * The group signature check noble's aggregate makes (Basic.verify), on the session context:
 * z·G == R' + c·PK, where R' is R made even-Y for secp256k1-tr and R otherwise. Every point is in
 * the prime-order subgroup, so noble's cofactor clearing cannot change the answer.
 */
export function verifyGroupSignature(ctx: SessionContext, z: bigint): boolean {
  const { suite } = ctx.key;
  const R = ctx.negateCommitmentShares ? ctx.groupCommitment.negate() : ctx.groupCommitment;
  // Two separate multiplications beat one joint MSM here: z·G and c·PK each walk a window table
  // (G's, and the key's once it has one: key.ts), with no doublings.
  return mulBasePublic(suite, z).equals(R.add(ctx.key.groupKeyTimes(ctx.challenge)));
}

/** The suite's signature encoding of (R, z): RFC 9591 Appendix A, x-only R for secp256k1-tr (BIP-340). */
export function encodeSignature(ctx: SessionContext, z: bigint): Uint8Array {
  const R = ctx.key.suite.id === 'secp256k1-tr' ? ctx.groupCommitmentBytes.subarray(1) : ctx.groupCommitmentBytes;
  return concatBytes(R, ctx.key.suite.Fn.toBytes(z));
}

/** The signature, or the identifiers of every signer whose share is invalid (possibly none). */
export type AggregateOutcome = { ok: true; signature: Uint8Array } | { ok: false; cheaters: string[] };

/**
 * RFC 9591 §5.3 aggregate + §5.4: z = Σ z_i, one group-signature check, and per-share checks
 * only when it fails. `ok: false` with no cheaters means every share is individually valid yet
 * the aggregate is not, i.e. the key package is inconsistent (its verifying shares do not
 * interpolate to its group key) — no party is to blame.
 */
export function aggregateSignatureShares(ctx: SessionContext, shares: ShareScalars): AggregateOutcome {
  const Fn = ctx.key.suite.Fn;
  let z = Fn.create(0n);
  for (const s of ctx.signers) {
    const zi = shares.get(s.identifier);
    if (zi === undefined) throw new ProtocolError('missing_signature_share', `no share from ${s.identifier}`);
    z = Fn.add(z, zi);
  }
  if (shares.size !== ctx.signers.length) throw new ProtocolError('unexpected_signature_share', 'shares from non-signers');
  if (verifyGroupSignature(ctx, z)) return { ok: true, signature: encodeSignature(ctx, z) };
  return { ok: false, cheaters: findInvalidShares(ctx, shares) };
}
