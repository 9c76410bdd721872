/** Approvals as an approver's own system makes them: Ed25519 over `approvalDigest` of the request. */
import { randomBytes } from 'node:crypto';
import { type Approval, approvalDigest, type Intent, rawIntent, toHex } from '@glacis/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';

/** What one approval is for; everything but the key and the message has a sensible default. */
export interface ApprovalRequest {
  keyId: string;
  /** The message to sign, hex (a raw intent), or the typed intent. */
  message?: string;
  intent?: Intent;
  context?: unknown;
  policyVersion?: number;
  nonce?: string;
  /** Default: an hour from now. */
  expiresAt?: string;
}

/** An approver with a fresh key. */
export function makeApprover() {
  const secret = ed25519.utils.randomSecretKey();
  const approverKey = toHex(ed25519.getPublicKey(secret));
  return {
    approverKey,
    approve(r: ApprovalRequest): Approval {
      const terms = {
        policyVersion: r.policyVersion ?? 1,
        nonce: r.nonce ?? toHex(randomBytes(16)),
        expiresAt: r.expiresAt ?? new Date(Date.now() + 3_600_000).toISOString(),
      };
      const intent = r.intent ?? rawIntent(r.message ?? '');
      const digest = approvalDigest({ keyId: r.keyId, intent, context: r.context ?? null, ...terms });
      return { approverKey, signature: toHex(ed25519.sign(digest, secret)), ...terms };
    },
  };
}
