/**
 * Everything about one FROST signing session that does not depend on the signature shares,
 * computed once: the sorted commitment list, binding factors (RFC 9591 §4.4), group commitment
 * (§4.5), challenge (§4.6) and, on demand, the Lagrange coefficients (§4.2).
 *
 * noble's signShare / verifyShare / aggregate each rebuild all of this from bytes (decoding and
 * validating every commitment again), which makes checking t shares O(t²) point decodings. Here
 * the commitments arrive decoded (commitment.ts) and the key prepared (key.ts).
 *
 * The arithmetic is noble's (Point, Fn, mulAddUnsafe), except secp256k1's MSM (group.ts); only
 * the order of operations is ours. Each value is bit-for-bit what noble computes — including
 * secp256k1-tr's even-Y rules — which the tests check against noble and the RFC 9591 / frost-rs
 * vectors.
 */
import { concatBytes, fromHex } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import type { GroupPoint, Suite } from '../suites.js';
import type { NonceCommitment } from './commitment.js';
import { msm } from './group.js';
import type { PreparedKey } from './key.js';

/** A signer's identifier (canonical scalar hex, as noble names it) with its decoded commitments. */
export interface SignerCommitment {
  readonly identifier: string;
  readonly commitment: NonceCommitment;
}

/** One signer as the session sees it. */
export interface SessionSigner {
  readonly identifier: string;
  /** The identifier as a scalar (RFC 9591 §3.1 x-coordinate of the signer's share). */
  readonly x: bigint;
  readonly commitment: NonceCommitment;
  /** ρ_i, RFC 9591 §4.4. */
  readonly bindingFactor: bigint;
}

/** The share-independent state of one signing session. */
export interface SessionContext {
  readonly key: PreparedKey;
  readonly message: Uint8Array;
  /** Signers in RFC 9591 §4.3 order (ascending identifier). */
  readonly signers: readonly SessionSigner[];
  /** R = Σ D_i + ρ_i·E_i (RFC 9591 §4.5), as the signature encodes it (never adjusted). */
  readonly groupCommitment: GroupPoint;
  /** SerializeElement(R). */
  readonly groupCommitmentBytes: Uint8Array;
  /** c = H2(R, PK, msg) (RFC 9591 §4.6; BIP-340's challenge for secp256k1-tr). */
  readonly challenge: bigint;
  /**
   * secp256k1-tr only: R has odd Y, so signers negated their nonces and every commitment share
   * D_i + ρ_i·E_i enters verification negated (noble's adjustNonces / adjustGroupCommitmentShare).
   */
  readonly negateCommitmentShares: boolean;
  /** The signer with `identifier`, if it is one. */
  signer(identifier: string): SessionSigner | undefined;
  /** λ_i over this session's signers (RFC 9591 §4.2); all of them are computed on first call. */
  lagrange(identifier: string): bigint;
}

/**
 * Builds the context of a session with `commitments` (any order) on `message` under `key`.
 * Throws `too_few_signers` / `too_many_signers` / `duplicate_identifier` / `invalid_identifier` /
 * `not_in_committee` / `wrong_suite` on a malformed list, and `aggregate_invalid` if R is the
 * identity (RFC 9591 §3.1: SerializeElement fails on it, so no signature could encode it).
 */
