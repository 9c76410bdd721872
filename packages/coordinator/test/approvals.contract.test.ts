/**
 * The approvals workflow and the distributed policy over the REST API (a fake orchestrator, a real
 * store): a request the distributed policy puts under approval waits, approvers see it, add
 * approvals or reject it, and it is released for signing exactly when the policy's requirement is
 * met. Every refusal changes nothing.
 */
import { randomBytes } from 'node:crypto';
import {
  type Approval,
  approvalDigest,
  type Intent,
  identityFromSeed,
  type Policy,
  parsePolicy,
  signPolicy,
  toHex,
} from '@glacis/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { p2wpkhDestination, taprootSpend } from '../../protocol/test/psbt-fixtures.js';
import { createHarness, type Harness, problem } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => h.close());

const person = (n: number) => identityFromSeed(new Uint8Array(32).fill(n));
const [admin1, admin2] = [person(0x65), person(0x66)];
const [alice, bob, carol, mallory] = [person(1), person(2), person(3), person(9)];
const hex = (id: ReturnType<typeof person>) => toHex(id.publicKey);

const doc = (version: number, min = 2): Policy =>
  parsePolicy({
    version,
    approverGroups: { treasury: [hex(alice), hex(bob), hex(carol)] },
    rules: [{ id: 'raw-needs-approvals', match: { intentTypes: ['raw'] }, decision: 'require', approvals: [{ group: 'treasury', min }] }],
  });
const signed = (p: Policy) => ({ policy: p, signatures: [admin1, admin2].map((a) => signPolicy(p, a)) });

function approve(who: ReturnType<typeof person>, keyId: string, intent: Intent, over: Partial<Approval> = {}): Approval {
  const terms = {
    policyVersion: over.policyVersion ?? 2,
    nonce: over.nonce ?? toHex(randomBytes(16)),
    expiresAt: over.expiresAt ?? new Date(Date.now() + 3_600_000).toISOString(),
  };
  const digest = approvalDigest({ keyId, intent, context: null, ...terms });
  return { approverKey: hex(who), signature: toHex(who.sign(digest)), ...terms };
}

async function distribute(p = doc(2)) {
  const res = await h.request('PUT', '/v1/policy', { body: signed(p) });
  expect(res.statusCode, res.body).toBe(202);
  return res.json();
}

/** A request for raw bytes under the distributed policy; returns its id and intent. */
async function waiting(keyId: string) {
  const intent: Intent = { type: 'raw', message: toHex(randomBytes(8)) };
  const res = await h.request('POST', `/v1/keys/${keyId}/signatures`, { token: 'requester', body: { intent } });
  expect(res.statusCode, res.body).toBe(202);
  return { id: res.json().signatureId as string, status: res.json().status as string, intent };
}

describe('PUT and GET /v1/policy', () => {
  test('stores a signed policy, audits it, offers it to the parties and shows it with each party’s report', async () => {
    const body = await distribute();
    expect(body).toMatchObject({ version: 2, digest: expect.stringMatching(/^[0-9a-f]{64}$/), policy: signed(doc(2)) });
    expect(h.orchestrator.policiesDistributed.map((p) => p.version)).toEqual([2]);
    h.orchestrator.policyStatus.set('alice', {
      source: 'signed',
      version: 2,
      digest: body.digest,
      reportedAt: new Date().toISOString(),
      refused: null,
    });
    const got = (await h.request('GET', '/v1/policy', { token: 'approver' })).json();
    expect(got.parties.find((p: { partyId: string }) => p.partyId === 'alice')).toMatchObject({ source: 'signed', version: 2 });
    expect(got.parties.find((p: { partyId: string }) => p.partyId === 'bob')).toMatchObject({ source: null, version: null });
    const parties = (await h.request('GET', '/v1/parties', { token: 'auditor' })).json().parties;
    expect(parties.map((p: { policyVersion: number | null }) => p.policyVersion)).toEqual([2, null, null]);
  });

  test('the same document again is answered normally; an older or equal version is 409 policy_version_conflict', async () => {
    await distribute(doc(3));
    expect((await h.request('PUT', '/v1/policy', { body: signed(doc(3)) })).statusCode).toBe(202);
    const before = h.snapshot();
    expect(problem(await h.request('PUT', '/v1/policy', { body: signed(doc(3, 1)) })).code).toBe('policy_version_conflict');
    expect(problem(await h.request('PUT', '/v1/policy', { body: signed(doc(2)) })).code).toBe('policy_version_conflict');
    expect(h.snapshot()).toBe(before);
  });

  test('refuses a malformed document (policy_invalid) and a non-admin (403), changing nothing', async () => {
    const before = h.snapshot();
    const bad = {
      policy: { version: 2, rules: [{ id: 'x', match: { destination: {} }, decision: 'allow' }] },
      signatures: signed(doc(2)).signatures,
    };
    expect(problem(await h.request('PUT', '/v1/policy', { body: bad })).code).toBe('policy_invalid');
    expect(problem(await h.request('PUT', '/v1/policy', { body: signed(doc(2)), token: 'requester' })).code).toBe('forbidden');
    expect(h.snapshot()).toBe(before);
  });

  test('?wait= answers 200 once every connected party reports the policy in force', async () => {
    const fake = await createHarness({ behaviour: { kind: 'succeed', delayMs: 1 } });
    try {
      expect((await fake.request('PUT', '/v1/policy?wait=1000', { body: signed(doc(2)) })).statusCode).toBe(200);
    } finally {
      await fake.close();
    }
  });
});

