/**
 * A signer's share (RFC 9591 §5.2 sign): z_i = d_i + e_i·ρ_i + λ_i·s_i·c, from the session context
 * the coordinator's checks use too. Byte-identical to noble's `signShare`, including
 * secp256k1-tr's even-Y rules: the share s_i is negated when the group key has odd Y (noble's
 * adjustSecret) and the nonces when R has odd Y (adjustNonces).
 *
 * noble's signShare also recomputes the signer's two commitments from its nonces (two
 * constant-time base multiplications) to catch a coordinator assigning it a commitment that is
 * not its own; the signer (signing/signer.ts) keeps each nonce pair under the commitment it
 * derived from it and looks it up by the commitment in the package, which binds the two already.
 */
import type { FrostSecret } from '@noble/curves/abstract/frost.js';
import { ProtocolError } from '../errors.js';
import type { PreparedKey } from './key.js';
import type { SessionContext } from './session.js';

/** A signer's secret share as it signs: its identifier and s_i (even-Y adjusted). Redacted in JSON. */
export interface SignerSecret {
  readonly identifier: string;
  readonly scalar: bigint;
  toJSON(): string;
}

/** A nonce pair (d_i, e_i) of RFC 9591 §5.1, as scalars. Secret. */
export interface SigningNonces {
  readonly hiding: bigint;
  readonly binding: bigint;
}

/** `secret` ready to sign under `key` (negated with an odd-Y secp256k1-tr group key). */
export function prepareSignerSecret(key: PreparedKey, secret: FrostSecret): SignerSecret {
  const { Fn } = key.suite;
  const s = key.suite.parseScalar(secret.signingShare, 'signing share');
  return Object.freeze({
    identifier: secret.identifier,
    scalar: key.negated ? Fn.neg(s) : s,
    toJSON: () => `<signing share of ${secret.identifier} redacted>`,
  });
}

/**
 * The signature share of `secret` with `nonces` in the session `ctx`. Throws
 * `missing_own_commitment` when the signer is not in the session and `nonce_reused` for a zeroed
 * (already used) nonce pair. The caller consumes the nonces; this does not.
 */
export function computeSignatureShare(ctx: SessionContext, secret: SignerSecret, nonces: SigningNonces): Uint8Array {
  const { Fn } = ctx.key.suite;
  const self = ctx.signer(secret.identifier);
  if (self === undefined)
    throw new ProtocolError('missing_own_commitment', `identifier ${secret.identifier} is not a signer of this session`);
  if (Fn.is0(nonces.hiding) || Fn.is0(nonces.binding)) throw new ProtocolError('nonce_reused', 'signing nonces already used');
  // secp256k1-tr: an odd-Y R is used as its even-Y negation, so the nonces behind it are negated.
  const d = ctx.negateCommitmentShares ? Fn.neg(nonces.hiding) : nonces.hiding;
  const e = ctx.negateCommitmentShares ? Fn.neg(nonces.binding) : nonces.binding;
  const lambdaSc = Fn.mul(Fn.mul(ctx.lagrange(secret.identifier), secret.scalar), ctx.challenge);
  return Fn.toBytes(Fn.add(Fn.add(d, Fn.mul(e, self.bindingFactor)), lambdaSc));
}
