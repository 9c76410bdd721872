/** evaluatePolicy, table-driven: every rule, every approval check, in the order they apply. */
import type { Approval, MessageBody } from '@glacis/protocol';
import { describe, expect, it } from 'vitest';
import { makeApprover } from '../../../test/support/approvals.js';
import { policySchema } from '../src/config.js';
import { evaluatePolicy, type PriorUse } from '../src/policy/policy.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const at = (ms: number) => new Date(NOW + ms).toISOString();
const alice = makeApprover();
const bob = makeApprover();
const mallory = makeApprover(); // not pinned
const message = 'deadbeef';
const base = { keyId: 'k1', message, context: { ticket: 'T-1' }, expiresAt: at(3_600_000) };
const ok = (a = alice, over: Partial<Parameters<typeof alice.approve>[0]> = {}) => a.approve({ ...base, ...over });
const aliceOk = ok();

const pkg = (approvals: Approval[], over: Partial<MessageBody<'signing_package'>> = {}): MessageBody<'signing_package'> => ({
  keyId: 'k1',
  requestId: 'r1',
  message,
  context: { ticket: 'T-1' },
  approvals,
  commitments: [],
  ...over,
});
const policy = (over: Record<string, unknown> = {}) =>
  policySchema.parse({ approvers: [alice.approverKey, bob.approverKey], requiredApprovals: 1, ...over });

type Row = [
  name: string,
  p: ReturnType<typeof policy>,
  pkg: MessageBody<'signing_package'>,
  expected: string,
  prior?: Record<string, PriorUse>,
];
const rows: Row[] = [
  ['no rule applies', policySchema.parse({}), pkg([]), 'ok'],
  ['a key off the allowlist', policySchema.parse({ allowedKeys: ['k2'] }), pkg([]), 'policy_key_not_allowed'],
  ['a message over the size limit', policySchema.parse({ maxMessageBytes: 3 }), pkg([]), 'policy_message_too_large'],
  ['approvals required, none given', policy(), pkg([]), 'policy_approvals_missing'],
  ['one valid approval', policy(), pkg([aliceOk]), 'ok'],
  ['an approver not pinned', policy(), pkg([ok(mallory)]), 'policy_approvals_missing'],
  ['a signature over another message', policy(), pkg([ok(alice, { message: '00' })]), 'policy_approvals_missing'],
  ['a signature over another context', policy(), pkg([aliceOk], { context: { ticket: 'T-2' } }), 'policy_approvals_missing'],
  ['a signature over another key', policy(), pkg([aliceOk], { keyId: 'k2' }), 'policy_approvals_missing'],
  ['a nonce changed after signing', policy(), pkg([{ ...aliceOk, nonce: '11'.repeat(16) }]), 'policy_approvals_missing'],
  ['an expiry changed after signing', policy(), pkg([{ ...aliceOk, expiresAt: at(7_200_000) }]), 'policy_approvals_missing'],
  ['an approval for another policy version', policy(), pkg([ok(alice, { policyVersion: 2 })]), 'policy_version_mismatch'],
  ['an approval for this version (2)', policy({ version: 2 }), pkg([ok(alice, { policyVersion: 2 })]), 'ok'],
  ['an approval expired a second ago', policy(), pkg([ok(alice, { expiresAt: at(-1000) })]), 'policy_approval_expired'],
  ['an approval expiring right now', policy(), pkg([ok(alice, { expiresAt: at(0) })]), 'policy_approval_expired'],
  [
    'an approval valid longer than the policy allows',
    policy(),
    pkg([ok(alice, { expiresAt: at(8 * 86_400_000) })]),
    'policy_approval_expired',
  ],
  [
    'an approval valid exactly as long as the policy allows',
    policy({ maxApprovalLifetimeSeconds: 60 }),
    pkg([ok(alice, { expiresAt: at(60_000) })]),
    'ok',
  ],
  ['the same approver twice counts once', policy({ requiredApprovals: 2 }), pkg([aliceOk, ok()]), 'policy_approvals_missing'],
  ['two approvers', policy({ requiredApprovals: 2 }), pkg([aliceOk, ok(bob)]), 'ok'],
  [
    'an approval counted for another request',
    policy(),
    pkg([aliceOk]),
    'policy_approval_reused',
    { [`${alice.approverKey}:${aliceOk.nonce}`]: { keyId: 'k1', requestId: 'r0', digest: '' } },
  ],
  [
    'the most telling reason wins: reused over expired',
    policy({ requiredApprovals: 2 }),
    pkg([aliceOk, ok(bob, { expiresAt: at(-1) })]),
    'policy_approval_reused',
    { [`${alice.approverKey}:${aliceOk.nonce}`]: { keyId: 'k1', requestId: 'r0', digest: '' } },
  ],
];

describe('evaluatePolicy', () => {
  it.each(rows)('%s → %s', (_name, p, request, expected, prior = {}) => {
    const verdict = evaluatePolicy(p, request, { now: NOW, priorUse: (key, nonce) => prior[`${key}:${nonce}`] });
    expect(verdict.ok ? 'ok' : verdict.code).toBe(expected);
  });

  it('counts an approval again for the same request (same key, request and digest): a later ROAST session', () => {
    const first = evaluatePolicy(policy(), pkg([aliceOk]), { now: NOW, priorUse: () => undefined });
    if (!first.ok) throw new Error(first.message);
    const [use] = first.counted;
    const again = evaluatePolicy(policy(), pkg([aliceOk]), {
      now: NOW,
      priorUse: () => ({ keyId: 'k1', requestId: 'r1', digest: use!.digest }),
    });
    expect(again).toEqual(first);
  });

  it('returns what it counted, for the record of used approvals', () => {
    const v = evaluatePolicy(policy({ requiredApprovals: 2 }), pkg([aliceOk, ok(bob), ok(mallory)]), {
      now: NOW,
      priorUse: () => undefined,
    });
    expect(v.ok && v.counted.map((c) => c.approverKey).sort()).toEqual([alice.approverKey, bob.approverKey].sort());
  });

  it('says why in its message, with the policy version', () => {
    const v = evaluatePolicy(policy({ version: 3 }), pkg([ok(alice, { policyVersion: 1 })]), { now: NOW, priorUse: () => undefined });
    expect(v).toMatchObject({ ok: false, code: 'policy_version_mismatch', message: expect.stringContaining('version 3') });
  });
});
