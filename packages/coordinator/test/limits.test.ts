/**
 * Limits a busy or hostile client meets: a per-token request rate (429 rate_limited) and caps on
 * signing requests in flight, per key and overall (429 capacity_exceeded). Each answer carries
 * Retry-After, creates nothing, and leaves other tokens and keys alone; a request settling frees
 * its place at once.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { createHarness, type Harness, type HarnessOptions, problem } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});
const harness = async (o: HarnessOptions) => {
  h = await createHarness(o);
  return h;
};

describe('per-token rate limit', () => {
  test('a token over its rate gets 429 rate_limited with Retry-After; other tokens are unaffected', async () => {
    const hh = await harness({ config: { rateLimit: { max: 5, windowMs: 60_000 } } });
    for (let i = 0; i < 5; i++) expect((await hh.request('GET', '/v1/keys', { token: 'admin' })).statusCode).toBe(200);
    const before = hh.snapshot();
    const limited = await hh.request('GET', '/v1/keys', { token: 'admin' });
    expect(limited.statusCode).toBe(429);
    expect(problem(limited)).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // A POST over the limit creates nothing.
    const post = await hh.request('POST', '/v1/keys', { token: 'admin', body: { suite: 'ed25519', threshold: 2 } });
    expect(problem(post).code).toBe('rate_limited');
    expect(hh.snapshot()).toBe(before);
    expect((await hh.request('GET', '/v1/keys', { token: 'requester' })).statusCode).toBe(200);
  });

  test('the default limit lets a desk run 64 concurrent requests many times over', async () => {
    const hh = await harness({});
    const keyId = await hh.activeKey();
    const answers = await Promise.all(
      Array.from({ length: 320 }, (_, i) =>
        hh.request('POST', `/v1/keys/${keyId}/signatures`, { token: 'requester', body: { message: i.toString(16).padStart(4, '0') } }),
      ),
    );
    expect(answers.filter((r) => r.statusCode !== 202).map((r) => r.body)).toEqual([]);
  }, 60_000);
});

describe('signing requests in flight', () => {
  const sign = (hh: Harness, keyId: string, i: number) =>
    hh.request('POST', `/v1/keys/${keyId}/signatures`, { token: 'requester', body: { message: i.toString(16).padStart(4, '0') } });

  test('past the per-key cap: 429 capacity_exceeded with Retry-After, nothing created; other keys still sign', async () => {
    const hh = await harness({ config: { maxSigningInFlightPerKey: 3, maxSigningInFlight: 100 } });
    const a = await hh.activeKey();
    const b = await hh.activeKey();
    for (let i = 0; i < 3; i++) expect((await sign(hh, a, i)).statusCode).toBe(202);
    const before = hh.snapshot();
    const over = await sign(hh, a, 3);
    expect(over.statusCode).toBe(429);
    expect(problem(over)).toMatchObject({ code: 'capacity_exceeded' });
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(hh.snapshot()).toBe(before);
    expect(hh.orchestrator.signaturesRequested).toHaveLength(3);
    expect((await sign(hh, b, 0)).statusCode).toBe(202);
  });

  test('past the overall cap: 429 capacity_exceeded whatever the key', async () => {
    const hh = await harness({ config: { maxSigningInFlightPerKey: 100, maxSigningInFlight: 4 } });
    const a = await hh.activeKey();
    const b = await hh.activeKey();
    for (let i = 0; i < 2; i++) expect((await sign(hh, a, i)).statusCode).toBe(202);
    for (let i = 0; i < 2; i++) expect((await sign(hh, b, i)).statusCode).toBe(202);
    expect(problem(await sign(hh, a, 9)).code).toBe('capacity_exceeded');
    expect(problem(await sign(hh, b, 9)).code).toBe('capacity_exceeded');
  });

  test('a settled request frees its place; a retry under the same Idempotency-Key is answered, not refused', async () => {
    const hh = await harness({ config: { maxSigningInFlightPerKey: 1, maxSigningInFlight: 100 } });
    const a = await hh.activeKey();
    const first = await hh.request('POST', `/v1/keys/${a}/signatures`, {
      token: 'requester',
      body: { message: '01' },
      headers: { 'idempotency-key': 'k1' },
    });
    expect(first.statusCode).toBe(202);
    const retry = await hh.request('POST', `/v1/keys/${a}/signatures`, {
      token: 'requester',
      body: { message: '01' },
      headers: { 'idempotency-key': 'k1' },
    });
    expect(retry.statusCode).toBe(202);
    expect(retry.json().signatureId).toBe(first.json().signatureId);
    expect(problem(await sign(hh, a, 2)).code).toBe('capacity_exceeded');
    await hh.store.failSignature(first.json().signatureId, { code: 'insufficient_parties', message: 'test' });
    expect((await sign(hh, a, 3)).statusCode).toBe(202);
  });

  test('the default caps take the benchmarks’ 64 concurrent requests on one key many times over', async () => {
    const hh = await harness({});
    const keyId = await hh.activeKey();
    const answers = await Promise.all(Array.from({ length: 256 }, (_, i) => sign(hh, keyId, i)));
    expect(answers.filter((r) => r.statusCode !== 202).map((r) => r.body)).toEqual([]);
  }, 60_000);
});
