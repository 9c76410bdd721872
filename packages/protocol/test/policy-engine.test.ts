/**
 * The rule engine, table-driven: first-match order, every kind of condition, the default deny, and
 * velocity limits at their exact boundaries (amount, count, window edge, other keys, clock skew).
 */
import { describe, expect, it } from 'vitest';
import { evaluatePolicy, type Policy, type PolicyDecision, type PolicyFacts, type VelocityEvent } from '../src/index.js';
import { ADDR, BTC, HOUR, keyOf, NOON_FRIDAY, policy, raw, spend } from './policy-fixtures.js';

const DAY = 24 * HOUR;

/** Whitelist + velocity: the first example of docs/policy.md, in spirit. */
const treasury: Policy = policy({
  approverGroups: { treasury: [keyOf(1), keyOf(2), keyOf(3)] },
  rules: [
    { id: 'deny-sanctioned', match: { destinations: { denylist: [ADDR.sanctioned] } }, decision: 'deny' },
    {
      id: 'small-to-known',
      match: { intentTypes: ['bitcoin-psbt'], destinations: { allowlist: [ADDR.exchange, ADDR.payroll] }, amount: { max: String(BTC) } },
      decision: 'allow',
    },
    {
      id: 'large-to-known',
      match: { destinations: { allowlist: [ADDR.exchange, ADDR.payroll, ADDR.cold] } },
      decision: 'require',
      approvals: [{ group: 'treasury', min: 2 }],
    },
    { id: 'raw-ops', match: { intentTypes: ['raw'], key: { labels: ['ops-*'] } }, decision: 'allow' },
  ],
  velocity: [{ id: 'daily', windowSeconds: 86_400, maxAmount: String(5n * BTC), maxCount: 20 }],
});

const summary = (d: PolicyDecision) => ({
  decision: d.decision,
  ruleId: d.ruleId,
  ...(d.decision === 'deny' ? { code: d.code } : {}),
});

