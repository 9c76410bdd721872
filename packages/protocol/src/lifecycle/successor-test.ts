/**
 * The test signature that proves a successor's shares sign before anyone switches to them
 * (refresh and reshare): once the successor's certificate is complete, every new holder signs one
 * FROST signature with its staged share, and the coordinator aggregates and verifies it under the
 * (unchanged) public key. Each holder computes the message itself from the successor it holds, so
 * a staged share signs this message and nothing else: a coordinator cannot use the test to obtain
 * a signature on a transaction before the switch.
 */
import { canonicalBytes } from '../canonical.js';
import type { PublicKeyPackage } from '../keys.js';
import { keyPackageHash } from './key-package.js';

/**
 * `"glacis/successor-test/v1" ‖ 0x00 ‖ canonical JSON {keyId, sessionId, successor}` where
 * `successor` is the `keyPackageHash` of the successor's public package. Domain-separated bytes of
 * this form are no transaction, no sighash and no approval digest of any chain Glacis signs for.
 */
export function successorTestMessage(sessionId: string, successor: PublicKeyPackage): Uint8Array {
  return canonicalBytes('glacis/successor-test/v1', { keyId: successor.keyId, sessionId, successor: keyPackageHash(successor) });
}
