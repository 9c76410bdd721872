/**
 * docs/policy.md is part of the contract: every example policy on it parses, the signed example
 * verifies under the administrators it names, and the decision records it shows are what the
 * engine returns. Editing either side without the other fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { admitRequest, canonicalJson, evaluatePolicy, parsePolicy, toHex, type VelocityEvent, verifySignedPolicy } from '../src/index.js';
import { ADDR, keyOf, person, spend } from './policy-fixtures.js';

const doc = readFileSync(new URL('../../../docs/policy.md', import.meta.url), 'utf8');

/** The JSON block after each `<!-- kind: name -->` marker. */
function blocks(kind: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const m of doc.matchAll(new RegExp(`<!-- ${kind}: ([a-z-]+) -->\\n\`\`\`json\\n([\\s\\S]*?)\`\`\``, 'g'))) {
    out.set(m[1] as string, JSON.parse(m[2] as string));
  }
  return out;
}

const examples = blocks('example');

describe('docs/policy.md', () => {
  it('has the three promised examples', () => {
    expect([...examples.keys()]).toEqual(['whitelist-velocity', 'two-groups', 'time-windows']);
  });

  for (const [name, raw] of examples) {
    it(`example ${name} is a valid policy, signed exactly as written`, () => {
      expect(canonicalJson(parsePolicy(raw))).toBe(canonicalJson(raw));
    });
  }

  it('the approver keys are those of the seeds the page names', () => {
    const groups = (examples.get('two-groups') as { approverGroups: Record<string, string[]> }).approverGroups;
    expect(groups).toEqual({ treasury: [keyOf(1), keyOf(2), keyOf(3)], risk: [keyOf(3), keyOf(4)] });
  });

  it('the signed example verifies with a 2-of-3 quorum of the named admins and carries example 1', () => {
    const signed = blocks('example-signed').get('whitelist-velocity');
    const pinned = [101, 102, 103].map((n) => toHex(person(n).publicKey));
    const v = verifySignedPolicy(signed, pinned, 2, null);
    expect(v.policy).toEqual(examples.get('whitelist-velocity'));
    expect(v.signers).toHaveLength(2);
  });

  it('the decision records shown are what evaluatePolicy returns', () => {
    const policy = parsePolicy(examples.get('whitelist-velocity'));
    const pay = (to: string) => spend([[to, 50_000_000n]], { keyId: 'key-hot-1', label: 'hot-payments', fee: 1000n });
    const now = Date.UTC(2024, 0, 5, 12);
    const history: VelocityEvent[] = [{ at: now - 3_600_000, keyId: 'key-hot-1', intentType: 'bitcoin-psbt', amount: '460000000' }];
    const shown = blocks('decisions').get('whitelist-velocity');
    expect([
      evaluatePolicy(policy, pay(ADDR.exchange), now, []),
      evaluatePolicy(policy, pay(ADDR.sanctioned), now, []),
      evaluatePolicy(policy, pay(ADDR.exchange), now, history),
    ]).toEqual(shown);
  });

  it('example 2 reads as its prose: three different people for a large payment, the shared key counts once', () => {
    const policy = parsePolicy(examples.get('two-groups'));
    const facts = spend([[ADDR.cold, 50_000_000n]], { keyId: 'k', label: null, fee: 0n });
    const admit = (approvers: string[]) => admitRequest({ policy, facts, now: 0, history: [], approvers });
    expect(admit([keyOf(1), keyOf(3)])).toMatchObject({ admitted: false, code: 'policy_approvals_missing' });
    expect(admit([keyOf(1), keyOf(2), keyOf(3)])).toMatchObject({ admitted: true, decision: { ruleId: 'large-to-known' } });
  });

  it('example 3 reads as its prose: weekday business hours allow, nights and weekends need the night desk', () => {
    const policy = parsePolicy(examples.get('time-windows'));
    const payroll = spend([[ADDR.payroll, 1_000_000n]], { keyId: 'key-payroll', label: null, fee: 0n });
    const at = (day: number, hour: number) => evaluatePolicy(policy, payroll, Date.UTC(2024, 0, day, hour), []).ruleId;
    // January 2024: the 5th is a Friday, the 6th and 7th the weekend, the 8th a Monday.
    expect([at(5, 8), at(5, 17), at(5, 18), at(6, 7), at(6, 12), at(7, 23), at(8, 7), at(8, 8)]).toEqual([
      'payroll-business-hours',
      'payroll-business-hours',
      'payroll-out-of-hours',
      'payroll-out-of-hours',
      'payroll-weekend',
      'payroll-out-of-hours',
      'payroll-out-of-hours',
      'payroll-business-hours',
    ]);
  });
});
