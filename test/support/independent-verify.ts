/**
 * Verifies a signature with a verifier that shares no code with Glacis: OpenSSL (node:crypto) for
 * Ed25519 and Ed448, libsecp256k1 (tiny-secp256k1) for BIP-340. Suites without a standard
 * single-signer verifier fall back to the protocol package's RFC 9591 verify.
 */
import { createPublicKey, verify } from 'node:crypto';
import { fromHex, getSuite, type SuiteId } from '@glacis/protocol';
import * as secp from 'tiny-secp256k1';

/** Which verifier `verifyIndependently` uses for a suite. */
export function verifierName(suite: SuiteId): string {
  switch (suite) {
    case 'ed25519':
    case 'ed448':
      return 'OpenSSL (node:crypto)';
    case 'secp256k1-tr':
      return 'libsecp256k1 (tiny-secp256k1) BIP-340';
    default:
      return 'RFC 9591 verify (@glacis/protocol)';
  }
}

export function verifyIndependently(suite: SuiteId, publicKeyHex: string, message: Uint8Array, signatureHex: string): boolean {
  const sig = fromHex(signatureHex);
  switch (suite) {
    case 'ed25519':
    case 'ed448': {
      const key = createPublicKey({
        key: { kty: 'OKP', crv: suite === 'ed25519' ? 'Ed25519' : 'Ed448', x: Buffer.from(publicKeyHex, 'hex').toString('base64url') },
        format: 'jwk',
      });
      return verify(null, message, key, sig);
    }
    case 'secp256k1-tr':
      return secp.verifySchnorr(message, fromHex(publicKeyHex), sig);
    default:
      return getSuite(suite).verify(sig, message, fromHex(publicKeyHex));
  }
}
