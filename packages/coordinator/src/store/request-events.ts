/** The audit events a store writes itself, in the transaction that accepts a request. */
import { createHash } from 'node:crypto';
import type { NewKey, NewSignature } from './types.js';

/** `key_requested`: everything the desk asked for. */
export function keyRequestedEvent(key: NewKey): Record<string, unknown> {
  const { keyId, operationId, label, suite, threshold, parties, requestedBy } = key;
  return { keyId, operationId, label, suite, threshold, parties, requestedBy };
}

/** `signature_requested`: the request, with its message pinned by hash. */
export function signatureRequestedEvent(sig: NewSignature): Record<string, unknown> {
  const bytes = Buffer.from(sig.message, 'hex');
  return {
    signatureId: sig.signatureId,
    keyId: sig.keyId,
    // The message can be large; its hash pins it and the request row holds it in full.
    messageSha256: createHash('sha256').update(bytes).digest('hex'),
    messageBytes: bytes.length,
    context: sig.context,
    approvers: sig.approvals.map((a) => a.approverKey),
    requestedBy: sig.requestedBy,
  };
}