describe('requests awaiting approval', () => {
  test('without a distributed policy a request goes straight to signing', async () => {
    const keyId = await h.activeKey();
    expect((await waiting(keyId)).status).toBe('pending');
  });

  test('a request the policy puts under approval waits, is listed for approvers, and shows what is missing', async () => {
    const keyId = await h.activeKey();
    await distribute();
    const { id, status } = await waiting(keyId);
    expect(status).toBe('awaiting_approval');
    expect(h.orchestrator.signaturesRequested).toEqual([id]);
    const list = (await h.request('GET', '/v1/signatures?status=awaiting_approval', { token: 'approver' })).json();
    expect(list.signatures.map((s: { signatureId: string }) => s.signatureId)).toEqual([id]);
    expect(list.signatures[0].approvalStatus).toEqual({
      policyVersion: 2,
      ruleId: 'raw-needs-approvals',
      groups: [{ group: 'treasury', min: 2, have: 0 }],
    });
    expect((await h.request('GET', '/v1/signatures?status=completed')).json().signatures).toEqual([]);
  });

  test('approvals it comes with count: enough of them and it is not held back', async () => {
    const keyId = await h.activeKey();
    await distribute();
    const intent: Intent = { type: 'raw', message: 'c0ffee' };
    const approvals = [approve(alice, keyId, intent), approve(bob, keyId, intent)];
    const res = await h.request('POST', `/v1/keys/${keyId}/signatures`, { body: { intent, approvals } });
    expect(res.json().status).toBe('pending');
  });

  test('approvals are added one by one; the one that meets the requirement releases the request for signing', async () => {
    const keyId = await h.activeKey();
    await distribute();
    const { id, intent } = await waiting(keyId);
    const first = await h.request('POST', `/v1/signatures/${id}/approvals`, { token: 'approver', body: approve(alice, keyId, intent) });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ status: 'awaiting_approval', approvalStatus: { groups: [{ have: 1 }] } });
    expect(h.orchestrator.signaturesRequested).toEqual([id]);
    const second = await h.request('POST', `/v1/signatures/${id}/approvals`, { token: 'requester', body: approve(bob, keyId, intent) });
    expect(second.json()).toMatchObject({ status: 'pending', approvalStatus: null });
    expect(second.json().approvals.map((a: Approval) => a.approverKey)).toEqual([hex(alice), hex(bob)]);
    expect(h.orchestrator.signaturesRequested).toEqual([id, id]);
    const late = await h.request('POST', `/v1/signatures/${id}/approvals`, { body: approve(carol, keyId, intent) });
    expect(problem(late).code).toBe('signature_not_awaiting_approval');
    const audit = (await h.request('GET', '/v1/audit', { token: 'auditor' })).json().events;
    expect(
      audit.filter((e: { type: string }) => e.type === 'approval_added').map((e: { data: { released: boolean } }) => e.data.released),
    ).toEqual([false, true]);
  });

  test('an approval that would not count at a party is refused (approval_invalid) and changes nothing', async () => {
    const keyId = await h.activeKey();
    await distribute();
    const { id, intent } = await waiting(keyId);
    const before = h.snapshot();
    const other: Intent = { type: 'raw', message: 'ffff' };
    const cases: [string, Approval][] = [
      ['over another intent', approve(alice, keyId, other)],
      ['by a key in no group', approve(mallory, keyId, intent)],
      ['under another policy version', approve(alice, keyId, intent, { policyVersion: 1 })],
      ['expired', approve(alice, keyId, intent, { expiresAt: new Date(Date.now() - 1000).toISOString() })],
      ['with its nonce changed after signing', { ...approve(alice, keyId, intent), nonce: '11'.repeat(16) }],
    ];
    for (const [name, a] of cases) {
      expect(problem(await h.request('POST', `/v1/signatures/${id}/approvals`, { body: a })).code, name).toBe('approval_invalid');
    }
    expect(h.snapshot()).toBe(before);
  });

  test('the same approver twice is 409 approval_exists; the same approval under the same Idempotency-Key is answered again', async () => {
    const keyId = await h.activeKey();
    await distribute();
    const { id, intent } = await waiting(keyId);
    const a = approve(alice, keyId, intent);
    const headers = { 'idempotency-key': 'approve-1' };
    expect((await h.request('POST', `/v1/signatures/${id}/approvals`, { body: a, headers })).statusCode).toBe(200);
    expect((await h.request('POST', `/v1/signatures/${id}/approvals`, { body: a, headers })).statusCode).toBe(200);
    expect(problem(await h.request('POST', `/v1/signatures/${id}/approvals`, { body: approve(alice, keyId, intent) })).code).toBe(
      'approval_exists',
    );
    expect((await h.store.getSignature(id))?.approvals).toHaveLength(1);
  });

  test('a rejection ends the request rejected, audited with who and why; nothing can be added after', async () => {
    const keyId = await h.activeKey();
    await distribute();
    const { id, intent } = await waiting(keyId);
    const res = await h.request('POST', `/v1/signatures/${id}/rejections`, {
      token: 'approver',
      body: { reason: 'not on the payment schedule', approverKey: hex(carol) },
    });
    expect(res.json()).toMatchObject({
      status: 'rejected',
      error: { code: 'rejected', message: expect.stringContaining('payment schedule') },
    });
    expect(problem(await h.request('POST', `/v1/signatures/${id}/approvals`, { body: approve(alice, keyId, intent) })).code).toBe(
      'signature_not_awaiting_approval',
    );
    expect(problem(await h.request('POST', `/v1/signatures/${id}/rejections`, { body: { reason: 'again' } })).code).toBe(
      'signature_not_awaiting_approval',
    );
    expect(problem(await h.request('POST', `/v1/signatures/${id}/rejections`, { token: 'auditor', body: { reason: 'x' } })).code).toBe(
      'forbidden',
    );
  });
});

