/**
 * What an approver signs. One approval authorises one request: the key, what is to be signed (the
 * intent), the desk's context, under one version of the party policy, once (its nonce), until a
 * time (its expiry). Each party recomputes the digest from the signing package and its own policy
 * version, so nothing the coordinator adds can change what an approval covers. docs/api.md gives
 * the exact bytes, so an approver can sign without Glacis code.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalBytes } from '../canonical.js';
import { type Intent, intentDigestInput } from '../intent/schema.js';

/** Everything an approval binds. */
export interface ApprovalTerms {
  keyId: string;
  /** What is to be signed (raw bytes or a typed intent); bound in its canonical form (intent/schema.ts). */
  intent: Intent;
  /** The desk's context as submitted (JSON with integers only), or null. */
  context: unknown;
  /** The version of the party policy the approver approved under. */
  policyVersion: number;
  /** Hex, 16–32 bytes, unique per approval. */
  nonce: string;
  /** RFC 3339, exactly as it travels. */
  expiresAt: string;
}

/**
 * SHA-256(`glacis/approval/v1` ‖ 0x00 ‖ canonical JSON of
 * {context, expiresAt, intent, keyId, nonce, policyVersion}) — the 32 bytes an approval signs.
 */
export function approvalDigest(t: ApprovalTerms): Uint8Array {
  return sha256(
    canonicalBytes('glacis/approval/v1', {
      keyId: t.keyId,
      intent: intentDigestInput(t.intent),
      context: t.context ?? null,
      policyVersion: t.policyVersion,
      nonce: t.nonce,
      expiresAt: t.expiresAt,
    }),
  );
}
