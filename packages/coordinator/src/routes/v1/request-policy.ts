/**
 * The coordinator's reading of the distributed policy for one request — for the desk's benefit
 * only. It decides whether a request waits for approvals (`awaiting_approval`) before it is sent
 * to the parties, and shows approvers what is missing. It never decides anything for a party:
 * every party evaluates its own copy of the policy on the intent it parsed itself, checks every
 * approval itself, and keeps its own velocity counters, which the coordinator does not know.
 */
import {
  type Approval,
  approvalDigest,
  type BitcoinNetwork,
  countApprovals,
  evaluatePolicy,
  fromHex,
  type Intent,
  interpretIntent,
  isProtocolError,
  type PolicyFacts,
  type SuiteId,
  verifyIdentitySignature,
} from '@glacis/protocol';
import { CoordinatorError, isErrorCode } from '../../errors.js';
import type { StoredPolicy } from '../../store/types.js';

/** The key a request names, as the coordinator holds it. */
export interface RequestKey {
  keyId: string;
  suite: SuiteId;
  /** Hex; the key is active, so it has one. */
  publicKey: string;
  label: string | null;
}

/** What a request needs before it goes to the parties, by the coordinator's reading. */
export interface ApprovalNeeds {
  policyVersion: number;
  ruleId: string;
  groups: { group: string; min: number; have: number }[];
  satisfied: boolean;
}

/**
 * The policy facts of `intent` for `key`, read with the coordinator's network setting. An intent
 * the key cannot sign is refused here with the code each party would give (`psbt_input_not_ours`, …).
 */
export function requestFacts(intent: Intent, key: RequestKey, network: BitcoinNetwork): PolicyFacts {
  try {
    return interpretIntent(intent, { ...key, publicKey: fromHex(key.publicKey) }, { bitcoinNetwork: network }).facts;
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    throw new CoordinatorError(isErrorCode(e.code) && e.code !== 'invalid_hex' ? e.code : 'intent_invalid', `intent: ${e.message}`);
  }
}

/** The terms an approval of this request signs (docs/api.md), for an approval's own version, nonce and expiry. */
export interface RequestTerms {
  keyId: string;
  intent: Intent;
  context: unknown;
}

/** Why an approval of this request would not count at a party; null when it would. */
export function approvalProblem(a: Approval, terms: RequestTerms, policy: StoredPolicy | undefined, now: number): string | null {
  const digest = approvalDigest({ ...terms, policyVersion: a.policyVersion, nonce: a.nonce, expiresAt: a.expiresAt });
  if (!verifyIdentitySignature(fromHex(a.signature), digest, fromHex(a.approverKey))) {
    return 'the signature does not verify over the approval digest of this request (docs/api.md)';
  }
  if (!(Date.parse(a.expiresAt) > now)) return `the approval expired at ${a.expiresAt}`;
  if (policy === undefined) return 'no policy has been distributed: approvals are counted under the parties’ static policies only';
  if (a.policyVersion !== policy.version)
    return `the approval is for policy version ${a.policyVersion}; the distributed version is ${policy.version}`;
  const groups = policy.signed.policy.approverGroups ?? {};
  if (!Object.values(groups).some((keys) => keys.includes(a.approverKey))) return 'the approver key is in no approver group of the policy';
  return null;
}

/**
 * The approvals the distributed policy requires of this request and how many of `approvals`
 * count towards them; null when it requires none (no policy, or its first matching rule allows or
 * denies: the parties decide those on their own).
 */
export function approvalNeeds(
  policy: StoredPolicy | undefined,
  facts: PolicyFacts,
  terms: RequestTerms,
  approvals: readonly Approval[],
  now: number,
): ApprovalNeeds | null {
  if (policy === undefined) return null;
  const doc = policy.signed.policy;
  const decision = evaluatePolicy(doc, facts, now, []);
  if (decision.decision !== 'require') return null;
  const valid = approvals.filter((a) => approvalProblem(a, terms, policy, now) === null).map((a) => a.approverKey);
  const count = countApprovals(decision.requirement, doc.approverGroups ?? {}, valid);
  return {
    policyVersion: doc.version,
    ruleId: decision.ruleId,
    groups: decision.requirement.map((r) => ({ group: r.group, min: r.min, have: count.assignment[r.group]?.length ?? 0 })),
    satisfied: count.satisfied,
  };
}
