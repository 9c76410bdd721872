/**
 * What this party decides about one signing package, pure: the time, the velocity history and the
 * record of approvals counted before come in as arguments; a decision record comes out, which the
 * signing handler appends to the party's hash-chained decision log whatever the outcome.
 *
 * In this order:
 *   1. this party's own limits (`party.json`: `allowedKeys`, `maxMessageBytes`)   policy_key_not_allowed / policy_message_too_large
 *   2. every approval: an approver of the policy in force, its signature over the approval digest
 *      this party recomputes from the package (intent, key, context) and the approval's own
 *      version, nonce and expiry; under the version in force; unexpired and not valid for longer
 *      than `maxApprovalLifetimeSeconds` on this party's clock; not counted before for another
 *      request (approval-ledger.ts)                                           (a refusal reason each)
 *   3. the rules and velocity limits of the policy in force (protocol `admitRequest`) on the facts
 *      this party computed from the intent itself                    policy_denied / policy_no_matching_rule /
 *                                                                     policy_velocity_exceeded / policy_approvals_missing
 * When approvals fall short and some were refused for a reason of step 2, that reason's code is
 * the answer (`policy_approval_reused`, then `policy_approval_expired`, then `policy_version_mismatch`).
 *
 * A request admitted before (a later ROAST session of the same request, the same intent) is
 * decided again under the policy in force, against the history without its own earlier event,
 * and is not counted a second time: velocity counts each request once.
 */
import {
  type Approval,
  admitRequest,
  approvalDigest,
  fromHex,
  type InterpretedIntent,
  type MessageBody,
  type PolicyCode,
  toHex,
  type VelocityEvent,
  verifyIdentitySignature,
} from '@glacis/protocol';
import type { StaticPolicy } from '../config.js';
import type { ActivePolicy } from './policy-store.js';

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

/** One decision, as the decision log records it (plain JSON, no secrets: facts and policy only). */
export interface DecisionRecord {
  keyId: string;
  requestId: string;
  sessionId: string;
  intentType: InterpretedIntent['type'];
  /** Hex `intentDigest` of the package's intent. */
  intentDigest: string;
  policy: { source: ActivePolicy['source']; version: number; digest: string | null };
  decision: 'allow' | 'require' | 'deny';
  /** The rule that decided; null for a local limit or when no rule matched. */
  ruleId: string | null;
  /** The refusal this party answered with; null when it signed. */
  code: PolicyCode | null;
  /** The velocity limit that would break (`policy_velocity_exceeded`). */
  limitId: string | null;
  /** What this request adds to its key's velocity counters (zero when refused). */
  counted: { amount: string; count: number };
  /** Approvals this party counted for it. */
  approvals: { approverKey: string; nonce: string; digest: string }[];
  /** For `require`: which counted approver filled which group. */
  approvedBy: Record<string, string[]> | null;
  /** The velocity event recorded now; null when refused, or when this request was counted before. */
  velocity: VelocityEvent | null;
  /** The request was admitted before (a later session of it): decided again, not counted again. */
  repeat: boolean;
  reasons: string[];
}

export interface DecideInput {
  active: ActivePolicy;
  /** This party's own limits (party.json `policy`). */
  limits: Pick<StaticPolicy, 'allowedKeys' | 'maxMessageBytes' | 'maxApprovalLifetimeSeconds'>;
  sessionId: string;
  pkg: MessageBody<'signing_package'>;
  interpreted: InterpretedIntent;
  intentDigest: string;
  now: number;
  /** Every velocity event this party counted (any keys). */
  history: readonly VelocityEvent[];
  /** The event this very request (key, request id, intent) was counted with before, if it was. */
  prior: VelocityEvent | undefined;
  priorUse(approverKey: string, nonce: string): PriorUse | undefined;
}

export type Verdict = { ok: true; counted: CountedApproval[] } | { ok: false; code: PolicyCode; message: string };

/** Why an approval from a policy approver with a valid signature was not counted, most telling first. */
const NOT_COUNTED: readonly PolicyCode[] = ['policy_approval_reused', 'policy_approval_expired', 'policy_version_mismatch'];

/** The intent's size as the local `maxMessageBytes` limits it: the raw bytes, or the PSBT's. */
function intentBytes(pkg: MessageBody<'signing_package'>): number {
  return pkg.intent.type === 'raw' ? pkg.intent.message.length / 2 : Math.floor((pkg.intent.psbt.length * 3) / 4);
}

