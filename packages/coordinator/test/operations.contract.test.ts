/** Contract tests of GET /v1/operations/{id} and the (not yet implemented) refresh, repair and reshare. */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createHarness, type Harness, problem } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => h.close());

const OP_FIELDS = ['operationId', 'keyId', 'type', 'status', 'error', 'createdAt', 'completedAt'];

describe('GET /v1/operations/{operationId}', () => {
  test("tracks a key's DKG: pending, then completed with the key", async () => {
    const { keyId, operationId } = (await h.request('POST', '/v1/keys', { body: { suite: 'ed25519', threshold: 2 } })).json();
    const pending = (await h.request('GET', `/v1/operations/${operationId}`, { token: 'auditor' })).json();
    expect(Object.keys(pending).sort()).toEqual([...OP_FIELDS].sort());
    expect(pending).toMatchObject({ operationId, keyId, type: 'dkg', status: 'pending', error: null, completedAt: null });
    await h.store.markKeyActive(keyId, { publicKey: 'aa', verifyingShares: {}, groupCommitment: [], certificate: [] });
    const done = (await h.request('GET', `/v1/operations/${operationId}`, { token: 'requester' })).json();
    expect(done).toMatchObject({ status: 'completed', completedAt: expect.any(String) });
  });

  test('a failed DKG fails its operation with the same error', async () => {
    const { keyId, operationId } = (await h.request('POST', '/v1/keys', { body: { suite: 'ed25519', threshold: 2 } })).json();
    await h.store.markKeyFailed(keyId, { code: 'dkg_equivocation', message: 'bob sent two commitments' });
    const op = (await h.request('GET', `/v1/operations/${operationId}`)).json();
    expect(op).toMatchObject({ status: 'failed', error: { code: 'dkg_equivocation', message: 'bob sent two commitments' } });
  });

  test.each(['op_01J0000000000000000000000', '..%2f', 'o'.repeat(300), '%zz'])('answers 404 for %s', async (id) => {
    const res = await h.request('GET', `/v1/operations/${id}`);
    expect(res.statusCode).toBe(404);
    expect(problem(res).code).toBe('not_found');
  });

  test('needs a token', async () => {
    expect((await h.request('GET', '/v1/operations/op_x', { token: 'none' })).statusCode).toBe(401);
  });
});

describe('POST /v1/keys/{keyId}/refresh|repair|reshare', () => {
  const bodies = {
    refresh: {},
    repair: { partyId: 'bob' },
    reshare: { threshold: 2, parties: ['alice', 'bob', 'carol'] },
  } as const;

  test.each(Object.entries(bodies))(
    '%s: authenticates, validates, then answers 501 not_implemented with no state change',
    async (op, body) => {
      const keyId = await h.activeKey();
      const before = h.snapshot();
      const res = await h.request('POST', `/v1/keys/${keyId}/${op}`, { body });
      expect(res.statusCode).toBe(501);
      expect(problem(res).code).toBe('not_implemented');
      for (const [token, status] of [
        ['none', 401],
        ['requester', 403],
        ['auditor', 403],
      ] as const) {
        expect((await h.request('POST', `/v1/keys/${keyId}/${op}`, { token, body })).statusCode).toBe(status);
      }
      expect((await h.request('POST', `/v1/keys/nope/${op}`, { body })).statusCode).toBe(404);
      expect((await h.request('POST', `/v1/keys/${keyId}/${op}`, { body: { bogus: 1 } })).statusCode).toBe(400);
      expect(h.snapshot()).toBe(before);
    },
  );

  test('refresh takes no body at all', async () => {
    const keyId = await h.activeKey();
    const res = await h.app.inject({
      method: 'POST',
      url: `/v1/keys/${keyId}/refresh`,
      headers: { authorization: `Bearer ${h.tokens.admin}` },
    });
    expect(res.statusCode).toBe(501);
  });

  test.each([
    ['repair', { partyId: 'mallory' }, 'unknown_party'],
    ['repair', {}, 'invalid_request'],
    ['reshare', { threshold: 1, parties: ['alice', 'bob'] }, 'invalid_threshold'],
    ['reshare', { threshold: 3, parties: ['alice', 'bob'] }, 'invalid_threshold'],
    ['reshare', { threshold: 2, parties: ['alice', 'mallory'] }, 'unknown_party'],
    ['reshare', { threshold: 2 }, 'invalid_request'],
  ])('%s with %j answers 400 %s', async (op, body, code) => {
    const keyId = await h.activeKey();
    const res = await h.request('POST', `/v1/keys/${keyId}/${op}`, { body });
    expect(res.statusCode).toBe(400);
    expect(problem(res).code).toBe(code);
  });

  test('answers 409 key_not_active for a pending key', async () => {
    const { keyId } = (await h.request('POST', '/v1/keys', { body: { suite: 'ed25519', threshold: 2 } })).json();
    expect(problem(await h.request('POST', `/v1/keys/${keyId}/refresh`, { body: {} })).code).toBe('key_not_active');
  });
});
