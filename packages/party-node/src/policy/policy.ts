/**
 * The party's own signing policy, checked before a share is released. The coordinator forwards
 * approvals but cannot forge them: each is an Ed25519 signature by an approver key pinned in this
 * party's configuration, over the request digest.
 */
import { fromHex, type MessageBody, type PolicyCode, requestDigest, toHex, verifyIdentitySignature } from '@glacis/protocol';
import type { Policy } from '../config.js';

/** A refusal's code is one of protocol's `POLICY_CODES`, so the coordinator counts it as a refusal, not a withdrawal. */
export type PolicyVerdict = { ok: true } | { ok: false; code: PolicyCode; message: string };

export function evaluatePolicy(policy: Policy, pkg: MessageBody<'signing_package'>): PolicyVerdict {
  if (policy.allowedKeys.length > 0 && !policy.allowedKeys.includes(pkg.keyId)) {
    return { ok: false, code: 'policy_key_not_allowed', message: `key ${pkg.keyId} is not on this party's allowlist` };
  }
  const size = pkg.message.length / 2;
  if (size > policy.maxMessageBytes) {
    return {
      ok: false,
      code: 'policy_message_too_large',
      message: `message of ${size} bytes exceeds this party's limit of ${policy.maxMessageBytes}`,
    };
  }
  if (policy.requiredApprovals > 0) {
    const digest = requestDigest(pkg.keyId, pkg.message, pkg.context);
    const approvers = new Set(policy.approvers);
    const valid = new Set<string>();
    for (const a of pkg.approvals) {
      if (!approvers.has(a.approverKey)) continue;
      if (verifyIdentitySignature(fromHex(a.signature), digest, fromHex(a.approverKey))) valid.add(a.approverKey);
    }
    if (valid.size < policy.requiredApprovals) {
      return {
        ok: false,
        code: 'policy_approvals_missing',
        message: `${valid.size} valid approval(s) of ${policy.requiredApprovals} required (digest ${toHex(digest)})`,
      };
    }
  }
  return { ok: true };
}
