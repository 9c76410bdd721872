/** Idempotency-Key: same body → the original answer, other body → 409, and both survive a restart. */
import { afterEach, describe, expect, test } from 'vitest';
import { hashToken } from '../src/tokens.js';
import { createHarness, type Harness, problem } from './harness.js';

let h: Harness;
afterEach(async () => h.close());

const body = { suite: 'ed25519', threshold: 2, label: 'cold' };
const idem = (key: string) => ({ 'idempotency-key': key });

describe('POST /v1/keys with Idempotency-Key', () => {
  test('the same key and body return the original answer and create one key', async () => {
    h = await createHarness();
    const first = await h.request('POST', '/v1/keys', { body, headers: idem('k-1') });
    const again = await h.request('POST', '/v1/keys', { body, headers: idem('k-1') });
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(first.json());
    expect((await h.store.listKeys({ limit: 10, cursor: null })).items).toHaveLength(1);
    expect(h.orchestrator.keysCreated).toHaveLength(1);
  });

  test('key order and whitespace do not make a different body', async () => {
    h = await createHarness();
    const first = (await h.request('POST', '/v1/keys', { body, headers: idem('k-2') })).json();
    const reordered = await h.request('POST', '/v1/keys', {
      payload: '{ "label": "cold",  "threshold": 2, "suite": "ed25519" }',
      headers: { ...idem('k-2'), 'content-type': 'application/json' },
    });
    expect(reordered.json()).toEqual(first);
  });

  test('a different body under the same key is 409 idempotency_conflict and changes nothing', async () => {
    h = await createHarness();
    await h.request('POST', '/v1/keys', { body, headers: idem('k-3') });
    const before = h.snapshot();
    const res = await h.request('POST', '/v1/keys', { body: { ...body, threshold: 3 }, headers: idem('k-3') });
    expect(res.statusCode).toBe(409);
    expect(problem(res).code).toBe('idempotency_conflict');
    expect(h.snapshot()).toBe(before);
  });

  test('keys are scoped per token: another token reusing the key gets its own key', async () => {
    h = await createHarness();
    const mine = (await h.request('POST', '/v1/keys', { body, headers: idem('shared') })).json();
    await h.store.putToken('second-admin', 'admin', hashToken('glc_second-admin-token'));
    const theirs = (await h.request('POST', '/v1/keys', { token: 'glc_second-admin-token', body, headers: idem('shared') })).json();
    expect(theirs.keyId).not.toBe(mine.keyId);
  });

  test('a failed request stores nothing: a retry with the same key can still succeed', async () => {
    h = await createHarness();
    h.orchestrator.disconnect('bob');
    expect((await h.request('POST', '/v1/keys', { body, headers: idem('k-4') })).statusCode).toBe(503);
    h.orchestrator.connect('bob');
    expect((await h.request('POST', '/v1/keys', { body, headers: idem('k-4') })).statusCode).toBe(202);
  });

  test('a replay answers from the record even if parties have since disconnected', async () => {
    h = await createHarness();
    const first = (await h.request('POST', '/v1/keys', { body, headers: idem('k-5') })).json();
    h.orchestrator.disconnect('alice');
    const again = await h.request('POST', '/v1/keys', { body, headers: idem('k-5') });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(first);
  });

  test('concurrent retries race safely: one key, one row; a different body in the race is 409', async () => {
    h = await createHarness();
    const same = await Promise.all(Array.from({ length: 5 }, () => h.request('POST', '/v1/keys', { body, headers: idem('race') })));
    expect(new Set(same.map((r) => r.json().keyId)).size).toBe(1);
    expect(same.map((r) => r.statusCode)).toEqual([202, 202, 202, 202, 202]);
    const mixed = await Promise.all([
      h.request('POST', '/v1/keys', { body, headers: idem('race-2') }),
      h.request('POST', '/v1/keys', { body: { ...body, label: 'other' }, headers: idem('race-2') }),
    ]);
    expect(mixed.map((r) => r.statusCode).sort()).toEqual([202, 409]);
    expect((await h.store.listKeys({ limit: 10, cursor: null })).items).toHaveLength(2);
    expect(h.orchestrator.keysCreated).toHaveLength(2);
  });

  test('rejects a malformed Idempotency-Key with 400', async () => {
    h = await createHarness();
    const res = await h.request('POST', '/v1/keys', { body, headers: idem('x'.repeat(300)) });
    expect(res.statusCode).toBe(400);
    expect(problem(res).code).toBe('invalid_request');
  });

  test('survives closing and reopening the store', async () => {
    h = await createHarness();
    const first = (await h.request('POST', '/v1/keys', { body, headers: idem('k-restart') })).json();
    await h.close(false);
    h = await createHarness({ dir: h.dir });
    const again = await h.request('POST', '/v1/keys', { body, headers: idem('k-restart') });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(first);
    const conflict = await h.request('POST', '/v1/keys', { body: { ...body, label: 'hot' }, headers: idem('k-restart') });
    expect(conflict.statusCode).toBe(409);
    expect((await h.store.listKeys({ limit: 10, cursor: null })).items).toHaveLength(1);
  });
});

describe('POST /v1/keys/{keyId}/signatures with Idempotency-Key', () => {
  test('the same key and body return the same signature id, across a restart', async () => {
    h = await createHarness();
    const keyId = await h.activeKey();
    const url = `/v1/keys/${keyId}/signatures`;
    const sig = { message: 'c0ffee', context: { ticket: 'T-9' } };
    const first = (await h.request('POST', url, { token: 'requester', body: sig, headers: idem('pay-1') })).json();
    expect((await h.request('POST', url, { token: 'requester', body: sig, headers: idem('pay-1') })).json()).toEqual(first);
    await h.close(false);
    h = await createHarness({ dir: h.dir });
    const again = await h.request('POST', url, { token: 'requester', body: sig, headers: idem('pay-1') });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(first);
    expect(problem(await h.request('POST', url, { token: 'requester', body: { message: 'c0ffef' }, headers: idem('pay-1') })).code).toBe(
      'idempotency_conflict',
    );
    expect((await h.store.listSignatures(keyId, { limit: 10, cursor: null })).items).toHaveLength(1);
  });

  test('the same key on another key’s endpoint is a different request', async () => {
    h = await createHarness();
    const a = await h.activeKey();
    const b = await h.activeKey(['alice', 'bob']);
    const sa = (await h.request('POST', `/v1/keys/${a}/signatures`, { body: { message: '00' }, headers: idem('same') })).json();
    const sb = (await h.request('POST', `/v1/keys/${b}/signatures`, { body: { message: '00' }, headers: idem('same') })).json();
    expect(sa.signatureId).not.toBe(sb.signatureId);
  });

  test('a replay with ?wait= answers 200 with the settled signature', async () => {
    h = await createHarness();
    const keyId = await h.activeKey();
    const url = `/v1/keys/${keyId}/signatures`;
    const { signatureId } = (await h.request('POST', url, { body: { message: '0a' }, headers: idem('w') })).json();
    await h.store.completeSignature(signatureId, { signature: '11'.repeat(64), signers: ['alice', 'bob'] });
    const res = await h.request('POST', `${url}?wait=1000`, { body: { message: '0a' }, headers: idem('w') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ signatureId, status: 'completed' });
  });
});
