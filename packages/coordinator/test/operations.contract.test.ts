/** Contract tests of GET /v1/operations/{id} and of refresh, repair, reshare and drill (the orchestrator is a fake). */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createHarness, type Harness, problem } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => h.close());

const OP_FIELDS = ['operationId', 'keyId', 'type', 'status', 'error', 'createdAt', 'completedAt', 'progress'];

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

describe('POST /v1/keys/{keyId}/refresh|repair|reshare|drill', () => {
  const bodies = {
    refresh: {},
    repair: { partyId: 'bob' },
    reshare: { threshold: 2, parties: ['alice', 'bob', 'carol'] },
    drill: {},
  } as const;

  test.each(Object.entries(bodies))(
    '%s: persists a pending Operation with its audit event, answers 202, hands it over',
    async (op, body) => {
      const keyId = await h.activeKey();
      const res = await h.request('POST', `/v1/keys/${keyId}/${op}`, { body });
      expect(res.statusCode).toBe(202);
      const accepted = res.json();
      expect(Object.keys(accepted).sort()).toEqual([...OP_FIELDS].sort());
      expect(accepted).toMatchObject({ keyId, type: op, status: 'pending', error: null, completedAt: null });
      expect(h.orchestrator.operationsCreated).toEqual([accepted.operationId]);
      expect((await h.request('GET', `/v1/operations/${accepted.operationId}`)).json()).toMatchObject({ type: op, status: 'pending' });
      const audit = (await h.request('GET', '/v1/audit?limit=500')).json().events as { type: string; data: Record<string, unknown> }[];
      expect(audit.at(-1)).toMatchObject({
        type: `${op}_requested`,
        data: { operationId: accepted.operationId, keyId, requestedBy: 'test-admin' },
      });
    },
  );

  test.each(Object.entries(bodies))('%s: admin only, an existing active key, a valid body; a refusal changes nothing', async (op, body) => {
    const keyId = await h.activeKey();
    const before = h.snapshot();
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
    expect(h.orchestrator.operationsCreated).toEqual([]);
  });

  test('?wait= answers 200 with the settled Operation; the same Idempotency-Key returns the same operation', async () => {
    await h.close();
    h = await createHarness({ behaviour: { kind: 'succeed', delayMs: 20 } });
    const keyId = await h.activeKey();
    const headers = { 'idempotency-key': 'refresh-1' };
    const first = await h.request('POST', `/v1/keys/${keyId}/refresh?wait=5000`, { body: {}, headers });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ type: 'refresh', status: 'completed' });
    const again = await h.request('POST', `/v1/keys/${keyId}/refresh`, { body: {}, headers });
    expect(again.json().operationId).toBe(first.json().operationId);
    expect(h.orchestrator.operationsCreated).toHaveLength(1);
    const repair = { 'idempotency-key': 'repair-1' };
    expect((await h.request('POST', `/v1/keys/${keyId}/repair`, { body: { partyId: 'bob' }, headers: repair })).statusCode).toBe(202);
    expect(problem(await h.request('POST', `/v1/keys/${keyId}/repair`, { body: { partyId: 'carol' }, headers: repair })).code).toBe(
      'idempotency_conflict',
    );
  });

  test('one share-changing operation per key at a time (409 operation_in_progress); a drill runs beside it', async () => {
    const keyId = await h.activeKey();
    expect((await h.request('POST', `/v1/keys/${keyId}/refresh`, { body: {} })).statusCode).toBe(202);
    const before = h.snapshot();
    for (const [op, body] of Object.entries(bodies).filter(([o]) => o !== 'drill')) {
      const res = await h.request('POST', `/v1/keys/${keyId}/${op}`, { body });
      expect(res.statusCode).toBe(409);
      expect(problem(res).code).toBe('operation_in_progress');
    }
    expect(h.snapshot()).toBe(before);
    expect((await h.request('POST', `/v1/keys/${keyId}/drill`, { body: {} })).statusCode).toBe(202);
  });

  test('refresh and drill take no body at all', async () => {
    const keyId = await h.activeKey();
    for (const op of ['refresh', 'drill']) {
      const res = await h.app.inject({
        method: 'POST',
        url: `/v1/keys/${keyId}/${op}`,
        headers: { authorization: `Bearer ${h.tokens.admin}` },
      });
      expect(res.statusCode).toBe(202);
      if (op === 'refresh') h.orchestrator.operationsCreated.length = 0;
    }
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

  test('503 parties_unavailable when those the operation needs are not connected; a drill is accepted anyway', async () => {
    const keyId = await h.activeKey();
    h.orchestrator.disconnect('carol');
    const before = h.snapshot();
    for (const [op, body] of [
      ['refresh', {}],
      ['repair', { partyId: 'carol' }],
      ['reshare', { threshold: 2, parties: ['alice', 'carol'] }],
    ] as const) {
      const res = await h.request('POST', `/v1/keys/${keyId}/${op}`, { body });
      expect(res.statusCode).toBe(503);
      expect(problem(res).code).toBe('parties_unavailable');
    }
    expect(h.snapshot()).toBe(before);
    expect((await h.request('POST', `/v1/keys/${keyId}/drill`, { body: {} })).statusCode).toBe(202);
  });

  test('an operation an offline party joins is accepted: it is reached through its outbox, never counted as not connected', async () => {
    h.orchestrator.offline.add('carol');
    h.orchestrator.disconnect('carol');
    for (const [op, body] of [
      ['refresh', {}],
      ['drill', {}],
      ['repair', { partyId: 'carol' }],
      ['reshare', { threshold: 2, parties: ['alice', 'carol'] }],
    ] as const) {
      const res = await h.request('POST', `/v1/keys/${await h.activeKey()}/${op}`, { body });
      expect([op, res.statusCode]).toEqual([op, 202]);
    }
    expect(h.orchestrator.operationsCreated).toHaveLength(4);
  });

  test('a reshare onto an offline party is accepted; an offline member counts as a repair helper (only to make up the number)', async () => {
    await h.close();
    h = await createHarness({ parties: ['alice', 'bob', 'carol', 'dave'] });
    const online = await h.activeKey(['alice', 'bob'], 2);
    h.orchestrator.offline.add('carol');
    h.orchestrator.disconnect('carol');
    const onto = await h.request('POST', `/v1/keys/${online}/reshare`, { body: { threshold: 2, parties: ['alice', 'bob', 'carol'] } });
    expect(onto.statusCode).toBe(202);
    const keyId = await h.activeKey(['alice', 'bob', 'carol', 'dave'], 2);
    const other = await h.activeKey(['alice', 'bob', 'carol', 'dave'], 2);
    // dave is down: bob's helpers are alice and the offline carol.
    h.orchestrator.disconnect('dave');
    expect((await h.request('POST', `/v1/keys/${keyId}/repair`, { body: { partyId: 'bob' } })).statusCode).toBe(202);
    // carol online but down too: one helper for two needed.
    h.orchestrator.offline.delete('carol');
    const refused = await h.request('POST', `/v1/keys/${other}/repair`, { body: { partyId: 'bob' } });
    expect([refused.statusCode, problem(refused).code]).toEqual([503, 'parties_unavailable']);
  });

  test('409 repair_not_needed for a member that reported holding its share of this generation', async () => {
    const keyId = await h.activeKey();
    h.orchestrator.shares.set(`${keyId}:bob`, 'held');
    const res = await h.request('POST', `/v1/keys/${keyId}/repair`, { body: { partyId: 'bob' } });
    expect(res.statusCode).toBe(409);
    expect(problem(res).code).toBe('repair_not_needed');
  });
});
