/**
 * Party and coordinator identity keys: Ed25519 for signing envelopes; the matching X25519 key
 * (birational map, RFC 7748 §4.1) for end-to-end encryption, so one pinned public key covers both.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { type Rng, toHex } from './bytes.js';
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

/** A new identity from 32 fresh random bytes. */
export function generateIdentity(rng: Rng): IdentityKey {
  return identityFromSeed(rng(32));
}

/** Rebuilds an identity from its stored 32-byte seed. */
export function identityFromSeed(seed: Uint8Array): IdentityKey {
  if (seed.length !== 32) throw new ProtocolError('invalid_encoding', 'identity seed: expected 32 bytes');
  const secret = seed.slice();
  const publicKey = ed25519.getPublicKey(secret);
  const xSecret = ed25519.utils.toMontgomerySecret(secret);
  const identity: IdentityKey = {
    publicKey,
    sign: (message) => ed25519.sign(message, secret),
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

/** Verifies an Ed25519 identity signature (RFC 8032 strict). Never throws. */
export function verifyIdentitySignature(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
