/** Contract tests of the signature endpoints against API.md. */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createHarness, type Harness, problem } from './harness.js';

let h: Harness;
let keyId: string;
beforeEach(async () => {
  h = await createHarness();
  keyId = await h.activeKey();
});
afterEach(async () => h.close());

const SIG_FIELDS = [
  'signatureId',
  'keyId',
  'intent',
  'message',
  'context',
  'approvals',
  'status',
  'approvalStatus',
  'signature',
  'signatures',
  'finalized',
  'signers',
  'excluded',
  'error',
  'createdAt',
  'completedAt',
];
const approval = {
  approverKey: 'ab'.repeat(32),
  signature: 'cd'.repeat(64),
  nonce: '01'.repeat(16),
  expiresAt: '2030-01-01T00:00:00Z',
  policyVersion: 1,
};

describe('POST /v1/keys/{keyId}/signatures', () => {
  test('persists the request, answers 202 with its id, then hands it to the orchestrator', async () => {
    const res = await h.request('POST', `/v1/keys/${keyId}/signatures`, {
      token: 'requester',
      body: { message: 'deadbeef', context: { ticket: 'T-1', amount: 5, tags: ['a'] }, approvals: [approval] },
    });
    expect(res.statusCode).toBe(202);
    const { signatureId, status } = res.json();
    expect(status).toBe('pending');
    expect(signatureId).toMatch(/^sig_[0-9A-Z]{26}$/);
    expect(h.orchestrator.signaturesRequested).toEqual([signatureId]);
    const sig = (await h.request('GET', `/v1/signatures/${signatureId}`, { token: 'auditor' })).json();
    expect(Object.keys(sig).sort()).toEqual([...SIG_FIELDS].sort());
    expect(sig).toMatchObject({ keyId, message: 'deadbeef', context: { ticket: 'T-1', amount: 5, tags: ['a'] }, status: 'pending' });
    expect(sig).toMatchObject({ signature: null, signers: null, excluded: [], error: null, completedAt: null });
    expect((await h.store.getSignature(signatureId))?.approvals).toEqual([approval]);
    const events = (await h.store.listAudit({ limit: 10, cursor: null })).items;
    expect(events.at(-1)).toMatchObject({
      type: 'signature_requested',
      data: { signatureId, keyId, messageBytes: 4, requestedBy: 'test-requester' },
    });
  });

  test('is accepted even when no party is connected: availability is settled at the deadline', async () => {
    for (const p of ['alice', 'bob', 'carol']) h.orchestrator.disconnect(p);
    const res = await h.request('POST', `/v1/keys/${keyId}/signatures`, { body: { message: '00' } });
    expect(res.statusCode).toBe(202);
  });

  test('shows a completed signature with its signers and exclusions', async () => {
    const { signatureId } = (await h.request('POST', `/v1/keys/${keyId}/signatures`, { body: { message: '01' } })).json();
    await h.store.markSigning(signatureId);
    await h.store.addExcluded(signatureId, { partyId: 'carol', reason: 'invalid_signature_share' });
    await h.store.completeSignature(signatureId, { signature: 'ee'.repeat(64), signers: ['alice', 'bob'] });
    const sig = (await h.request('GET', `/v1/signatures/${signatureId}`)).json();
    expect(sig).toMatchObject({ status: 'completed', signature: 'ee'.repeat(64), signers: ['alice', 'bob'] });
    expect(sig.excluded).toEqual([{ partyId: 'carol', reason: 'invalid_signature_share' }]);
    expect(sig.completedAt).toEqual(expect.any(String));
  });

  const json = { 'content-type': 'application/json' };
  const rejected: [string, { body?: unknown; payload?: string; headers?: Record<string, string> }, number, string][] = [
    ['non-hex characters', { body: { message: 'xyz0' } }, 400, 'invalid_hex'],
    ['odd-length hex', { body: { message: 'abc' } }, 400, 'invalid_hex'],
    ['a single hex digit', { body: { message: 'a' } }, 400, 'invalid_hex'],
    ['uppercase hex', { body: { message: 'DEADBEEF' } }, 400, 'invalid_hex'],
    ['a 0x prefix', { body: { message: '0xdeadbeef' } }, 400, 'invalid_hex'],
    ['an empty message', { body: { message: '' } }, 400, 'empty_message'],
    ['a missing message', { body: {} }, 400, 'invalid_request'],
    ['a numeric message', { body: { message: 1234 } }, 400, 'invalid_request'],
    ['an unknown field', { body: { message: '00', priority: 1 } }, 400, 'invalid_request'],
    ['a non-object context', { body: { message: '00', context: ['a'] } }, 400, 'invalid_request'],
    ['a float in the context', { body: { message: '00', context: { amount: 1.5 } } }, 400, 'invalid_request'],
    [
      'an approval with uppercase hex',
      { body: { message: '00', approvals: [{ ...approval, approverKey: 'AB'.repeat(32) }] } },
      400,
      'invalid_hex',
    ],
    [
      'an approval key of the wrong length',
      { body: { message: '00', approvals: [{ ...approval, approverKey: 'ab' }] } },
      400,
      'invalid_request',
    ],
    ['an approval with an extra field', { body: { message: '00', approvals: [{ ...approval, by: 'x' }] } }, 400, 'invalid_request'],
    ['an approval without a nonce', { body: { message: '00', approvals: [{ ...approval, nonce: undefined }] } }, 400, 'invalid_request'],
    [
      'an approval nonce of 8 bytes',
      { body: { message: '00', approvals: [{ ...approval, nonce: '01'.repeat(8) }] } },
      400,
      'invalid_request',
    ],
    [
      'an approval expiry that is not RFC 3339',
      { body: { message: '00', approvals: [{ ...approval, expiresAt: 'tomorrow' }] } },
      400,
      'invalid_request',
    ],
    [
      'an approval for policy version 0',
      { body: { message: '00', approvals: [{ ...approval, policyVersion: 0 }] } },
      400,
      'invalid_request',
    ],
    ['malformed JSON', { payload: '{"message":', headers: json }, 400, 'invalid_json'],
    ['a body over the limit', { body: { message: 'ab'.repeat(40_000) } }, 413, 'body_too_large'],
    ['no content type', { payload: '{"message":"00"}', headers: { 'content-type': '' } }, 415, 'unsupported_media_type'],
  ];
  test.each(rejected)('rejects %s and changes nothing', async (_name, req, status, code) => {
    const before = h.snapshot();
    const res = await h.request('POST', `/v1/keys/${keyId}/signatures`, req);
    expect(res.statusCode).toBe(status);
    expect(problem(res)).toMatchObject({ status, code });
    expect(h.snapshot()).toBe(before);
    expect(h.orchestrator.signaturesRequested).toEqual([]);
  });

  test('names the bad field in the detail, as API.md shows', async () => {
    const res = await h.request('POST', `/v1/keys/${keyId}/signatures`, { body: { message: 'zz' } });
    expect(problem(res).detail).toMatch(/^message: not a hex string/);
  });

  test.each([
    ['no token', 'none', 401],
    ['an auditor token', 'auditor', 403],
  ])('refuses %s and changes nothing', async (_name, token, status) => {
    const before = h.snapshot();
    const res = await h.request('POST', `/v1/keys/${keyId}/signatures`, { token, body: { message: '00' } });
    expect(res.statusCode).toBe(status);
    expect(h.snapshot()).toBe(before);
  });

  test.each(['key_01J0000000000000000000000', '..%2f', 'x'.repeat(300), '%zz'])('answers 404 for unknown key %s', async (id) => {
    const before = h.snapshot();
    const res = await h.request('POST', `/v1/keys/${id}/signatures`, { body: { message: '00' } });
    expect(res.statusCode).toBe(404);
    expect(problem(res).code).toBe('not_found');
    expect(h.snapshot()).toBe(before);
  });

  test('answers 409 key_not_active for a pending or failed key, and changes nothing', async () => {
    const pending = (await h.request('POST', '/v1/keys', { body: { suite: 'ed25519', threshold: 2 } })).json().keyId;
    const failed = (await h.request('POST', '/v1/keys', { body: { suite: 'ed25519', threshold: 2 } })).json().keyId;
    await h.store.markKeyFailed(failed, { code: 'dkg_failed', message: 'x' });
    for (const id of [pending, failed]) {
      const before = h.snapshot();
      const res = await h.request('POST', `/v1/keys/${id}/signatures`, { body: { message: '00' } });
      expect(res.statusCode).toBe(409);
      expect(problem(res).code).toBe('key_not_active');
      expect(h.snapshot()).toBe(before);
    }
  });
});

