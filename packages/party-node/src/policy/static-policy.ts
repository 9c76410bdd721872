/**
 * The static `party.json` policy as a policy document, so that one rule engine (protocol
 * `admitRequest`) decides every request whether or not a signed policy is active, and every
 * decision is recorded the same way. `approvers` become the group `static`; `requiredApprovals`
 * is a `require` rule over it (none: `allow`). Its `allowedKeys` and `maxMessageBytes` are local
 * limits (local-limits.ts), checked before any policy.
 */
import { type Policy, parsePolicy } from '@glacis/protocol';
import type { StaticPolicy } from '../config.js';

/** The group name the static approvers form. */
export const STATIC_GROUP = 'static';
/** The id of the static policy's one rule. */
export const STATIC_RULE = 'static';

/** The document equivalent of a static policy (same version, same approvals rule). */
export function staticPolicyDocument(p: StaticPolicy): Policy {
  const approvers = [...new Set(p.approvers)];
  return parsePolicy({
    version: p.version,
    ...(approvers.length > 0 ? { approverGroups: { [STATIC_GROUP]: approvers } } : {}),
    rules: [
      p.requiredApprovals > 0
        ? { id: STATIC_RULE, match: {}, decision: 'require', approvals: [{ group: STATIC_GROUP, min: p.requiredApprovals }] }
        : { id: STATIC_RULE, match: {}, decision: 'allow' },
    ],
  });
}
