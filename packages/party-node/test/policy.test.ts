/**
 * decide(), table-driven: this party's own limits, every approval check, and the rules of the
 * policy in force — the static party.json policy (through its equivalent document) and a signed
 * one — in the order they apply, on facts the party computed from the intent.
 */
import {
  type Approval,
  fromHex,
  type Intent,
  type InterpretedIntent,
  intentDigest,
  interpretIntent,
  type MessageBody,
  type Policy,
  parsePolicy,
  toHex,
  type VelocityEvent,
} from '@glacis/protocol';
import { describe, expect, it } from 'vitest';
import { makeApprover } from '../../../test/support/approvals.js';
import { policySchema, type StaticPolicy } from '../src/config.js';
import { decide, type PriorUse } from '../src/policy/decide.js';
import type { ActivePolicy } from '../src/policy/policy-store.js';
import { staticPolicyDocument } from '../src/policy/static-policy.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const at = (ms: number) => new Date(NOW + ms).toISOString();
const alice = makeApprover();
const bob = makeApprover();
const mallory = makeApprover(); // not an approver of any policy here
const message = 'deadbeef';
const base = { keyId: 'k1', message, context: { ticket: 'T-1' }, expiresAt: at(3_600_000) };
const ok = (a = alice, over: Partial<Parameters<typeof alice.approve>[0]> = {}) => a.approve({ ...base, ...over });
const aliceOk = ok();

const pkg = (approvals: Approval[], over: Partial<MessageBody<'signing_package'>> = {}): MessageBody<'signing_package'> => ({
  keyId: 'k1',
  requestId: 'r1',
  intent: { type: 'raw', message },
  context: { ticket: 'T-1' },
  approvals,
  commitments: [],
  ...over,
});
const policy = (over: Record<string, unknown> = {}) =>
  policySchema.parse({ approvers: [alice.approverKey, bob.approverKey], requiredApprovals: 1, ...over });

const staticActive = (p: StaticPolicy): ActivePolicy => ({
  source: 'static',
  version: p.version,
  digest: null,
  document: staticPolicyDocument(p),
  signed: null,
  activatedAt: null,
  signers: [],
});
const signedActive = (doc: Policy): ActivePolicy => ({
  source: 'signed',
  version: doc.version,
  digest: 'ab'.repeat(32),
  document: doc,
  signed: { policy: doc, signatures: [] },
  activatedAt: at(0),
  signers: [],
});

const interpret = (keyId: string, intent: Intent): InterpretedIntent =>
  interpretIntent(intent, { keyId, suite: 'ed25519', publicKey: fromHex('00'.repeat(32)), label: null }, { bitcoinNetwork: 'regtest' });

function run(
  active: ActivePolicy,
  limits: StaticPolicy,
  p: MessageBody<'signing_package'>,
  opts: { prior?: Record<string, PriorUse>; history?: VelocityEvent[]; priorEvent?: VelocityEvent } = {},
) {
  return decide({
    active,
    limits,
    sessionId: 's1',
    pkg: p,
    interpreted: interpret(p.keyId, p.intent),
    intentDigest: toHex(intentDigest(p.intent)),
    now: NOW,
    history: opts.history ?? [],
    prior: opts.priorEvent,
    priorUse: (key, nonce) => opts.prior?.[`${key}:${nonce}`],
  });
}

type Row = [name: string, p: StaticPolicy, pkg: MessageBody<'signing_package'>, expected: string, prior?: Record<string, PriorUse>];
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