describe('first-match rules', () => {
  const table: [string, PolicyFacts, ReturnType<typeof summary>][] = [
    ['0.5 BTC to the exchange → small-to-known', spend([[ADDR.exchange, BTC / 2n]]), { decision: 'allow', ruleId: 'small-to-known' }],
    ['exactly 1 BTC (max is inclusive) → allow', spend([[ADDR.exchange, BTC]]), { decision: 'allow', ruleId: 'small-to-known' }],
    [
      '1 BTC + 1 sat → falls through to large-to-known',
      spend([[ADDR.exchange, BTC + 1n]]),
      { decision: 'require', ruleId: 'large-to-known' },
    ],
    [
      'to cold storage (not on the small list) → require',
      spend([[ADDR.cold, BTC / 10n]]),
      { decision: 'require', ruleId: 'large-to-known' },
    ],
    [
      'one output to a sanctioned address among allowed ones → the earlier deny rule wins',
      spend([
        [ADDR.exchange, BTC / 2n],
        [ADDR.sanctioned, 1n],
      ]),
      { decision: 'deny', ruleId: 'deny-sanctioned', code: 'policy_denied' },
    ],
    [
      'an unknown address → no rule matches → default deny',
      spend([[ADDR.exchange.replace('q', 'p'), 1n]]),
      { decision: 'deny', ruleId: null, code: 'policy_no_matching_rule' },
    ],
    [
      'an output with no address (OP_RETURN) is on no allowlist → default deny',
      spend([
        [ADDR.exchange, 1n],
        [null, 0n],
      ]),
      { decision: 'deny', ruleId: null, code: 'policy_no_matching_rule' },
    ],
    ['a spend back to the key only (no destination) satisfies an allowlist', spend([]), { decision: 'allow', ruleId: 'small-to-known' }],
    ['raw bytes from an ops-* key → raw-ops', raw({ label: 'ops-signer' }), { decision: 'allow', ruleId: 'raw-ops' }],
    [
      'raw bytes from another key → default deny',
      raw({ label: 'hot-wallet' }),
      { decision: 'deny', ruleId: null, code: 'policy_no_matching_rule' },
    ],
    [
      'raw bytes from a key with no label never match a label pattern',
      raw({ label: null }),
      { decision: 'deny', ruleId: null, code: 'policy_no_matching_rule' },
    ],
    [
      'base58 addresses are case-sensitive: a re-cased sanctioned address is simply unknown',
      spend([[ADDR.sanctioned.toLowerCase(), 1n]]),
      { decision: 'deny', ruleId: null, code: 'policy_no_matching_rule' },
    ],
  ];
  for (const [name, facts, expected] of table) {
    it(name, () => {
      expect(summary(evaluatePolicy(treasury, facts, NOON_FRIDAY, []))).toEqual(expected);
    });
  }

  it('order decides: the same request under the same rules in another order gets the first match', () => {
    const [deny, small, large, rawOps] = treasury.rules;
    const reordered = policy({ ...treasury, rules: [large, small, deny, rawOps] });
    const facts = spend([[ADDR.exchange, BTC / 2n]]);
    expect(summary(evaluatePolicy(treasury, facts, NOON_FRIDAY, []))).toEqual({ decision: 'allow', ruleId: 'small-to-known' });
    expect(summary(evaluatePolicy(reordered, facts, NOON_FRIDAY, []))).toEqual({ decision: 'require', ruleId: 'large-to-known' });
    const mixed = spend([
      [ADDR.exchange, 1n],
      [ADDR.sanctioned, 1n],
    ]);
    // The sanctioned output is on no allowlist, so the deny rule is still reached after the others.
    expect(summary(evaluatePolicy(reordered, mixed, NOON_FRIDAY, []))).toEqual({
      decision: 'deny',
      ruleId: 'deny-sanctioned',
      code: 'policy_denied',
    });
  });

  it('a require decision names the groups and minimums, and what it would count', () => {
    const d = evaluatePolicy(treasury, spend([[ADDR.cold, 2n * BTC]], { fee: 500n }), NOON_FRIDAY, []);
    expect(d).toMatchObject({
      decision: 'require',
      requirement: [{ group: 'treasury', min: 2 }],
      policyVersion: 1,
      counted: { amount: String(2n * BTC + 500n), count: 1 },
    });
  });

  it('a raw intent never satisfies destination, amount or fee conditions, whichever way they point', () => {
    const p = policy({
      rules: [
        { id: 'deny-list', match: { destinations: { denylist: [ADDR.sanctioned] } }, decision: 'allow' },
        { id: 'any-amount', match: { amount: { min: '0' } }, decision: 'allow' },
        { id: 'cheap-fee', match: { fee: { max: '1000000' } }, decision: 'allow' },
      ],
    });
    expect(summary(evaluatePolicy(p, raw(), NOON_FRIDAY, []))).toEqual({ decision: 'deny', ruleId: null, code: 'policy_no_matching_rule' });
  });

  it('fee, key id, key label glob, intent type and time all gate a rule', () => {
    const p = policy({
      rules: [
        {
          id: 'night-batch',
          match: {
            key: { ids: ['key-batch'], labels: ['payout-??'] },
            intentTypes: ['bitcoin-psbt'],
            fee: { max: '20000' },
            time: { windows: [{ from: '22:00', to: '04:00' }], weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] },
          },
          decision: 'allow',
        },
      ],
    });
    const night = Date.UTC(2024, 0, 5, 23, 30);
    const ok = (f: PolicyFacts, at = night) => evaluatePolicy(p, f, at, []).decision;
    expect(ok(spend([[ADDR.payroll, BTC]], { keyId: 'key-batch', label: null }))).toBe('allow');
    expect(ok(spend([[ADDR.payroll, BTC]], { keyId: 'other', label: 'payout-07' }))).toBe('allow');
    expect(ok(spend([[ADDR.payroll, BTC]], { keyId: 'other', label: 'payout-107' }))).toBe('deny');
    expect(ok(spend([[ADDR.payroll, BTC]], { keyId: 'key-batch', fee: 20_001n }))).toBe('deny');
    expect(ok(spend([[ADDR.payroll, BTC]], { keyId: 'key-batch' }), NOON_FRIDAY)).toBe('deny');
    // Saturday 01:00 is still Friday night's window.
    expect(ok(spend([[ADDR.payroll, BTC]], { keyId: 'key-batch' }), Date.UTC(2024, 0, 6, 1))).toBe('allow');
    expect(ok(raw({ keyId: 'key-batch' }))).toBe('deny');
  });

  it('an empty rule list denies everything; an empty match allows everything it is reached for', () => {
    expect(evaluatePolicy(policy({ rules: [] }), raw(), NOON_FRIDAY, []).decision).toBe('deny');
    const open = policy({ rules: [{ id: 'all', match: {}, decision: 'allow' }] });
    expect(evaluatePolicy(open, raw(), NOON_FRIDAY, []).decision).toBe('allow');
  });
});

