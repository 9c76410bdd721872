/**
 * The party's own signing policy, checked before a share is released. The coordinator forwards
 * approvals but cannot forge them: each is an Ed25519 signature by an approver key pinned in this
 * party's configuration, over `approvalDigest` of the request, which this party recomputes from
 * the package and the approval's own policy version, nonce and expiry. Pure: the time and the
 * record of approvals already counted come in as arguments.
 */
import { approvalDigest, fromHex, type MessageBody, type PolicyCode, toHex, verifyIdentitySignature } from '@glacis/protocol';
import type { Policy } from '../config.js';

/** An approval this party counted for a request. */
export interface CountedApproval {
  approverKey: string;
  nonce: string;
  /** Hex approval digest: the exact terms approved. */
  digest: string;
  expiresAt: string;
}

/** The request an approval was counted for before (see approval-ledger.ts). */
export interface PriorUse {
  keyId: string;
  requestId: string;
  digest: string;
}

export interface PolicyContext {
  /** This party's clock, in ms since the epoch. */
  now: number;
  /** Where the approval (approverKey, nonce) was counted before, if it was. */
  priorUse(approverKey: string, nonce: string): PriorUse | undefined;
}

export type PolicyVerdict = { ok: true; counted: CountedApproval[] } | { ok: false; code: PolicyCode; message: string };

/** Why an approval from a pinned approver with a valid signature was not counted, most telling first. */
const NOT_COUNTED: readonly PolicyCode[] = ['policy_approval_reused', 'policy_approval_expired', 'policy_version_mismatch'];

export function evaluatePolicy(policy: Policy, pkg: MessageBody<'signing_package'>, ctx: PolicyContext): PolicyVerdict {
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
  if (policy.requiredApprovals === 0) return { ok: true, counted: [] };

  const approvers = new Set(policy.approvers);
  const counted = new Map<string, CountedApproval>();
  const refusals = new Map<PolicyCode, string>();
  const latest = ctx.now + policy.maxApprovalLifetimeSeconds * 1000;
  for (const a of pkg.approvals) {
    // In this order: only a pinned approver's valid signature is an approval at all; its terms next.
    if (!approvers.has(a.approverKey) || counted.has(a.approverKey)) continue;
    const terms = { policyVersion: a.policyVersion, nonce: a.nonce, expiresAt: a.expiresAt };
    const digest = approvalDigest({ keyId: pkg.keyId, intent: { type: 'raw', message: pkg.message }, context: pkg.context, ...terms });
    if (!verifyIdentitySignature(fromHex(a.signature), digest, fromHex(a.approverKey))) continue;
    const digestHex = toHex(digest);
    const expiresAt = Date.parse(a.expiresAt);
    const prior = ctx.priorUse(a.approverKey, a.nonce);
    if (a.policyVersion !== policy.version) {
      refusals.set(
        'policy_version_mismatch',
        `approval for policy version ${a.policyVersion}; this party's policy is version ${policy.version}`,
      );
    } else if (!(expiresAt > ctx.now)) {
      refusals.set('policy_approval_expired', `approval expired at ${a.expiresAt}`);
    } else if (expiresAt > latest) {
      refusals.set(
        'policy_approval_expired',
        `approval valid until ${a.expiresAt}, beyond this party's limit of ${policy.maxApprovalLifetimeSeconds} s from now`,
      );
    } else if (prior && (prior.keyId !== pkg.keyId || prior.requestId !== pkg.requestId || prior.digest !== digestHex)) {
      // The same request again (a later ROAST session) may count it again; any other may not.
      refusals.set('policy_approval_reused', `approval nonce ${a.nonce} was already counted for request ${prior.requestId}`);
    } else {
      counted.set(a.approverKey, { approverKey: a.approverKey, nonce: a.nonce, digest: digestHex, expiresAt: a.expiresAt });
    }
  }
  if (counted.size >= policy.requiredApprovals) return { ok: true, counted: [...counted.values()] };
  const summary = `${counted.size} valid approval(s) of ${policy.requiredApprovals} required (policy version ${policy.version})`;
  for (const code of NOT_COUNTED) {
    const why = refusals.get(code);
    if (why !== undefined) return { ok: false, code, message: `${summary}: ${why}` };
  }
  return { ok: false, code: 'policy_approvals_missing', message: summary };
}
