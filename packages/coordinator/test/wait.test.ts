/** `?wait=<ms>`: answers as soon as the object settles through the store, or when the time is up. */
import { afterEach, describe, expect, test } from 'vitest';
import { fakeKeyMaterial } from '../src/testing/fake-orchestrator.js';
import { createHarness, type Harness, problem } from './harness.js';

let h: Harness;
afterEach(async () => h.close());

const keyBody = { suite: 'ed25519', threshold: 2 };
const elapsed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
};

describe('POST ?wait=', () => {
  test('POST /v1/keys?wait= answers 200 with the whole Key once the orchestrator settles it', async () => {
    h = await createHarness({ behaviour: { kind: 'succeed', delayMs: 30 } });
    const [res, ms] = await elapsed(() => h.request('POST', '/v1/keys?wait=5000', { body: keyBody }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'active', publicKey: expect.any(String), parties: ['alice', 'bob', 'carol'] });
    expect(ms).toBeLessThan(2_000);
  });

  test('POST /v1/keys?wait= answers the usual 202 when time runs out', async () => {
    h = await createHarness();
    const [res, ms] = await elapsed(() => h.request('POST', '/v1/keys?wait=150', { body: keyBody }));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'pending' });
    expect(ms).toBeGreaterThanOrEqual(140);
  });

  test('a failed DKG is settled too: 200 with the failed Key', async () => {
    h = await createHarness({ behaviour: { kind: 'fail', delayMs: 10, code: 'dkg_timeout' } });
    const res = await h.request('POST', '/v1/keys?wait=5000', { body: keyBody });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'failed', error: { code: 'dkg_timeout' } });
  });

  test('POST signatures?wait= answers 200 with the completed Signature', async () => {
    h = await createHarness();
    const keyId = await h.activeKey();
    h.orchestrator.behaviour = { kind: 'succeed', delayMs: 20 };
    const res = await h.request('POST', `/v1/keys/${keyId}/signatures?wait=5000`, { body: { message: 'aa' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'completed',
      signature: expect.stringMatching(/^[0-9a-f]{128}$/),
      signers: ['alice', 'bob'],
    });
  });

  test('wait=0 is the same as no wait', async () => {
    h = await createHarness({ behaviour: { kind: 'succeed', delayMs: 0 } });
    expect((await h.request('POST', '/v1/keys?wait=0', { body: keyBody })).statusCode).toBe(202);
  });
});

describe('GET ?wait=', () => {
  test('GET key ?wait= resolves when the store settles it mid-wait', async () => {
    h = await createHarness();
    const { keyId } = (await h.request('POST', '/v1/keys', { body: keyBody })).json();
    setTimeout(() => void h.store.markKeyActive(keyId, fakeKeyMaterial(['alice', 'bob', 'carol'])), 50);
    const [res, ms] = await elapsed(() => h.request('GET', `/v1/keys/${keyId}?wait=10000`));
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('active');
    expect(ms).toBeLessThan(5_000);
  });

  test('GET key ?wait= answers 200 with the object as it stands when time runs out', async () => {
    h = await createHarness();
    const { keyId } = (await h.request('POST', '/v1/keys', { body: keyBody })).json();
    const [res, ms] = await elapsed(() => h.request('GET', `/v1/keys/${keyId}?wait=100`));
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('pending');
    expect(ms).toBeGreaterThanOrEqual(90);
  });

  test('GET signature ?wait= resolves on failure, not only success', async () => {
    h = await createHarness();
    const keyId = await h.activeKey();
    const { signatureId } = (await h.request('POST', `/v1/keys/${keyId}/signatures`, { body: { message: '01' } })).json();
    setTimeout(() => void h.store.failSignature(signatureId, { code: 'insufficient_parties', message: 'only 1 of 2' }), 30);
    const res = await h.request('GET', `/v1/signatures/${signatureId}?wait=10000`);
    expect(res.json()).toMatchObject({ status: 'failed', error: { code: 'insufficient_parties' } });
  });

  test('GET signature ?wait= does not stop at `signing`', async () => {
    h = await createHarness();
    const keyId = await h.activeKey();
    const { signatureId } = (await h.request('POST', `/v1/keys/${keyId}/signatures`, { body: { message: '01' } })).json();
    setTimeout(() => void h.store.markSigning(signatureId), 10);
    setTimeout(() => void h.store.rejectSignature(signatureId, { code: 'policy_refused', message: 'no approvals' }), 80);
    const res = await h.request('GET', `/v1/signatures/${signatureId}?wait=10000`);
    expect(res.json().status).toBe('rejected');
  });

  test('GET operation ?wait= resolves with the DKG', async () => {
    h = await createHarness();
    const { keyId, operationId } = (await h.request('POST', '/v1/keys', { body: keyBody })).json();
    setTimeout(() => void h.store.markKeyActive(keyId, fakeKeyMaterial(['alice', 'bob', 'carol'])), 30);
    const res = await h.request('GET', `/v1/operations/${operationId}?wait=10000`);
    expect(res.json()).toMatchObject({ type: 'dkg', status: 'completed' });
  });

  test('an already settled object answers at once', async () => {
    h = await createHarness();
    const keyId = await h.activeKey();
    const [res, ms] = await elapsed(() => h.request('GET', `/v1/keys/${keyId}?wait=30000`));
    expect(res.json().status).toBe('active');
    expect(ms).toBeLessThan(1_000);
  });

  test('closing the app releases held requests', async () => {
    h = await createHarness();
    const { keyId } = (await h.request('POST', '/v1/keys', { body: keyBody })).json();
    const held = elapsed(() => h.request('GET', `/v1/keys/${keyId}?wait=30000`));
    await new Promise((r) => setTimeout(r, 30));
    await h.app.close();
    const [res, ms] = await held;
    expect(res.statusCode).toBe(200);
    expect(ms).toBeLessThan(5_000);
  });

  test.each(['30001', '-1', 'abc', '1.5', ''])('rejects ?wait=%s with 400', async (wait) => {
    h = await createHarness();
    const keyId = await h.activeKey();
    const before = h.snapshot();
    for (const res of [
      await h.request('GET', `/v1/keys/${keyId}?wait=${wait}`),
      await h.request('POST', `/v1/keys?wait=${wait}`, { body: keyBody }),
    ]) {
      expect(res.statusCode).toBe(400);
      expect(problem(res).code).toBe('invalid_request');
    }
    expect(h.snapshot()).toBe(before);
  });
});
