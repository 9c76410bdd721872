/**
 * Party and coordinator identity keys: Ed25519 for signing envelopes; the matching X25519 key
 * (birational map, RFC 7748 §4.1) for end-to-end encryption, so one pinned public key covers both.
 *
 * Signing and verifying go through node:crypto (OpenSSL: ~0.04 ms to sign and ~0.2 ms to verify
 * against ~1.1 / ~1.6 ms through noble), with exactly noble's RFC 8032 strict (`zip215: false`)
 * semantics — the same signature bytes (RFC 8032 signing is deterministic) and the same verdicts:
 *
 * - OpenSSL alone would accept more: a public key of small order (with it, R = s·B verifies for
 *   any message), in any encoding, and public keys it reduces from y ≥ p. So the structural checks
 *   noble makes while decoding are made here first, in JS, on the bytes: A and R canonical (y < p;
 *   no x = 0 point with the sign bit set), S < L, and A's y not that of a small-order point.
 * - Past those checks OpenSSL accepts only what noble accepts: its check R = s·B − k·A is noble's
 *   cofactored 8·(R + k·A − s·B) = O without the factor 8. The converse fails only for R or A with
 *   a torsion component (which only the key holder can make): noble then may accept where OpenSSL
 *   does not. So an OpenSSL "no" is confirmed by noble — honest traffic never pays for that.
 *
 * test/identity.test.ts holds both halves against noble on mutated keys, signatures and messages,
 * every small-order encoding and crafted torsion signatures.
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign as opensslSign, verify as opensslVerify } from 'node:crypto';
import { ED25519_TORSION_SUBGROUP, ed25519, x25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { fromHex, type Rng, toHex } from './bytes.js';
import { ProtocolError } from './errors.js';

/** A secret identity. `toJSON` redacts it so a log line cannot leak the key. */
export interface IdentityKey {
  /** Ed25519 public key (32 bytes). */
  readonly publicKey: Uint8Array;
  /** Signs `message` with Ed25519. */
  sign(message: Uint8Array): Uint8Array;
  /** X25519 agreement of this identity's secret with a peer's X25519 public key. */
  agree(peerX25519PublicKey: Uint8Array): Uint8Array;
  /** The 32-byte seed, for the keystore only. */
  exportSeed(): Uint8Array;
  toJSON(): string;
}

/** DER prefixes of an RFC 8410 Ed25519 private key (PKCS #8, seed follows) and public key (SPKI). */
const PKCS8_PREFIX = fromHex('302e020100300506032b657004220420');
const SPKI_PREFIX = fromHex('302a300506032b6570032100');

const P = ed25519.Point.Fp.ORDER;
const L = ed25519.Point.Fn.ORDER;
const SIGN_BIT = 0x80;

/** The y of an encoded point (the 255 low bits, little-endian). */
const yOf = (encoded: Uint8Array): bigint => bytesToNumberLE(encoded) & ((1n << 255n) - 1n);

/**
 * The y coordinates of Ed25519's eight small-order points (five values: y = ±1, 0 and ±y₈). A
 * public key is small-order exactly when its y is one of these, whatever its sign bit says.
 */
const SMALL_ORDER_Y: ReadonlySet<bigint> = new Set(ED25519_TORSION_SUBGROUP.map((h) => yOf(fromHex(h))));

/** noble's strict decoding rules, on the bytes: y < p, and no x = 0 point (y = ±1) with the sign bit. */
function isCanonicalEncoding(encoded: Uint8Array): boolean {
  const y = yOf(encoded);
  if (y >= P) return false;
  return !((y === 1n || y === P - 1n) && ((encoded[31] as number) & SIGN_BIT) !== 0);
}

/**
 * The checks noble's strict verify makes before its curve equation, none of which OpenSSL makes
 * all of: canonical A and R, A not of small order, S < L. Lengths are checked by the caller.
 */
function passesStructuralChecks(signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (!isCanonicalEncoding(publicKey) || SMALL_ORDER_Y.has(yOf(publicKey))) return false;
  if (!isCanonicalEncoding(signature.subarray(0, 32))) return false;
  return bytesToNumberLE(signature.subarray(32)) < L;
}

/**
 * The fast half of `verifyIdentitySignature`: the structural checks, then OpenSSL's equation.
 * Accepts only what noble accepts (never more); may refuse a torsion-laden signature noble takes.
 * Internal (tests hold it against noble); callers use `verifyIdentitySignature`.
 */
export function opensslAcceptsIdentitySignature(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32 || !passesStructuralChecks(signature, publicKey)) return false;
  try {
    return opensslVerify(null, message, opensslPublicKey(publicKey), signature);
  } catch {
    return false;
  }
}

/**
 * OpenSSL key objects of identity public keys, by their 32 bytes. Building one from DER for each
 * verification cost as much as the verification (0.1 ms each here); a coordinator verifies the
 * envelopes of a few parties, a party those of its coordinator. Bounded (emptied when full): only
 * keys that passed the structural checks get here.
 */
const OPENSSL_KEYS_KEPT = 256;
const opensslKeys = new Map<string, KeyObject>();

function opensslPublicKey(publicKey: Uint8Array): KeyObject {
  const id = toHex(publicKey);
  let key = opensslKeys.get(id);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    if (opensslKeys.size >= OPENSSL_KEYS_KEPT) opensslKeys.clear();
    opensslKeys.set(id, key);
  }
  return key;
}

/** A new identity from 32 fresh random bytes. */
export function generateIdentity(rng: Rng): IdentityKey {
  return identityFromSeed(rng(32));
}

/** Rebuilds an identity from its stored 32-byte seed. */
export function identityFromSeed(seed: Uint8Array): IdentityKey {
  if (seed.length !== 32) throw new ProtocolError('invalid_encoding', 'identity seed: expected 32 bytes');
  const secret = seed.slice();
  const privateKey: KeyObject = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secret]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.length));
  const xSecret = ed25519.utils.toMontgomerySecret(secret);
  const identity: IdentityKey = {
    publicKey,
    // RFC 8032 signing is deterministic: OpenSSL returns noble's bytes, faster.
    sign: (message) => new Uint8Array(opensslSign(null, message, privateKey)),
    agree: (peerX) => x25519.getSharedSecret(xSecret, peerX),
    exportSeed: () => secret.slice(),
    toJSON: () => `<identity ${toHex(publicKey).slice(0, 16)}… redacted>`,
  };
  return Object.freeze(identity);
}

/** The X25519 public key of an Ed25519 identity public key. */
export function identityToX25519(identityPublicKey: Uint8Array): Uint8Array {
  try {
    return ed25519.utils.toMontgomery(identityPublicKey);
  } catch (e) {
    throw new ProtocolError('invalid_point', 'identity key: not a valid Ed25519 public key', [], { cause: e });
  }
}

/**
 * Verifies an Ed25519 identity signature with noble's RFC 8032 strict semantics (`zip215: false`:
 * canonical A and R, S < L, no small-order A, cofactored equation) — through OpenSSL, with noble
 * confirming a refusal (see the module doc). Never throws.
 */
export function verifyIdentitySignature(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  if (opensslAcceptsIdentitySignature(signature, message, publicKey)) return true;
  if (!passesStructuralChecks(signature, publicKey)) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
