/** The audit events a store writes itself, in the transaction that accepts a request or a policy. */
import { createHash } from 'node:crypto';
import { intentDigest, toHex } from '@glacis/protocol';
import type { NewKey, NewSignature, StoredPolicy } from './types.js';

/** `key_requested`: everything the desk asked for. */
export function keyRequestedEvent(key: NewKey): Record<string, unknown> {
  const { keyId, operationId, label, suite, threshold, parties, requestedBy } = key;
  return { keyId, operationId, label, suite, threshold, parties, requestedBy };
}

/** `signature_requested`: the request, with its intent pinned by digest (and a raw intent's bytes by hash). */
export function signatureRequestedEvent(sig: NewSignature): Record<string, unknown> {
  const bytes = sig.intent.type === 'raw' ? Buffer.from(sig.intent.message, 'hex') : null;
  return {
    signatureId: sig.signatureId,
    keyId: sig.keyId,
    status: sig.status,
    intentType: sig.intent.type,
    // The intent can be large; its digest pins it and the request row holds it in full.
    intentSha256: toHex(intentDigest(sig.intent)),
    ...(bytes === null ? {} : { messageSha256: createHash('sha256').update(bytes).digest('hex'), messageBytes: bytes.length }),
    context: sig.context,
    approvers: sig.approvals.map((a) => a.approverKey),
    requestedBy: sig.requestedBy,
  };
}

/** `policy_distributed`: the version, its digest, and who signed and who distributed it. */
export function policyDistributedEvent(p: StoredPolicy): Record<string, unknown> {
  return { version: p.version, digest: p.digest, admins: p.signed.signatures.map((s) => s.adminKey), distributedBy: p.distributedBy };
}
