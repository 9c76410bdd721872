/**
 * Rule conditions. Every condition a rule gives must hold; an absent condition holds for any
 * request. Fail-closed on what cannot be known: a raw intent (opaque bytes) never satisfies a
 * destination, amount or fee condition, whichever way the condition points, so no rule that
 * reads amounts or destinations can ever be satisfied by bytes nobody can read.
 */
import type { PolicyFacts } from './facts.js';
import type { AmountRange, DestinationCondition, KeyMatch, RuleMatch } from './schema.js';
import { timeMatches } from './time-window.js';

/**
 * Glob match: `*` is any run of characters (including none), `?` exactly one, anything else
 * itself. Iterative with one backtrack point, so a hostile pattern costs O(|pattern|·|text|).
 */
export function globMatches(pattern: string, text: string): boolean {
  const p = [...pattern];
  const t = [...text];
  let pi = 0;
  let ti = 0;
  let star = -1;
  let resume = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === t[ti]))) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++resume;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** The key is listed by id, or carries a label one of the patterns matches (a key with no label matches no pattern). */
export function keyMatches(m: KeyMatch, facts: Pick<PolicyFacts, 'keyId' | 'keyLabel'>): boolean {
  if (m.ids?.includes(facts.keyId)) return true;
  const label = facts.keyLabel;
  return label !== null && (m.labels?.some((g) => globMatches(g, label)) ?? false);
}

function inRange(r: AmountRange, value: bigint): boolean {
  return (r.min === undefined || value >= BigInt(r.min)) && (r.max === undefined || value <= BigInt(r.max));
}

/**
 * `allowlist` holds when every destination is listed (a spend back to the key alone, with no
 * destination, holds); `denylist` holds when any destination is listed. A destination with no
 * address (OP_RETURN and the like) is on no list: it fails an allowlist and never hits a denylist.
 */
function destinationsMatch(cond: DestinationCondition, destinations: readonly { address: string | null }[]): boolean {
  if (cond.allowlist !== undefined) {
    const allowed = new Set(cond.allowlist);
    return destinations.every((d) => d.address !== null && allowed.has(d.address));
  }
  const denied = new Set(cond.denylist);
  return destinations.some((d) => d.address !== null && denied.has(d.address));
}

/** True when every condition of `m` holds for `facts` at `now`. */
export function ruleMatches(m: RuleMatch, facts: PolicyFacts, now: number): boolean {
  if (m.key !== undefined && !keyMatches(m.key, facts)) return false;
  if (m.intentTypes !== undefined && !m.intentTypes.includes(facts.intentType)) return false;
  if (m.time !== undefined && !timeMatches(m.time, now)) return false;
  const readsValue = m.destinations !== undefined || m.amount !== undefined || m.fee !== undefined;
  if (!readsValue) return true;
  if (facts.intentType === 'raw') return false;
  if (m.destinations !== undefined && !destinationsMatch(m.destinations, facts.destinations)) return false;
  if (m.amount !== undefined && !inRange(m.amount, facts.amount)) return false;
  return m.fee === undefined || inRange(m.fee, facts.fee);
}
