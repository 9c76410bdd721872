/**
 * The fast path: Glacis's own FROST signing arithmetic, the one deliberate exception to "do not
 * re-implement what noble provides" (docs/architecture.md, "The fast path"). noble's
 * signShare / verifyShare / aggregate take bytes and rebuild the whole session on every call —
 * every commitment decoded and subgroup-checked again, the binding factors and R recomputed — so
 * checking t shares costs O(t²) point decodes, and on Ed25519/Ed448 each decode carries a full
 * [L]P subgroup check. Here a key is prepared once (key.ts), each commitment is parsed once where
 * it enters (commitment.ts), and one session context serves verifying, aggregating and signing.
 * The curve and field arithmetic stay noble's except on secp256k1 (secp256k1-*.ts: its own
 * field reduction, MSM and fixed-window multiplications); the prime-order check on Ed25519/Ed448
 * is point halving (prime-order.ts). Every output is byte-identical to noble's, which the differential
 * tests in packages/protocol/test/fast-*.test.ts and the RFC 9591 / frost-rs vectors hold.
 *
 * Entry point: `prepareSession(key, commitments, message)`.
 */
import type { Rng } from '../bytes.js';
import { type AggregateOutcome, aggregateSignatureShares } from './aggregate.js';
import type { PreparedKey } from './key.js';
import { createSessionContext, type SessionContext, type SignerCommitment } from './session.js';
import { batchVerifySignatureShares, findInvalidShares, type ShareScalars, verifySignatureShare } from './share-checks.js';
import { computeSignatureShare, type SignerSecret, type SigningNonces } from './sign-share.js';

export type { AggregateOutcome } from './aggregate.js';
export {
  type AffinePoint,
  type CommittedNonces,
  commitNonces,
  decodeOwnNonceCommitment,
  type NonceCommitment,
  nonceCommitmentFromPortable,
  type PortableNonceCommitment,
  parseNonceCommitment,
  portableNonceCommitment,
} from './commitment.js';
export {
  BATCH_COEFFICIENT_BYTES,
  batchCoefficient,
  derivedBatchCoefficients,
  fixedPointsMsm,
  msm,
  mulBaseSecret,
  mulPublic,
  powersOf,
} from './group.js';
export type { FrostHashes } from './hashes.js';
export {
  createKeyCache,
  KEY_CACHE_CAPACITY,
  type KeyCache,
  PRECOMPUTE_AFTER,
  type PreparedKey,
  prepareKey,
  preparePublicKeyPackage,
} from './key.js';
export type { SessionContext, SessionSigner, SignerCommitment } from './session.js';
export type { ShareScalars } from './share-checks.js';
export { prepareSignerSecret, type SignerSecret, type SigningNonces } from './sign-share.js';
export { evaluateVss } from './vss.js';

/** One signing session: its share-independent context and everything done with it. */
export interface SigningSession extends SessionContext {
  /** RFC 9591 §5.4: exactly whether `share` is `identifier`'s valid share. */
  verifyShare(identifier: string, share: bigint): boolean;
  /** All shares in one random linear combination (false accept ≤ 2⁻¹²⁸); never used for blame. */
  verifyShares(shares: ShareScalars, rng: Rng): boolean;
  /** Exactly the signers whose share is invalid, each checked on its own. */
  findInvalidShares(shares: ShareScalars): string[];
  /** RFC 9591 §5.3: the signature, or exactly the cheaters (lean path: one check when all are honest). */
  aggregate(shares: ShareScalars): AggregateOutcome;
  /** RFC 9591 §5.2: `secret`'s signature share with `nonces` (which the caller consumes). */
  signShare(secret: SignerSecret, nonces: SigningNonces): Uint8Array;
}

/**
 * The session with `commitments` (any order) on `message` under `key`. Throws `too_few_signers`
 * / `too_many_signers` / `duplicate_identifier` / `invalid_identifier` / `not_in_committee` /
 * `wrong_suite` on a malformed list and `aggregate_invalid` when R is the identity.
 */
export function prepareSession(key: PreparedKey, commitments: readonly SignerCommitment[], message: Uint8Array): SigningSession {
  const ctx = createSessionContext(key, commitments, message);
  return Object.freeze({
    ...ctx,
    verifyShare: (identifier: string, share: bigint) => verifySignatureShare(ctx, identifier, share),
    verifyShares: (shares: ShareScalars, rng: Rng) => batchVerifySignatureShares(ctx, shares, rng),
    findInvalidShares: (shares: ShareScalars) => findInvalidShares(ctx, shares),
    aggregate: (shares: ShareScalars) => aggregateSignatureShares(ctx, shares),
    signShare: (secret: SignerSecret, nonces: SigningNonces) => computeSignatureShare(ctx, secret, nonces),
  });
}
