/**
 * Short fingerprints of identity keys, for people comparing keys by phone or on paper before they
 * pin them: the first 128 bits of SHA-256 of the 32-byte key, as eight groups of four hex digits.
 * 128 bits keep a forged key with the same fingerprint (a second preimage) out of reach.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from './bytes.js';

/** `identityFingerprint(key)` → `"1a2b 3c4d 5e6f 7081 92a3 b4c5 d6e7 f809"`. */
export function identityFingerprint(identityPublicKey: Uint8Array): string {
  const hex = toHex(sha256(identityPublicKey).subarray(0, 16));
  return hex.replace(/(.{4})(?!$)/g, '$1 ');
}