describe('decide under the static policy (party.json)', () => {
  it.each(rows)('%s', (_name, p, request, expected, prior = {}) => {
    const { verdict, record } = run(staticActive(p), p, request, { prior });
    expect(verdict.ok ? 'ok' : verdict.code).toBe(expected);
    expect(record.code).toBe(verdict.ok ? null : expected);
  });

  it('counts an approval again for the same request (same key, request and digest): a later ROAST session', () => {
    const p = policy();
    const first = run(staticActive(p), p, pkg([aliceOk]));
    if (!first.verdict.ok) throw new Error(first.verdict.message);
    const [use] = first.verdict.counted;
    const prior = { [`${alice.approverKey}:${aliceOk.nonce}`]: { keyId: 'k1', requestId: 'r1', digest: use!.digest } };
    expect(run(staticActive(p), p, pkg([aliceOk]), { prior }).verdict).toEqual(first.verdict);
  });

  it('returns the approvals it used, for the record of used approvals', () => {
    const p = policy({ requiredApprovals: 2 });
    const { verdict } = run(staticActive(p), p, pkg([aliceOk, ok(bob), ok(mallory)]));
    expect(verdict.ok && verdict.counted.map((c) => c.approverKey).sort()).toEqual([alice.approverKey, bob.approverKey].sort());
  });

  it('says why in its message, with the policy version', () => {
    const p = policy({ version: 3 });
    const { verdict } = run(staticActive(p), p, pkg([ok(alice, { policyVersion: 1 })]));
    expect(verdict).toMatchObject({ ok: false, code: 'policy_version_mismatch', message: expect.stringContaining('version 3') });
  });
});

describe('decide under a signed policy', () => {
  const limits = policySchema.parse({});
  const doc = parsePolicy({
    version: 5,
    approverGroups: { treasury: [alice.approverKey, bob.approverKey] },
    rules: [
      { id: 'k9-denied', match: { key: { ids: ['k9'] } }, decision: 'deny' },
      { id: 'raw-needs-one', match: { intentTypes: ['raw'] }, decision: 'require', approvals: [{ group: 'treasury', min: 1 }] },
    ],
    velocity: [{ id: 'daily', windowSeconds: 86_400, maxCount: 1 }],
  });
  const v5 = (a = alice) => ok(a, { policyVersion: 5 });

  it('a deny rule refuses whatever the approvals (policy_denied), and the record names the rule', () => {
    const { verdict, record } = run(signedActive(doc), limits, pkg([v5(), v5(bob)], { keyId: 'k9' }));
    expect(verdict).toMatchObject({ ok: false, code: 'policy_denied' });
    expect(record).toMatchObject({ decision: 'deny', ruleId: 'k9-denied', velocity: null, policy: { source: 'signed', version: 5 } });
  });

  it('an admitted request carries its velocity event; the next one in the window is refused (policy_velocity_exceeded)', () => {
    const first = run(signedActive(doc), limits, pkg([v5()]));
    expect(first.verdict.ok).toBe(true);
    expect(first.record).toMatchObject({ decision: 'require', ruleId: 'raw-needs-one', repeat: false, counted: { count: 1 } });
    const event = first.record.velocity as VelocityEvent;
    expect(event).toMatchObject({ keyId: 'k1', intentType: 'raw', at: NOW });
    const second = run(signedActive(doc), limits, pkg([v5(bob)], { requestId: 'r2' }), { history: [event] });
    expect(second.verdict).toMatchObject({ ok: false, code: 'policy_velocity_exceeded' });
    expect(second.record).toMatchObject({ limitId: 'daily', velocity: null });
  });

  it('the same request again (a later session) is decided again without counting itself twice', () => {
    const first = run(signedActive(doc), limits, pkg([v5()]));
    const event = first.record.velocity as VelocityEvent;
    const again = run(signedActive(doc), limits, pkg([v5()]), { history: [event], priorEvent: event });
    expect(again.verdict.ok).toBe(true);
    expect(again.record).toMatchObject({ repeat: true, velocity: null });
  });

  it('an approval under the static version is not counted under the signed one (policy_version_mismatch)', () => {
    expect(run(signedActive(doc), limits, pkg([ok(alice)])).verdict).toMatchObject({ ok: false, code: 'policy_version_mismatch' });
  });

  it("the party's own limits hold under a signed policy too", () => {
    const strict = policySchema.parse({ allowedKeys: ['k2'] });
    expect(run(signedActive(doc), strict, pkg([v5()])).verdict).toMatchObject({ ok: false, code: 'policy_key_not_allowed' });
  });
});
