/**
 * A party's round-one nonce commitments (RFC 9591 §5.1), decoded and validated once, where they
 * enter: the coordinator parses a commitment when the party publishes it (a `commitments`
 * message, a pool refill, the `next` commitment sent with a share) and passes the parsed value on;
 * a signer parses each commitment of a signing package once. Nothing decodes the same bytes again.
 */
import { concatBytes, fromHex, type Rng, toHex } from '../bytes.js';
import type { GroupPoint, Suite, SuiteId } from '../suites.js';
import type { NonceCommitmentWire } from '../wire/messages.js';
import { mulBaseSecret } from './group.js';

/** One party's commitment pair, validated, with the exact bytes and wire form it arrived as. */
export interface NonceCommitment {
  /** The suite whose group the points are in. */
  readonly suite: SuiteId;
  readonly hiding: GroupPoint;
  readonly binding: GroupPoint;
  /** SerializeElement of each point: the wire bytes, canonical by RFC 9591 §3.1. */
  readonly hidingBytes: Uint8Array;
  readonly bindingBytes: Uint8Array;
  /** The hex form it arrived as (what goes into a signing package). */
  readonly wire: NonceCommitmentWire;
}

/**
 * RFC 9591 §3.1 DeserializeElement of both commitments of `wire` (via `suite.parseElement`:
 * canonical, on the curve, not the identity, in the prime-order subgroup). Throws `invalid_hex` /
 * `invalid_point` naming `culprit` when given (the party that sent it; leave it out when the
 * sender may not be the party, e.g. in a coordinator-assembled package). `label` prefixes the
 * element names in error messages (default: the culprit).
 */
export function parseNonceCommitment(suite: Suite, wire: NonceCommitmentWire, culprit?: string, label = culprit ?? ''): NonceCommitment {
  const prefix = label === '' ? '' : `${label} `;
  const hidingBytes = fromHex(wire.hiding, `${prefix}hiding commitment`);
  const bindingBytes = fromHex(wire.binding, `${prefix}binding commitment`);
  return Object.freeze({
    suite: suite.id,
    hiding: suite.parseElement(hidingBytes, `${prefix}hiding commitment`, culprit),
    binding: suite.parseElement(bindingBytes, `${prefix}binding commitment`, culprit),
    hidingBytes,
    bindingBytes,
    wire: Object.freeze({ hiding: wire.hiding, binding: wire.binding }),
  });
}

/**
 * The commitment a signer issued itself (noble's `commit`: G·d and G·e from its own nonces),
 * decoded without the checks its construction already guarantees (canonical, prime order, not the
 * identity). SECURITY: only for the signer's own commitment, recognised by being one it holds
 * nonces for — never for bytes from anyone else, which go through `parseNonceCommitment`.
 */
export function decodeOwnNonceCommitment(suite: Suite, wire: NonceCommitmentWire): NonceCommitment {
  const hidingBytes = fromHex(wire.hiding, 'own hiding commitment');
  const bindingBytes = fromHex(wire.binding, 'own binding commitment');
  return Object.freeze({
    suite: suite.id,
    hiding: suite.Point.fromBytes(hidingBytes),
    binding: suite.Point.fromBytes(bindingBytes),
    hidingBytes,
    bindingBytes,
    wire: Object.freeze({ hiding: wire.hiding, binding: wire.binding }),
  });
}

/** A nonce pair and its commitment, as `commitNonces` makes them. SECRET: `nonces`. */
export interface CommittedNonces {
  readonly nonces: { readonly hiding: Uint8Array; readonly binding: Uint8Array };
  readonly commitment: NonceCommitment;
}

/**
 * RFC 9591 §5.1 commit() for the signer whose share is `secret`: each nonce by nonce_generate
 * (§4.1: H3(32 bytes of `rng` || SerializeScalar(secret))), hiding first, then the commitments
 * G·d and G·e (constant time: the nonces are secret). Byte-identical to noble's `commit` given the
 * same `rng` (tested). The commitment points are kept, so the signer never decodes its own
 * commitment (noble's `commit` returns only bytes).
 */
export function commitNonces(suite: Suite, secret: bigint, rng: Rng): CommittedNonces {
  const secretBytes = suite.Fn.toBytes(secret);
  const hidingInput = concatBytes(rng(32), secretBytes);
  const bindingInput = concatBytes(rng(32), secretBytes);
  const hidingNonce = suite.hashes.H3(hidingInput);
  const bindingNonce = suite.hashes.H3(bindingInput);
  // The share's bytes are secret: wipe the copies this made (the bigints cannot be).
  for (const b of [secretBytes, hidingInput, bindingInput]) b.fill(0);
  // A zero nonce is refused, as by noble's commit (H3 gives 0 with probability 2⁻²⁵⁶).
  if (suite.Fn.is0(hidingNonce) || suite.Fn.is0(bindingNonce)) throw new RangeError('invalid scalar: out of range');
  const hiding = mulBaseSecret(suite, hidingNonce);
  const binding = mulBaseSecret(suite, bindingNonce);
  const hidingBytes = hiding.toBytes();
  const bindingBytes = binding.toBytes();
  return Object.freeze({
    nonces: Object.freeze({ hiding: suite.Fn.toBytes(hidingNonce), binding: suite.Fn.toBytes(bindingNonce) }),
    commitment: Object.freeze({
      suite: suite.id,
      hiding,
      binding,
      hidingBytes,
      bindingBytes,
      wire: Object.freeze({ hiding: toHex(hidingBytes), binding: toHex(bindingBytes) }),
    }),
  });
}

/** A point as plain data (structured-cloneable: it crosses to a worker thread as it is). */
export interface AffinePoint {
  readonly x: bigint;
  readonly y: bigint;
}

/** A parsed commitment as plain data: its points affine, with the bytes it arrived as. */
export interface PortableNonceCommitment {
  readonly hiding: AffinePoint;
  readonly binding: AffinePoint;
  readonly hidingBytes: Uint8Array;
  readonly bindingBytes: Uint8Array;
  readonly wire: NonceCommitmentWire;
}

/** `c` as plain data, for another thread of this process (no encoding, no decoding). */
export function portableNonceCommitment(c: NonceCommitment): PortableNonceCommitment {
  return {
    hiding: c.hiding.toAffine(),
    binding: c.binding.toAffine(),
    hidingBytes: c.hidingBytes,
    bindingBytes: c.bindingBytes,
    wire: c.wire,
  };
}

/**
 * The commitment `portableNonceCommitment` made, back as points: no decoding and no checks.
 * SECURITY: only for values another thread of this process parsed with `parseNonceCommitment`
 * (validated where they entered) — never for anything read from outside the process.
 */
export function nonceCommitmentFromPortable(suite: Suite, p: PortableNonceCommitment): NonceCommitment {
  return Object.freeze({
    suite: suite.id,
    hiding: suite.Point.fromAffine(p.hiding),
    binding: suite.Point.fromAffine(p.binding),
    hidingBytes: p.hidingBytes,
    bindingBytes: p.bindingBytes,
    wire: p.wire,
  });
}
