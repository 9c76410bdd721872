/**
 * Admission: the step that decides, counts approvals and records the velocity event together.
 * A refusal leaves the history exactly as it was; an admission appends one event and forgets
 * only what no limit can see any more.
 */
import { describe, expect, it } from 'vitest';
import { admitRequest, POLICY_LIMITS, type VelocityEvent } from '../src/index.js';
import { ADDR, BTC, keyOf, NOON_FRIDAY, policy, spend } from './policy-fixtures.js';

const p = policy({
  approverGroups: { treasury: [keyOf(1), keyOf(2), keyOf(3)], risk: [keyOf(3), keyOf(4)] },
  rules: [
    { id: 'deny-sanctioned', match: { destinations: { denylist: [ADDR.sanctioned] } }, decision: 'deny' },
    { id: 'small', match: { amount: { max: String(BTC) } }, decision: 'allow' },
    {
      id: 'large',
      match: {},
      decision: 'require',
      approvals: [
        { group: 'treasury', min: 2 },
        { group: 'risk', min: 1 },
      ],
    },
  ],
  velocity: [{ id: 'daily', windowSeconds: 86_400, maxAmount: String(10n * BTC) }],
});
const now = NOON_FRIDAY;
const old: VelocityEvent = { at: now - POLICY_LIMITS.maxWindowSeconds * 1000, keyId: 'key-hot', intentType: 'raw', amount: '0' };
const recent: VelocityEvent = { at: now - 1000, keyId: 'key-hot', intentType: 'bitcoin-psbt', amount: String(BTC) };
const history = Object.freeze([old, recent]) as readonly VelocityEvent[];
const large = spend([[ADDR.cold, 3n * BTC]], { fee: 0n });

describe('admitRequest', () => {
  it('allow: records one event and drops events older than the longest possible window', () => {
    const a = admitRequest({ policy: p, facts: spend([[ADDR.exchange, BTC / 2n]], { fee: 0n }), now, history, approvers: [] });
    expect(a.admitted).toBe(true);
    if (!a.admitted) return;
    expect(a.approvedBy).toBeNull();
    expect(a.event).toEqual({ at: now, keyId: 'key-hot', intentType: 'bitcoin-psbt', amount: String(BTC / 2n) });
    expect(a.history).toEqual([recent, a.event]);
  });

  it('admitting a request does not copy the history: the pruned copy is made only when it is read', () => {
    const events = [old, recent];
    let walks = 0;
    const watched = new Proxy(events, {
      get(target, prop, receiver) {
        // pruneHistory walks the whole history (filter); a policy without velocity limits walks none of it.
        if (prop === 'filter') walks++;
        return Reflect.get(target, prop, receiver);
      },
    });
    const noLimits = { ...p, velocity: [] };
    const a = admitRequest({
      policy: noLimits,
      facts: spend([[ADDR.exchange, BTC / 2n]], { fee: 0n }),
      now,
      history: watched,
      approvers: [],
    });
    expect(a.admitted).toBe(true);
    expect(walks).toBe(0);
    expect(a.history).toEqual([recent, a.admitted ? a.event : undefined]);
    expect(walks).toBe(1);
  });

  it('require with 2 treasury + 1 risk from three distinct approvers: admitted, seats reported', () => {
    const a = admitRequest({ policy: p, facts: large, now, history, approvers: [keyOf(1), keyOf(3), keyOf(2)] });
    expect(a.admitted).toBe(true);
    if (!a.admitted) return;
    expect(a.decision).toMatchObject({ decision: 'require', ruleId: 'large' });
    expect(
      Object.values(a.approvedBy ?? {})
        .flat()
        .sort(),
    ).toEqual([keyOf(1), keyOf(2), keyOf(3)].sort());
  });

  it('an approver in two groups fills one seat only: treasury 1+3, nobody else for risk → policy_approvals_missing', () => {
    const a = admitRequest({ policy: p, facts: large, now, history, approvers: [keyOf(1), keyOf(3)] });
    expect(a).toMatchObject({ admitted: false, code: 'policy_approvals_missing' });
    expect(a.history).toBe(history);
  });

  it('approvals from keys in no required group do not count', () => {
    const a = admitRequest({ policy: p, facts: large, now, history, approvers: [keyOf(1), keyOf(4), keyOf(9)] });
    expect(a).toMatchObject({ admitted: false, code: 'policy_approvals_missing' });
  });

  it('approvals do not override a deny rule', () => {
    const a = admitRequest({
      policy: p,
      facts: spend([[ADDR.sanctioned, 1n]]),
      now,
      history,
      approvers: [keyOf(1), keyOf(2), keyOf(3), keyOf(4)],
    });
    expect(a).toMatchObject({ admitted: false, code: 'policy_denied' });
    expect(a.history).toBe(history);
  });

  it('a velocity refusal leaves the history untouched', () => {
    const full = [...history, { ...recent, amount: String(9n * BTC) }];
    const a = admitRequest({ policy: p, facts: spend([[ADDR.exchange, 1n]], { fee: 0n }), now, history: full, approvers: [] });
    expect(a).toMatchObject({ admitted: false, code: 'policy_velocity_exceeded' });
    expect(a.history).toBe(full);
  });
});