/** Step 2: the approvals that count, and why the others do not. */
function countable(i: DecideInput): { counted: CountedApproval[]; refusals: Map<PolicyCode, string> } {
  const { pkg, active, now } = i;
  const approvers = new Set(Object.values(active.document.approverGroups ?? {}).flat());
  const counted = new Map<string, CountedApproval>();
  const refusals = new Map<PolicyCode, string>();
  const latest = now + i.limits.maxApprovalLifetimeSeconds * 1000;
  for (const a of pkg.approvals as Approval[]) {
    // In this order: only a policy approver's valid signature is an approval at all; its terms next.
    if (!approvers.has(a.approverKey) || counted.has(a.approverKey)) continue;
    const terms = { policyVersion: a.policyVersion, nonce: a.nonce, expiresAt: a.expiresAt };
    const digest = approvalDigest({ keyId: pkg.keyId, intent: pkg.intent, context: pkg.context, ...terms });
    if (!verifyIdentitySignature(fromHex(a.signature), digest, fromHex(a.approverKey))) continue;
    const digestHex = toHex(digest);
    const expiresAt = Date.parse(a.expiresAt);
    const prior = i.priorUse(a.approverKey, a.nonce);
    if (a.policyVersion !== active.version) {
      refusals.set(
        'policy_version_mismatch',
        `approval for policy version ${a.policyVersion}; this party's policy is version ${active.version}`,
      );
    } else if (!(expiresAt > now)) {
      refusals.set('policy_approval_expired', `approval expired at ${a.expiresAt}`);
    } else if (expiresAt > latest) {
      refusals.set(
        'policy_approval_expired',
        `approval valid until ${a.expiresAt}, beyond this party's limit of ${i.limits.maxApprovalLifetimeSeconds} s from now`,
      );
    } else if (prior && (prior.keyId !== pkg.keyId || prior.requestId !== pkg.requestId || prior.digest !== digestHex)) {
      // The same request again (a later ROAST session) may count it again; any other may not.
      refusals.set('policy_approval_reused', `approval nonce ${a.nonce} was already counted for request ${prior.requestId}`);
    } else {
      counted.set(a.approverKey, { approverKey: a.approverKey, nonce: a.nonce, digest: digestHex, expiresAt: a.expiresAt });
    }
  }
  return { counted: [...counted.values()], refusals };
}

/** Decides on one package: the record to log and what to answer. */
export function decide(i: DecideInput): { record: DecisionRecord; verdict: Verdict } {
  const { pkg, active } = i;
  const base = {
    keyId: pkg.keyId,
    requestId: pkg.requestId,
    sessionId: i.sessionId,
    intentType: i.interpreted.type,
    intentDigest: i.intentDigest,
    policy: { source: active.source, version: active.version, digest: active.digest },
    repeat: i.prior !== undefined,
  };
  const NONE = { amount: '0', count: 0 };
  const local = (code: PolicyCode, message: string) => ({
    record: {
      ...base,
      decision: 'deny' as const,
      ruleId: null,
      code,
      limitId: null,
      counted: NONE,
      approvals: [],
      approvedBy: null,
      velocity: null,
      reasons: [`local limit: ${message}`],
    },
    verdict: { ok: false as const, code, message },
  });
  if (i.limits.allowedKeys.length > 0 && !i.limits.allowedKeys.includes(pkg.keyId)) {
    return local('policy_key_not_allowed', `key ${pkg.keyId} is not on this party's allowlist`);
  }
  const size = intentBytes(pkg);
  if (size > i.limits.maxMessageBytes) {
    return local('policy_message_too_large', `intent of ${size} bytes exceeds this party's limit of ${i.limits.maxMessageBytes}`);
  }

  const { counted, refusals } = countable(i);
  const history = i.prior === undefined ? i.history : i.history.filter((e) => e !== i.prior);
  const admission = admitRequest({
    policy: active.document,
    facts: i.interpreted.facts,
    now: i.now,
    history,
    approvers: counted.map((c) => c.approverKey),
  });
  const d = admission.decision;
  const common = {
    ...base,
    decision: d.decision,
    ruleId: d.ruleId,
    limitId: d.decision === 'deny' ? (d.limitId ?? null) : null,
  };
  if (!admission.admitted) {
    const telling = admission.code === 'policy_approvals_missing' ? NOT_COUNTED.find((c) => refusals.has(c)) : undefined;
    const code: PolicyCode = telling ?? admission.code;
    const why = telling === undefined ? admission.reasons.at(-1) : refusals.get(telling);
    const message = `policy v${active.version}: ${why ?? code}`;
    return {
      record: { ...common, code, counted: NONE, approvals: [], approvedBy: null, velocity: null, reasons: admission.reasons },
      verdict: { ok: false, code, message },
    };
  }
  const used = admission.approvedBy === null ? new Set<string>() : new Set(Object.values(admission.approvedBy).flat());
  const kept = counted.filter((c) => used.has(c.approverKey));
  return {
    record: {
      ...common,
      code: null,
      counted: d.counted,
      approvals: kept.map(({ approverKey, nonce, digest }) => ({ approverKey, nonce, digest })),
      approvedBy: admission.approvedBy,
      velocity: i.prior === undefined ? admission.event : null,
      reasons: admission.decision.reasons,
    },
    verdict: { ok: true, counted: kept },
  };
}
