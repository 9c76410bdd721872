/**
 * The policy document: a versioned, quorum-signed JSON object that every party enforces on its
 * own. Strict (an unknown field is an error, never ignored: a typo must not silently widen a
 * rule) and bounded (every list and string has a ceiling, so a hostile document cannot exhaust a
 * party). No field has a default and nothing is transformed, so the document a party verifies is
 * byte-for-byte (canonically) the one the administrators signed. docs/policy.md is the reference.
 */
import { z } from 'zod';
import { canonicalJson } from '../canonical.js';
import { ProtocolError } from '../errors.js';
import { INTENT_TYPES } from '../intent/schema.js';
import { hexSchema, sessionIdSchema } from '../wire/primitives.js';
import { groupMembers, unsatisfiedGroups } from './approvals.js';

/** Ceilings. A policy that needs more is a design smell, not a reason to raise them silently. */
export const POLICY_LIMITS = Object.freeze({
  rules: 256,
  approverGroups: 32,
  keysPerGroup: 64,
  /** Σ min over one rule's approvals: no request needs more distinct approvers than this. */
  approvalsPerRule: 64,
  addressesPerList: 4096,
  keyIdsPerMatch: 1024,
  labelPatterns: 64,
  timeWindows: 16,
  velocityLimits: 32,
  /** Longest rolling window (31 days): also how long a party must keep counted events. */
  maxWindowSeconds: 31 * 24 * 3600,
});

/** Rule, group and limit names: short, lowercase, unambiguous in logs. */
const nameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'name: 1-64 chars of a-z 0-9 . _ -, starting with a letter or digit');

/**
 * An amount in the intent's smallest unit (satoshis for bitcoin-psbt) as a decimal string: one
 * spelling per value and no float anywhere.
 */
export const amountSchema = z.string().regex(/^(0|[1-9][0-9]{0,29})$/, 'amount: a decimal string of digits, no sign, no leading zeros');

/** An Ed25519 public key (approver or administrator), lowercase hex. */
export const ed25519KeySchema = hexSchema.length(64, 'expected a 32-byte Ed25519 public key (64 hex characters)');

/**
 * A destination address as the party renders it. Bech32 addresses are case-insensitive on the
 * chain but compared as strings here, so only their canonical lowercase form is accepted.
 */
const addressSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9]+$/, 'address: letters and digits only')
  .refine((a) => !/^(bc|tb|bcrt)1/i.test(a) || a === a.toLowerCase(), 'address: bech32 addresses must be lowercase');

/** `*` matches any run of characters, `?` exactly one; everything else is literal. */
const globSchema = z.string().min(1).max(256);

/** `HH:MM` in UTC; `24:00` only as the end of a window. */
const timeOfDaySchema = z.string().regex(/^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$/, 'time: HH:MM (UTC), 00:00 to 24:00');

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const nonEmpty = (o: object) => Object.values(o).some((v) => v !== undefined);

/** Which keys a rule or limit applies to: listed ids, or labels matching a pattern. */
const keyMatchSchema = z
  .strictObject({
    ids: z.array(sessionIdSchema).min(1).max(POLICY_LIMITS.keyIdsPerMatch).optional(),
    labels: z.array(globSchema).min(1).max(POLICY_LIMITS.labelPatterns).optional(),
  })
  .refine(nonEmpty, 'key: give ids, labels or both');

/** An inclusive range of amounts; either bound may be left open. */
const rangeSchema = z
  .strictObject({ min: amountSchema.optional(), max: amountSchema.optional() })
  .refine(nonEmpty, 'range: give min, max or both')
  .refine((r) => r.min === undefined || r.max === undefined || BigInt(r.min) <= BigInt(r.max), 'range: min exceeds max');

/**
 * `allowlist`: holds when every destination is listed. `denylist`: holds when any destination
 * is listed. One per condition, so a rule never reads as both.
 */
const destinationsSchema = z
  .strictObject({
    allowlist: z.array(addressSchema).min(1).max(POLICY_LIMITS.addressesPerList).optional(),
    denylist: z.array(addressSchema).min(1).max(POLICY_LIMITS.addressesPerList).optional(),
  })
  .refine((d) => (d.allowlist === undefined) !== (d.denylist === undefined), 'destinations: give exactly one of allowlist, denylist');

/** A window from `from` (inclusive) to `to` (exclusive); `to` < `from` runs across midnight. */
const windowSchema = z
  .strictObject({ from: timeOfDaySchema, to: timeOfDaySchema })
  .refine((w) => w.from !== '24:00', 'window: 24:00 can only end a window')
  .refine((w) => w.from !== w.to, 'window: from equals to (use 00:00 to 24:00 for the whole day)');

const timeSchema = z
  .strictObject({
    windows: z.array(windowSchema).min(1).max(POLICY_LIMITS.timeWindows).optional(),
    weekdays: z.array(z.enum(WEEKDAYS)).min(1).max(7).optional(),
  })
  .refine(nonEmpty, 'time: give windows, weekdays or both');

/** Conditions of a rule; all given ones must hold (an empty match holds for every request). */
const matchSchema = z.strictObject({
  key: keyMatchSchema.optional(),
  intentTypes: z.array(z.enum(INTENT_TYPES)).min(1).max(INTENT_TYPES.length).optional(),
  destinations: destinationsSchema.optional(),
  amount: rangeSchema.optional(),
  fee: rangeSchema.optional(),
  time: timeSchema.optional(),
});

/** M approvals from the named group. */
const approvalRequirementSchema = z.strictObject({ group: nameSchema, min: z.number().int().min(1).max(POLICY_LIMITS.keysPerGroup) });

