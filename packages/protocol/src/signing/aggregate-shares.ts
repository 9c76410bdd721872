/**
 * Coordinator-side aggregation (RFC 9591 §5.3) with the lean happy path of §5.4: sum the shares,
 * verify the group signature once, and only when that fails check shares one by one to name
 * every cheater. noble's `aggregate` does the same steps but rebuilds the session from bytes for
 * the aggregate and again for each share it checks; here everything comes from one
 * SigningContext. Output is byte-identical to noble's `aggregate`.
 */
import type { FrostPublic, NonceCommitments } from '@noble/curves/abstract/frost.js';
import { concatBytes } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import type { Suite } from '../suites.js';
import type { ParsedCommitment } from './commitment-points.js';
import { type PreparedKey, prepareKey } from './key-cache.js';
import { findInvalidShares, type ShareScalars } from './share-verification.js';
import { createSigningContext, type SigningContext } from './signing-context.js';

/**
 * The group signature check noble's aggregate makes (Basic.verify), on the precomputed context:
 * z·G == R' + c·PK, where R' is R made even-Y for secp256k1-tr and R otherwise. Every point is in
 * the prime-order subgroup, so noble's cofactor clearing cannot change the answer.
 */
export function verifyGroupSignature(ctx: SigningContext, z: bigint): boolean {
  const { suite } = ctx.key;
  const R = ctx.negateCommitmentShares ? ctx.groupCommitment.negate() : ctx.groupCommitment;
  // Two separate multiplications beat one joint MSM here: z·G uses noble's precomputed base
  // table and c·PK the key's table once it has one (key-cache.ts).
  const cPK = ctx.key.groupKeyForMultiply().multiplyUnsafe(ctx.challenge);
  return suite.Point.BASE.multiplyUnsafe(z).equals(R.add(cPK));
}

/** The suite's signature encoding of (R, z): RFC 9591 Appendix A, x-only R for secp256k1-tr (BIP-340). */
export function encodeSignature(ctx: SigningContext, z: bigint): Uint8Array {
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
export function aggregateSignatureShares(ctx: SigningContext, shares: ShareScalars): AggregateOutcome {
  const Fn = ctx.key.suite.frost.utils.Fn;
  let z = Fn.ZERO;
  for (const s of ctx.signers) {
    const zi = shares.get(s.identifier);
    if (zi === undefined) throw new ProtocolError('missing_signature_share', `no share from ${s.identifier}`);
    z = Fn.add(z, zi);
  }
  if (shares.size !== ctx.signers.length) throw new ProtocolError('unexpected_signature_share', 'shares from non-signers');
  if (verifyGroupSignature(ctx, z)) return { ok: true, signature: encodeSignature(ctx, z) };
  return { ok: false, cheaters: findInvalidShares(ctx, shares) };
}

/**
 * A drop-in for noble's `frost.aggregate(pub, commitmentList, msg, sigShares)` on this path: the
 * same inputs (noble's identifier-keyed types, or a PreparedKey for `pub`) and the same bytes out.
 * Throws `invalid_signature_share` with the cheating identifiers as culprits, `aggregate_invalid`
 * when no share is to blame, and the decoding errors of `suite.parseElement` / `parseScalar`.
 */
export function aggregateFrost(
  suite: Suite,
  pub: FrostPublic | PreparedKey,
  commitmentList: readonly NonceCommitments[],
  message: Uint8Array,
  sigShares: Readonly<Record<string, Uint8Array>>,
): Uint8Array {
  const key = 'groupKeyBytes' in pub ? pub : prepareKey(suite, pub);
  const commitments = commitmentList.map((c) => {
    const commitment: ParsedCommitment = {
      hiding: suite.parseElement(c.hiding, `${c.identifier} hiding commitment`),
      binding: suite.parseElement(c.binding, `${c.identifier} binding commitment`),
      hidingBytes: c.hiding,
      bindingBytes: c.binding,
    };
    return { identifier: c.identifier, commitment };
  });
  const ctx = createSigningContext(key, commitments, message);
  const shares = new Map(
    Object.entries(sigShares).map(([id, b]) => [id, suite.parseScalar(b, `signature share of ${id}`, { culprit: id })]),
  );
  const out = aggregateSignatureShares(ctx, shares);
  if (out.ok) return out.signature;
  if (out.cheaters.length === 0) throw new ProtocolError('aggregate_invalid', 'aggregate signature invalid, yet every share is valid');
  throw new ProtocolError('invalid_signature_share', `invalid signature share from ${out.cheaters.join(', ')}`, out.cheaters);
}