describe('velocity limits at the boundary', () => {
  const ev = (at: number, amount: bigint, keyId = 'key-hot', intentType: VelocityEvent['intentType'] = 'bitcoin-psbt'): VelocityEvent => ({
    at,
    keyId,
    intentType,
    amount: amount.toString(),
  });
  const now = NOON_FRIDAY;
  /** 4.5 BTC already used today (fee included), in 3 events. */
  const used = [ev(now - 20 * HOUR, 2n * BTC), ev(now - 10 * HOUR, 2n * BTC), ev(now - HOUR, BTC / 2n)];
  const send = (amount: bigint, fee = 0n) => spend([[ADDR.exchange, amount]], { fee });

  it('a request that brings the window exactly to the cap is allowed', () => {
    const d = evaluatePolicy(treasury, send(BTC / 2n), now, used);
    expect(summary(d)).toEqual({ decision: 'allow', ruleId: 'small-to-known' });
    expect(d.counted).toEqual({ amount: String(BTC / 2n), count: 1 });
  });

  it('one satoshi over the cap is refused with policy_velocity_exceeded, naming the limit', () => {
    const d = evaluatePolicy(treasury, send(BTC / 2n + 1n), now, used);
    expect(d).toMatchObject({ decision: 'deny', code: 'policy_velocity_exceeded', ruleId: 'small-to-known', limitId: 'daily' });
    expect(d.counted).toEqual({ amount: '0', count: 0 });
  });

  it('the fee counts: 0.5 BTC with a 1-sat fee is one satoshi over', () => {
    expect(evaluatePolicy(treasury, send(BTC / 2n, 1n), now, used)).toMatchObject({ code: 'policy_velocity_exceeded' });
  });

  it('an event exactly one window old has expired; one a millisecond younger still counts', () => {
    const edge = [ev(now - DAY, 5n * BTC)];
    expect(evaluatePolicy(treasury, send(BTC), now, edge).decision).toBe('allow');
    const inside = [ev(now - DAY + 1, 5n * BTC)];
    expect(evaluatePolicy(treasury, send(1n), now, inside)).toMatchObject({ code: 'policy_velocity_exceeded' });
  });

  it('count: the 20th signature in the window is allowed, the 21st is not', () => {
    const nineteen = Array.from({ length: 19 }, (_, i) => ev(now - (i + 1) * 60_000, 0n));
    expect(evaluatePolicy(treasury, send(1n), now, nineteen).decision).toBe('allow');
    const twenty = [...nineteen, ev(now - 30_000, 0n)];
    expect(evaluatePolicy(treasury, send(1n), now, twenty)).toMatchObject({ code: 'policy_velocity_exceeded', limitId: 'daily' });
  });

  it("limits are per key: another key's spending does not count", () => {
    const others = [ev(now - HOUR, 5n * BTC, 'key-other')];
    expect(evaluatePolicy(treasury, send(BTC), now, others).decision).toBe('allow');
  });

  it('events stamped in the future (the clock stepped back) still count', () => {
    expect(evaluatePolicy(treasury, send(1n), now, [ev(now + HOUR, 5n * BTC)])).toMatchObject({ code: 'policy_velocity_exceeded' });
  });

  it('approvals do not lift a velocity limit: a require rule over the cap is denied', () => {
    expect(evaluatePolicy(treasury, spend([[ADDR.cold, BTC]]), now, used)).toMatchObject({
      decision: 'deny',
      code: 'policy_velocity_exceeded',
      ruleId: 'large-to-known',
    });
  });

  it('a limit scoped to keys and intent types ignores other keys and other intents', () => {
    const p = policy({
      rules: [{ id: 'all', match: {}, decision: 'allow' }],
      velocity: [{ id: 'raw-per-hour', windowSeconds: 3600, maxCount: 1, key: { labels: ['ops-*'] }, intentTypes: ['raw'] }],
    });
    const ops = raw({ keyId: 'k-ops', label: 'ops-1' });
    const history = [ev(now - 60_000, 0n, 'k-ops', 'raw'), ev(now - 60_000, 0n, 'k-ops', 'bitcoin-psbt')];
    expect(evaluatePolicy(p, ops, now, history)).toMatchObject({ code: 'policy_velocity_exceeded', limitId: 'raw-per-hour' });
    expect(evaluatePolicy(p, ops, now, [history[1] as VelocityEvent]).decision).toBe('allow');
    expect(evaluatePolicy(p, raw({ keyId: 'k-ops', label: 'treasury' }), now, history).decision).toBe('allow');
  });

  it('maxCount 0 freezes a key; a raw request counts one signature and zero value', () => {
    const frozen = policy({
      rules: [{ id: 'all', match: {}, decision: 'allow' }],
      velocity: [{ id: 'freeze', windowSeconds: 60, maxCount: 0, key: { ids: ['key-hot'] } }],
    });
    expect(evaluatePolicy(frozen, raw(), now, [])).toMatchObject({ code: 'policy_velocity_exceeded' });
    expect(evaluatePolicy(frozen, raw({ keyId: 'key-cold' }), now, [])).toMatchObject({
      decision: 'allow',
      counted: { amount: '0', count: 1 },
    });
  });
});