export function createSessionContext(key: PreparedKey, commitments: readonly SignerCommitment[], message: Uint8Array): SessionContext {
  const { suite } = key;
  const Fn = suite.frost.utils.Fn;
  const { hashes } = suite;
  // RFC 9591 §5.2/§5.3: MIN_PARTICIPANTS ≤ NUM_PARTICIPANTS ≤ MAX_PARTICIPANTS.
  if (commitments.length < key.signers.min) {
    throw new ProtocolError('too_few_signers', `${commitments.length} signers, threshold is ${key.signers.min}`);
  }
  if (commitments.length > key.signers.max) {
    throw new ProtocolError('too_many_signers', `${commitments.length} signers for ${key.signers.max} parties`);
  }
  const parsed: { identifier: string; x: bigint; xBytes: Uint8Array; commitment: NonceCommitment }[] = [];
  const ids = new Set<string>();
  for (const { identifier, commitment } of commitments) {
    if (commitment.suite !== suite.id) throw new ProtocolError('wrong_suite', `a ${commitment.suite} commitment in a ${suite.id} session`);
    if (ids.has(identifier)) throw new ProtocolError('duplicate_identifier', `identifier ${identifier} appears twice`);
    ids.add(identifier);
    // Identifiers are canonical non-zero scalars; fromHex admits only one spelling of each.
    const xBytes = fromHex(identifier, 'identifier');
    let x: bigint;
    try {
      x = Fn.fromBytes(xBytes);
    } catch (e) {
      throw new ProtocolError('invalid_identifier', `identifier ${identifier} is not a canonical scalar`, [], { cause: e });
    }
    if (Fn.is0(x)) throw new ProtocolError('invalid_identifier', 'identifier 0');
    if (!key.hasVerifyingShare(identifier)) throw new ProtocolError('not_in_committee', `identifier ${identifier} has no verifying share`);
    parsed.push({ identifier, x, xBytes, commitment });
  }
  // RFC 9591 §4.3: the commitment list is sorted by identifier (as integers, not as bytes).
  parsed.sort((a, b) => (a.x < b.x ? -1 : a.x > b.x ? 1 : 0));

  // RFC 9591 §4.3 encode_group_commitment_list, then §4.4 binding factors:
  // ρ_i = H1(SerializeElement(PK) || H4(msg) || H5(encoded list) || SerializeScalar(i)).
  // Commitments are canonical (§3.1, checked on decode), so their wire bytes are their encoding.
  const encoded = concatBytes(...parsed.flatMap((p) => [p.xBytes, p.commitment.hidingBytes, p.commitment.bindingBytes]));
  const rhoPrefix = concatBytes(key.groupKeyBytes, hashes.H4(message), hashes.H5(encoded));
  const signers: SessionSigner[] = parsed.map((p) =>
    Object.freeze({
      identifier: p.identifier,
      x: p.x,
      commitment: p.commitment,
      bindingFactor: hashes.H1(concatBytes(rhoPrefix, p.xBytes)),
    }),
  );

  // RFC 9591 §4.5: R = Σ D_i + ρ_i·E_i, one MSM (the hiding commitments' scalar 1 makes them
  // plain additions there).
  const R = msm(
    suite,
    signers.flatMap((s) => [s.commitment.hiding, s.commitment.binding]),
    signers.flatMap((s) => [1n, s.bindingFactor]),
  );
  if (R.is0()) throw new ProtocolError('aggregate_invalid', 'group commitment is the identity element');
  const groupCommitmentBytes = R.toBytes();
  // secp256k1-tr: compressed SEC1 prefix 0x03 = odd Y.
  const negateCommitmentShares = suite.id === 'secp256k1-tr' && groupCommitmentBytes[0] === 0x03;
  const challenge = hashes.challenge(groupCommitmentBytes, key.groupKeyBytes, message);

  const byId = new Map(signers.map((s) => [s.identifier, s]));
  let lambdas: Map<string, bigint> | undefined;
  return Object.freeze({
    key,
    message,
    signers: Object.freeze(signers),
    groupCommitment: R,
    groupCommitmentBytes,
    challenge,
    negateCommitmentShares,
    signer: (identifier: string) => byId.get(identifier),
    lagrange(identifier: string) {
      lambdas ??= lagrangeCoefficients(suite, signers);
      const l = lambdas.get(identifier);
      if (l === undefined)
        throw new ProtocolError('unexpected_signature_share', `identifier ${identifier} is not a signer of this session`);
      return l;
    },
  });
}

/** RFC 9591 §4.2: λ_i = Π_{j≠i} x_j / (x_j − x_i), all denominators inverted in one batch. */
function lagrangeCoefficients(suite: Suite, signers: readonly SessionSigner[]): Map<string, bigint> {
  const Fn = suite.frost.utils.Fn;
  const nums: bigint[] = [];
  const dens: bigint[] = [];
  for (const i of signers) {
    let num = Fn.ONE;
    let den = Fn.ONE;
    for (const j of signers) {
      if (j === i) continue;
      num = Fn.mul(num, j.x);
      den = Fn.mul(den, Fn.sub(j.x, i.x));
    }
    nums.push(num);
    dens.push(den);
  }
  const inv = Fn.invertBatch(dens);
  return new Map(signers.map((s, k) => [s.identifier, Fn.mul(nums[k] as bigint, inv[k] as bigint)]));
}