const ruleBase = { id: nameSchema, match: matchSchema };
const ruleSchema = z.discriminatedUnion('decision', [
  z.strictObject({ ...ruleBase, decision: z.literal('allow') }),
  z.strictObject({ ...ruleBase, decision: z.literal('deny') }),
  z.strictObject({
    ...ruleBase,
    decision: z.literal('require'),
    approvals: z.array(approvalRequirementSchema).min(1).max(POLICY_LIMITS.approverGroups),
  }),
]);

/** Per key: at most `maxAmount` and/or `maxCount` signatures within any rolling `windowSeconds`. */
const velocityLimitSchema = z
  .strictObject({
    id: nameSchema,
    windowSeconds: z.number().int().min(60).max(POLICY_LIMITS.maxWindowSeconds),
    maxAmount: amountSchema.optional(),
    maxCount: z.number().int().min(0).max(1_000_000).optional(),
    key: keyMatchSchema.optional(),
    intentTypes: z.array(z.enum(INTENT_TYPES)).min(1).max(INTENT_TYPES.length).optional(),
  })
  .refine((l) => l.maxAmount !== undefined || l.maxCount !== undefined, 'velocity limit: give maxAmount, maxCount or both');

const policyShape = z.strictObject({
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  approverGroups: z
    .record(nameSchema, z.array(ed25519KeySchema).min(1).max(POLICY_LIMITS.keysPerGroup))
    .refine((g) => Object.keys(g).length <= POLICY_LIMITS.approverGroups, `approverGroups: at most ${POLICY_LIMITS.approverGroups} groups`)
    .optional(),
  rules: z.array(ruleSchema).max(POLICY_LIMITS.rules),
  velocity: z.array(velocityLimitSchema).max(POLICY_LIMITS.velocityLimits).optional(),
});

/** The policy document, with the checks that span fields (names unique, groups exist and suffice). */
export const policySchema = policyShape.superRefine((p, ctx) => {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const groups = p.approverGroups ?? {};
  for (const [name, keys] of Object.entries(groups)) {
    if (new Set(keys).size !== keys.length) issue(['approverGroups', name], `group ${name} lists a key twice`);
  }
  const ruleIds = new Set<string>();
  /** Feasibility by requirement list: rules often repeat one. */
  const checked = new Map<string, boolean>();
  for (const [i, rule] of p.rules.entries()) {
    if (ruleIds.has(rule.id)) issue(['rules', i, 'id'], `rule id ${rule.id} is used twice`);
    ruleIds.add(rule.id);
    if (rule.decision !== 'require') continue;
    if (rule.approvals.reduce((sum, r) => sum + r.min, 0) > POLICY_LIMITS.approvalsPerRule) {
      issue(['rules', i, 'approvals'], `rule ${rule.id}: more than ${POLICY_LIMITS.approvalsPerRule} approvals in total`);
      continue;
    }
    const named = new Set<string>();
    for (const [j, req] of rule.approvals.entries()) {
      const members = groupMembers(groups, req.group);
      if (named.has(req.group)) issue(['rules', i, 'approvals', j], `rule ${rule.id} names group ${req.group} twice`);
      named.add(req.group);
      if (!Object.hasOwn(groups, req.group))
        issue(['rules', i, 'approvals', j, 'group'], `rule ${rule.id}: no approver group ${req.group}`);
      else if (req.min > members.length)
        issue(['rules', i, 'approvals', j, 'min'], `rule ${rule.id}: group ${req.group} has only ${members.length} keys`);
    }
    // A requirement no set of distinct approvers can ever meet would block every request it matches.
    if (named.size === rule.approvals.length && rule.approvals.every((r) => groupMembers(groups, r.group).length >= r.min)) {
      const key = canonicalJson(rule.approvals);
      let feasible = checked.get(key);
      if (feasible === undefined) {
        const everyone = rule.approvals.flatMap((r) => groupMembers(groups, r.group));
        feasible = unsatisfiedGroups(rule.approvals, groups, everyone).length === 0;
        checked.set(key, feasible);
      }
      if (!feasible) issue(['rules', i, 'approvals'], `rule ${rule.id}: no set of distinct approvers can meet every group at once`);
    }
  }
  const limitIds = new Set<string>();
  for (const [i, limit] of (p.velocity ?? []).entries()) {
    if (limitIds.has(limit.id)) issue(['velocity', i, 'id'], `velocity limit id ${limit.id} is used twice`);
    limitIds.add(limit.id);
  }
});

/** A policy document. */
export type Policy = z.infer<typeof policySchema>;
export type PolicyRule = Policy['rules'][number];
export type RuleMatch = PolicyRule['match'];
export type KeyMatch = NonNullable<RuleMatch['key']>;
export type AmountRange = NonNullable<RuleMatch['amount']>;
export type TimeCondition = NonNullable<RuleMatch['time']>;
export type DestinationCondition = NonNullable<RuleMatch['destinations']>;
export type ApprovalRequirement = z.infer<typeof approvalRequirementSchema>;
export type VelocityLimit = NonNullable<Policy['velocity']>[number];

/** The first issue of a failed parse as `path: message`. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'malformed';
  const path = issue.path.map(String).join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}

/** Parses a policy document; `policy_invalid` names the first field at fault. */
export function parsePolicy(raw: unknown): Policy {
  const r = policySchema.safeParse(raw);
  if (!r.success) throw new ProtocolError('policy_invalid', `policy: ${firstIssue(r.error)}`);
  return r.data;
}
