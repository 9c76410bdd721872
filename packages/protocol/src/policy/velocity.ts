/**
 * Velocity arithmetic: how much a key has signed within a rolling window, as a pure function of
 * the history of counted events. A limit is per key: each key a limit applies to has its own
 * counter. The window at `now` is (now − window, now]: an event exactly one window old has
 * expired. Events stamped after `now` (a clock stepped back) still count: a clock fault may make
 * a limit stricter, never looser.
 */
import { z } from 'zod';
import { INTENT_TYPES } from '../intent/schema.js';
import { sessionIdSchema } from '../wire/primitives.js';
import { countedValue, type PolicyFacts } from './facts.js';
import { keyMatches } from './match.js';
import { amountSchema, POLICY_LIMITS, type VelocityLimit } from './schema.js';

/** One released signature as velocity limits count it. Plain JSON: parties persist these durably. */
export const velocityEventSchema = z.strictObject({
  /** When it was admitted (ms since the epoch, the party's clock). */
  at: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  keyId: sessionIdSchema,
  intentType: z.enum(INTENT_TYPES),
  /** Value that left the key, smallest unit, decimal. */
  amount: amountSchema,
});
export type VelocityEvent = z.infer<typeof velocityEventSchema>;

/** A limit's counter for one key at one moment. */
export interface VelocityUsage {
  amount: bigint;
  count: number;
}

/** True when `limit` covers requests with these facts. */
export function limitApplies(limit: VelocityLimit, facts: Pick<PolicyFacts, 'keyId' | 'keyLabel' | 'intentType'>): boolean {
  if (limit.key !== undefined && !keyMatches(limit.key, facts)) return false;
  return limit.intentTypes === undefined || limit.intentTypes.includes(facts.intentType);
}

/** What `keyId` has used of `limit` in the window ending at `now`. */
export function usageInWindow(limit: VelocityLimit, keyId: string, history: readonly VelocityEvent[], now: number): VelocityUsage {
  const since = now - limit.windowSeconds * 1000;
  let amount = 0n;
  let count = 0;
  for (const e of history) {
    if (e.keyId !== keyId || e.at <= since) continue;
    if (limit.intentTypes !== undefined && !limit.intentTypes.includes(e.intentType)) continue;
    amount += BigInt(e.amount);
    count += 1;
  }
  return { amount, count };
}

/** The first limit admitting this request would break, with a readable why; undefined when none. */
export function velocityBreach(
  limits: readonly VelocityLimit[],
  facts: PolicyFacts,
  now: number,
  history: readonly VelocityEvent[],
): { limitId: string; reason: string } | undefined {
  const value = countedValue(facts);
  for (const limit of limits) {
    if (!limitApplies(limit, facts)) continue;
    const used = usageInWindow(limit, facts.keyId, history, now);
    if (limit.maxCount !== undefined && used.count + 1 > limit.maxCount) {
      return {
        limitId: limit.id,
        reason: `velocity ${limit.id}: ${used.count} signature(s) in the last ${limit.windowSeconds} s; one more exceeds ${limit.maxCount}`,
      };
    }
    if (limit.maxAmount !== undefined && used.amount + value > BigInt(limit.maxAmount)) {
      return {
        limitId: limit.id,
        reason: `velocity ${limit.id}: ${used.amount} used in the last ${limit.windowSeconds} s; ${value} more exceeds ${limit.maxAmount}`,
      };
    }
  }
  return undefined;
}

/**
 * Drops events no limit can still see (older than the longest window any policy may set), so the
 * history a party keeps is bounded in time whatever the next policy's windows are.
 */
export function pruneHistory(history: readonly VelocityEvent[], now: number): VelocityEvent[] {
  const since = now - POLICY_LIMITS.maxWindowSeconds * 1000;
  return history.filter((e) => e.at > since);
}
