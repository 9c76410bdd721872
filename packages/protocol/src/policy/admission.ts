/**
 * Admission: decide AND record in one step. Velocity limits hold only if the function that checks
 * a request against the history is the one that appends it: a party that evaluated two concurrent
 * requests against the same history and recorded both afterwards would let both through a limit
 * only one of them fits. So a driver keeps one history per party, calls `admitRequest` for one
 * request at a time, persists the returned history (fsync) before the share leaves, and never
 * appends events any other way.
 */
import { countApprovals } from './approvals.js';
import { evaluatePolicy, type PolicyDecision, type PolicyRefusalCode } from './evaluate.js';
import type { PolicyFacts } from './facts.js';
import type { Policy } from './schema.js';
import { pruneHistory, type VelocityEvent } from './velocity.js';

export type Admission =
  | {
      admitted: true;
      decision: Extract<PolicyDecision, { decision: 'allow' | 'require' }>;
      /** For `require`: which verified approver filled which group; null for `allow`. */
      approvedBy: Record<string, string[]> | null;
      /** The event this request added. */
      event: VelocityEvent;
      /** The history to persist before releasing anything: pruned, with `event` appended (a new copy each time it is read). */
      readonly history: VelocityEvent[];
    }
  | {
      admitted: false;
      decision: PolicyDecision;
      code: PolicyRefusalCode;
      reasons: string[];
      /** Unchanged: a refused request is never counted. */
      history: readonly VelocityEvent[];
    };

export interface AdmissionRequest {
  policy: Policy;
  facts: PolicyFacts;
  now: number;
  history: readonly VelocityEvent[];
  /** Approver keys whose approvals the caller verified for this exact request (digest, expiry, single use). */
  approvers: readonly string[];
}

/** Evaluates the request, counts approvals, and on success returns the history with it recorded. */
export function admitRequest(req: AdmissionRequest): Admission {
  const { policy, facts, now, history } = req;
  const decision = evaluatePolicy(policy, facts, now, history);
  if (decision.decision === 'deny') return { admitted: false, decision, code: decision.code, reasons: decision.reasons, history };
  let approvedBy: Record<string, string[]> | null = null;
  if (decision.decision === 'require') {
    const count = countApprovals(decision.requirement, policy.approverGroups ?? {}, req.approvers);
    if (!count.satisfied) {
      const short = count.shortfall.map((s) => `${s.group} ${s.have}/${s.need}`).join(', ');
      return {
        admitted: false,
        decision,
        code: 'policy_approvals_missing',
        reasons: [...decision.reasons, `approvals short: ${short} (each approver counts once)`],
        history,
      };
    }
    approvedBy = count.assignment;
  }
  const event: VelocityEvent = { at: now, keyId: facts.keyId, intentType: facts.intentType, amount: decision.counted.amount };
  return {
    admitted: true,
    decision,
    approvedBy,
    event,
    // Copied when asked for: a driver that appends `event` to a history of its own (the party's
    // decision log) does not pay for copying up to 31 days of events on every request.
    get history() {
      return [...pruneHistory(history, now), event];
    },
  };
}
