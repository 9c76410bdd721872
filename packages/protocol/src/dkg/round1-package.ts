/**
 * DKG round-1 packages (frost-rs `dkg::round1::Package`: VSS commitment + proof of knowledge),
 * decoded and validated exactly once, when they arrive. Everything later in the DKG — the proofs
 * of knowledge, the round-2 share checks, the group commitment and the verifying shares — works on
 * the points decoded here. noble's DKG.round2/round3 would decode every commitment again, three
 * times over, each time with two prime-order subgroup checks on ed25519 (a full scalar
 * multiplication each): that was most of the DKG's cost (see scripts/bench/dkg-profile.mjs).
 */
import { concatBytes, fromHex } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import type { GroupPoint, Suite } from '../suites.js';
import type { MessageBody } from '../wire/messages.js';

/** A dealer's VSS commitment (RFC 9591 App. C.2): φ_k = G·a_k for its polynomial's coefficients. */
export interface VssCommitment {
  /** The dealer's party id. */
  readonly from: string;
  /** The dealer's FROST identifier (canonical scalar hex). */
  readonly identifier: string;
  /** The identifier as a scalar. */
  readonly x: bigint;
  /** φ_0 … φ_{t−1}. */
  readonly points: readonly GroupPoint[];
  /** Their encodings (canonical, so also their SerializeElement). */
  readonly bytes: readonly Uint8Array[];
}

/** A peer's round-1 package: its commitment and its Schnorr proof of knowledge of a_0. */
export interface Round1Package extends VssCommitment {
  /** The proof's commitment R (for secp256k1-tr lifted from its x-only wire form, even Y). */
  readonly proofR: GroupPoint;
  /** SerializeElement(R), as the proof's challenge hashes it. */
  readonly proofRBytes: Uint8Array;
  /** The proof's response z. */
  readonly proofZ: bigint;
}

/**
 * Decodes `from`'s round-1 body: exactly `threshold` commitments, each an RFC 9591 §3.1 element
 * (canonical, on the curve, not the identity, in the prime-order subgroup), and a proof
 * (R, z) in the suite's signature encoding with R an element and z a canonical scalar. Throws
 * `dkg_invalid_round1`, `invalid_point`, `invalid_scalar` or `invalid_hex`, naming `from` where the
 * fault is provably the sender's (envelopes are authenticated before this). The body's `paramsHash`
 * is not read here: the participant checks it against its own session parameters.
 */
export function parseRound1Package(
  suite: Suite,
  threshold: number,
  from: string,
  identifier: string,
  body: Pick<MessageBody<'dkg_round1'>, 'commitment' | 'proofOfKnowledge'>,
): Round1Package {
  if (body.commitment.length !== threshold) {
    throw new ProtocolError('dkg_invalid_round1', `round 1 from ${from}: ${body.commitment.length} commitments, expected ${threshold}`, [
      from,
    ]);
  }
  const bytes = body.commitment.map((h, i) => fromHex(h, `round1.commitment[${i}]`));
  const points = bytes.map((c, i) => suite.parseElement(c, `round 1 from ${from}: commitment[${i}]`, from));
  const pok = fromHex(body.proofOfKnowledge, 'round1.proofOfKnowledge');
  // The proof is a Schnorr signature in the suite's encoding (x-only R for secp256k1-tr).
  if (pok.length !== suite.signatureLength) {
    throw new ProtocolError('dkg_invalid_round1', `round 1 from ${from}: proof of knowledge has ${pok.length} bytes`, [from]);
  }
  const proofZ = suite.parseScalar(pok.subarray(pok.length - suite.scalarLength), `round 1 from ${from}: proof response`, {
    culprit: from,
  });
  const rWire = pok.subarray(0, pok.length - suite.scalarLength);
  // secp256k1-tr: noble (and frost-secp256k1-tr) encode R x-only and decode it with even Y (0x02).
  const proofRBytes = suite.id === 'secp256k1-tr' ? concatBytes(Uint8Array.of(0x02), rWire) : rWire.slice();
  let proofR: GroupPoint;
  try {
    proofR = suite.parseElement(proofRBytes, `round 1 from ${from}: proof commitment R`, from);
  } catch (e) {
    throw new ProtocolError('dkg_invalid_round1', `round 1 from ${from}: proof of knowledge has an invalid R`, [from], { cause: e });
  }
  return Object.freeze({ from, identifier, x: identifierScalar(suite, identifier), points, bytes, proofR, proofRBytes, proofZ });
}

/**
 * This party's own commitment, from the encodings noble's DKG.round1 just produced. Decoded
 * without the subgroup check: the points are G·a_k for our own coefficients, not peer input.
 */
export function ownVssCommitment(suite: Suite, from: string, identifier: string, encoded: readonly Uint8Array[]): VssCommitment {
  const bytes = encoded.map((b) => b.slice());
  return Object.freeze({
    from,
    identifier,
    x: identifierScalar(suite, identifier),
    points: bytes.map((b) => suite.Point.fromBytes(b)),
    bytes,
  });
}

/** A canonical identifier (hex of a non-zero scalar, as the committee derives them) as a scalar. */
export function identifierScalar(suite: Suite, identifier: string): bigint {
  return suite.Fn.fromBytes(fromHex(identifier, 'identifier'));
}