describe('GET /v1/signatures/{signatureId}', () => {
  test.each(['sig_01J0000000000000000000000', '..%2f', 's'.repeat(300), '%00'])('answers 404 for %s', async (id) => {
    const res = await h.request('GET', `/v1/signatures/${id}`);
    expect(res.statusCode).toBe(404);
    expect(problem(res).code).toBe('not_found');
  });

  test('a key id names no signature', async () => {
    expect((await h.request('GET', `/v1/signatures/${keyId}`)).statusCode).toBe(404);
  });

  test('needs a token', async () => {
    const { signatureId } = (await h.request('POST', `/v1/keys/${keyId}/signatures`, { body: { message: '00' } })).json();
    expect((await h.request('GET', `/v1/signatures/${signatureId}`, { token: 'none' })).statusCode).toBe(401);
  });
});

describe('GET /v1/keys/{keyId}/signatures', () => {
  test("walks a key's requests across pages, and only that key's", async () => {
    const other = await h.activeKey(['alice', 'bob']);
    await h.request('POST', `/v1/keys/${other}/signatures`, { body: { message: 'ff' } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await h.request('POST', `/v1/keys/${keyId}/signatures`, { body: { message: `0${i}` } })).json().signatureId);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const url: string = `/v1/keys/${keyId}/signatures?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await h.request('GET', url, { token: 'requester' })).json();
      seen.push(...page.signatures.map((s: { signatureId: string }) => s.signatureId));
      cursor = page.nextCursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual(ids);
  });

  test('answers 404 for an unknown key and 400 for a bad limit', async () => {
    expect((await h.request('GET', '/v1/keys/nope/signatures')).statusCode).toBe(404);
    expect(problem(await h.request('GET', `/v1/keys/${keyId}/signatures?limit=1000`)).code).toBe('invalid_request');
  });
});
