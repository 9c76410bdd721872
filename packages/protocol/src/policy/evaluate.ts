/**
 * The rule engine: ordered, first-match rules, then velocity limits, over facts the party
 * computed itself. Pure: the clock (`now`) and the velocity history come in as arguments; the
 * decision record comes out as plain JSON for the party's hash-chained log.
 *
 *   1. The first rule whose conditions all hold decides. No rule holds → deny
 *      (`policy_no_matching_rule`); a `deny` rule → deny (`policy_denied`).
 *   2. `allow` and `require` are then checked against every velocity limit that applies to the
 *      key; one this request would break turns the decision into a deny
 *      (`policy_velocity_exceeded`) — approvals do not lift a velocity limit.
 */

import { countedValue, type PolicyFacts } from './facts.js';
import { ruleMatches } from './match.js';
import type { ApprovalRequirement, Policy } from './schema.js';
import { type VelocityEvent, velocityBreach } from './velocity.js';

/** Why a party refuses under its policy (a ProtocolErrorCode). */
export type PolicyRefusalCode = 'policy_denied' | 'policy_no_matching_rule' | 'policy_velocity_exceeded' | 'policy_approvals_missing';

/** What admitting the request adds to its key's velocity counters (decimal amount). */
export interface Counted {
  amount: string;
  count: number;
}

interface DecisionBase {
  policyVersion: number;
  /** Zero for a deny: a refused request is never counted. */
  counted: Counted;
  /** Human-readable steps that led here (no secrets: facts and policy only). */
  reasons: string[];
}

/** A decision record. Plain JSON. */
export type PolicyDecision =
  | (DecisionBase & { decision: 'allow'; ruleId: string })
  | (DecisionBase & { decision: 'require'; ruleId: string; requirement: ApprovalRequirement[] })
  | (DecisionBase & {
      decision: 'deny';
      /** The rule that decided, or null when none matched (the default deny). */
      ruleId: string | null;
      code: Exclude<PolicyRefusalCode, 'policy_approvals_missing'>;
      /** The velocity limit that would break (`policy_velocity_exceeded` only). */
      limitId?: string;
    });

const NOTHING: Counted = Object.freeze({ amount: '0', count: 0 });

/** Decides on one request. `history` is the key's counted events (any order; others' are ignored). */
export function evaluatePolicy(policy: Policy, facts: PolicyFacts, now: number, history: readonly VelocityEvent[]): PolicyDecision {
  const policyVersion = policy.version;
  const rule = policy.rules.find((r) => ruleMatches(r.match, facts, now));
  if (rule === undefined) {
    return {
      decision: 'deny',
      ruleId: null,
      code: 'policy_no_matching_rule',
      policyVersion,
      counted: NOTHING,
      reasons: [`no rule of policy v${policyVersion} matches: default deny`],
    };
  }
  const reasons = [`rule ${rule.id} matches`];
  if (rule.decision === 'deny') {
    return { decision: 'deny', ruleId: rule.id, code: 'policy_denied', policyVersion, counted: NOTHING, reasons };
  }
  const breach = velocityBreach(policy.velocity ?? [], facts, now, history);
  if (breach !== undefined) {
    return {
      decision: 'deny',
      ruleId: rule.id,
      code: 'policy_velocity_exceeded',
      limitId: breach.limitId,
      policyVersion,
      counted: NOTHING,
      reasons: [...reasons, breach.reason],
    };
  }
  const counted: Counted = { amount: countedValue(facts).toString(), count: 1 };
  if (rule.decision === 'allow') return { decision: 'allow', ruleId: rule.id, policyVersion, counted, reasons };
  const requirement = rule.approvals.map((r) => ({ group: r.group, min: r.min }));
  reasons.push(`needs ${requirement.map((r) => `${r.min} of ${r.group}`).join(' and ')}`);
  return { decision: 'require', ruleId: rule.id, requirement, policyVersion, counted, reasons };
}