describe('typed intents', () => {
  test('a PSBT is checked against its key with the parties’ own code: another key’s input, a non-Taproot key', async () => {
    const xOnly = toHex(randomBytes(32));
    const tr = await h.activeKey(undefined, 2, { suite: 'secp256k1-tr', publicKey: xOnly });
    const ed = await h.activeKey();
    const ours = taprootSpend(Buffer.from(xOnly, 'hex'), [50_000n], [{ ...p2wpkhDestination(1), amount: 40_000n }]).intent;
    const theirs = taprootSpend(randomBytes(32), [50_000n], [{ ...p2wpkhDestination(1), amount: 40_000n }]).intent;
    const before = h.snapshot();
    expect(problem(await h.request('POST', `/v1/keys/${tr}/signatures`, { body: { intent: theirs } })).code).toBe('psbt_input_not_ours');
    expect(problem(await h.request('POST', `/v1/keys/${ed}/signatures`, { body: { intent: ours } })).code).toBe('intent_wrong_suite');
    expect(problem(await h.request('POST', `/v1/keys/${tr}/signatures`, { body: { intent: { ...ours, inputs: [3] } } })).code).toBe(
      'psbt_input_out_of_range',
    );
    expect(problem(await h.request('POST', `/v1/keys/${tr}/signatures`, { body: { intent: { ...ours, psbt: 'not base64' } } })).code).toBe(
      'intent_invalid',
    );
    expect(problem(await h.request('POST', `/v1/keys/${tr}/signatures`, { body: { message: 'aa', intent: ours } })).code).toBe(
      'invalid_request',
    );
    expect(h.snapshot()).toBe(before);
    const ok = await h.request('POST', `/v1/keys/${tr}/signatures`, { body: { intent: ours } });
    expect(ok.statusCode).toBe(202);
    const sig = (await h.request('GET', `/v1/signatures/${ok.json().signatureId}`)).json();
    expect(sig).toMatchObject({ intent: ours, message: null, signatures: null, finalized: null });
  });
});
