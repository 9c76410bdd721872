/**
 * The request digest approvers sign: SHA-256 over the canonical bytes of (keyId, message,
 * context). It is computed from what the desk submits, before the coordinator assigns an id, so
 * approvals can be collected first; put a ticket or nonce in `context` to make one approval
 * single-use.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalBytes } from '../canonical.js';

/** SHA-256(`glacis/request/v1` ‖ 0x00 ‖ canonical JSON of {context, keyId, message}). */
export function requestDigest(keyId: string, messageHex: string, context: unknown): Uint8Array {
  return sha256(canonicalBytes('glacis/request/v1', { keyId, message: messageHex, context: context ?? null }));
}
