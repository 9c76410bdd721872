/**
 * Verifiers that share no code with noble: OpenSSL (node:crypto) for Ed25519/Ed448 and
 * libsecp256k1 (tiny-secp256k1's WebAssembly build) for BIP-340. A signature they accept is one
 * any standard wallet or HSM will accept.
 */
import { createPublicKey, verify } from 'node:crypto';
import * as libsecp from 'tiny-secp256k1';
import type { SuiteId } from '../src/index.js';

/** RFC 8032 verification by OpenSSL, from the raw public key. */
export function opensslVerify(curve: 'Ed25519' | 'Ed448', signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: curve, x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' });
  return verify(null, message, key, signature);
}

/**
 * BIP-340 verification by libsecp256k1. tiny-secp256k1 only takes 32-byte messages and throws on
 * inputs it considers malformed (s or r out of range); a throw is a rejection.
 */
export function libsecpVerify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (message.length !== 32) throw new Error('tiny-secp256k1 verifies 32-byte messages only');
  try {
    return libsecp.verifySchnorr(message, publicKey, signature);
  } catch {
    return false;
  }
}

/** The independent verifier of a suite, where one exists (others have only RFC 9591 verify). */
export function independentVerifier(id: SuiteId): ((sig: Uint8Array, msg: Uint8Array, pk: Uint8Array) => boolean) | undefined {
  switch (id) {
    case 'ed25519':
      return (s, m, p) => opensslVerify('Ed25519', s, m, p);
    case 'ed448':
      return (s, m, p) => opensslVerify('Ed448', s, m, p);
    case 'secp256k1-tr':
      return libsecpVerify;
    default:
      return undefined;
  }
}
