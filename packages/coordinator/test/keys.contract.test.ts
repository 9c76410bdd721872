/** Contract tests of POST/GET /v1/keys and GET /v1/keys/{keyId} against API.md. */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createHarness, type Harness, problem } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => h.close());

const KEY_FIELDS = [
  'keyId',
  'label',
  'suite',
  'threshold',
  'parties',
  'status',
  'publicKey',
  'verifyingShares',
  'error',
  'createdAt',
  'generation',
  'certificate',
];
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

describe('POST /v1/keys', () => {
  test('persists a pending key, answers 202 with its id, then hands it to the orchestrator', async () => {
    const res = await h.request('POST', '/v1/keys', { body: { suite: 'ed25519', threshold: 2, label: 'treasury' } });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toEqual({
      keyId: expect.stringMatching(/^key_[0-9A-Z]{26}$/),
      status: 'pending',
      operationId: expect.stringMatching(/^op_/),
    });
    expect(h.orchestrator.keysCreated).toEqual([body.keyId]);
    const key = (await h.request('GET', `/v1/keys/${body.keyId}`)).json();
    expect(Object.keys(key).sort()).toEqual([...KEY_FIELDS].sort());
    expect(key).toMatchObject({ label: 'treasury', suite: 'ed25519', threshold: 2, parties: ['alice', 'bob', 'carol'], status: 'pending' });
    expect(key).toMatchObject({ publicKey: null, verifyingShares: null, error: null, certificate: null });
    expect(key.createdAt).toMatch(RFC3339);
    const audit = await h.store.listAudit({ limit: 10, cursor: null });
    expect(audit.items.map((e) => e.type)).toEqual(['key_requested']);
    expect(audit.items[0]?.data).toMatchObject({ keyId: body.keyId, requestedBy: 'test-admin', parties: ['alice', 'bob', 'carol'] });
  });

  test('takes an explicit committee (sorted) and every suite', async () => {
    for (const suite of ['ed25519', 'secp256k1-tr', 'ed448', 'secp256k1', 'p256', 'ristretto255']) {
      const res = await h.request('POST', '/v1/keys', { body: { suite, threshold: 2, parties: ['carol', 'alice'] } });
      expect(res.statusCode).toBe(202);
      const key = (await h.request('GET', `/v1/keys/${res.json().keyId}`)).json();
      expect(key).toMatchObject({ suite, parties: ['alice', 'carol'], label: null });
    }
  });

  test('an active key shows its public key and verifying shares', async () => {
    const keyId = await h.activeKey();
    const key = (await h.request('GET', `/v1/keys/${keyId}`)).json();
    expect(key.status).toBe('active');
    expect(key.publicKey).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(key.verifyingShares)).toEqual(['alice', 'bob', 'carol']);
    expect(Object.keys(key).sort()).toEqual([...KEY_FIELDS].sort());
  });

  test('a failed key carries its error', async () => {
    const { keyId } = (await h.request('POST', '/v1/keys', { body: { suite: 'p256', threshold: 3 } })).json();
    await h.store.markKeyFailed(keyId, { code: 'dkg_timeout', message: 'bob did not answer' });
    const key = (await h.request('GET', `/v1/keys/${keyId}`)).json();
    expect(key).toMatchObject({ status: 'failed', error: { code: 'dkg_timeout', message: 'bob did not answer' }, publicKey: null });
    expect(key.certificate).toBeNull();
  });

  test('an active key carries its certificate: every stored confirmation, unchanged, with partyId and pinned identityKey', async () => {
    const keyId = await h.activeKey();
    const stored = (await h.store.getKey(keyId))?.certificate ?? [];
    expect(stored).toHaveLength(3);
    const pinned = Object.fromEntries(
      (await h.request('GET', '/v1/parties'))
        .json()
        .parties.map((p: { partyId: string; identityKey: string }) => [p.partyId, p.identityKey]),
    );
    const expected = { confirmations: stored.map((env) => ({ partyId: env.from, identityKey: pinned[env.from], ...env })), lineage: [] };
    expect((await h.request('GET', `/v1/keys/${keyId}`, { token: 'requester' })).json().certificate).toEqual(expected);
    const listed = (await h.request('GET', '/v1/keys')).json().keys.find((k: { keyId: string }) => k.keyId === keyId);
    expect(listed.certificate).toEqual(expected);
  });

  test('a confirmation from a party the coordinator no longer pins shows identityKey null', async () => {
    const keyId = await h.activeKey();
    const stored = (await h.store.getKey(keyId))?.certificate ?? [];
    const gone = await createHarness({ dir: h.dir, parties: ['alice', 'bob'] });
    try {
      const cert = (await gone.request('GET', `/v1/keys/${keyId}`)).json().certificate;
      expect(cert.confirmations.map((c: { partyId: string; identityKey: string | null }) => [c.partyId, c.identityKey === null])).toEqual([
        ['alice', false],
        ['bob', false],
        ['carol', true],
      ]);
      expect(cert.confirmations[2].signature).toBe(stored[2]?.signature);
    } finally {
      await gone.close(false);
    }
  });

  const json = { 'content-type': 'application/json' };
  const many = Array.from({ length: 256 }, (_, i) => `p${i}`);
  const rejected: [string, { body?: unknown; payload?: string; headers?: Record<string, string> }, number, string][] = [
    ['malformed JSON', { payload: '{"suite": "ed25519",', headers: json }, 400, 'invalid_json'],
    ['an empty JSON body', { payload: '', headers: json }, 400, 'invalid_json'],
    ['a JSON array', { body: [] }, 400, 'invalid_request'],
    ['a missing suite', { body: { threshold: 2 } }, 400, 'invalid_request'],
    ['a missing threshold', { body: { suite: 'ed25519' } }, 400, 'invalid_request'],
    ['threshold as a string', { body: { suite: 'ed25519', threshold: '2' } }, 400, 'invalid_request'],
    ['suite as a number', { body: { suite: 25519, threshold: 2 } }, 400, 'invalid_request'],
    ['parties as a string', { body: { suite: 'ed25519', threshold: 2, parties: 'alice' } }, 400, 'invalid_request'],
    ['label as a number', { body: { suite: 'ed25519', threshold: 2, label: 7 } }, 400, 'invalid_request'],
    ['an unknown field', { body: { suite: 'ed25519', threshold: 2, curve: 'x' } }, 400, 'invalid_request'],
    ['an unknown suite', { body: { suite: 'rsa', threshold: 2 } }, 400, 'unknown_suite'],
    ['a suite in the wrong case', { body: { suite: 'Ed25519', threshold: 2 } }, 400, 'unknown_suite'],
    ['threshold 1', { body: { suite: 'ed25519', threshold: 1 } }, 400, 'invalid_threshold'],
    ['threshold 0', { body: { suite: 'ed25519', threshold: 0 } }, 400, 'invalid_threshold'],
    ['a fractional threshold', { body: { suite: 'ed25519', threshold: 2.5 } }, 400, 'invalid_threshold'],
    ['threshold above n (default committee)', { body: { suite: 'ed25519', threshold: 4 } }, 400, 'invalid_threshold'],
    [
      'threshold above n (explicit committee)',
      { body: { suite: 'ed25519', threshold: 3, parties: ['alice', 'bob'] } },
      400,
      'invalid_threshold',
    ],
    ['threshold 256', { body: { suite: 'ed25519', threshold: 256 } }, 400, 'invalid_threshold'],
    ['n above 255', { body: { suite: 'ed25519', threshold: 2, parties: many } }, 400, 'invalid_threshold'],
    ['an empty committee', { body: { suite: 'ed25519', threshold: 2, parties: [] } }, 400, 'invalid_threshold'],
    ['an unknown party', { body: { suite: 'ed25519', threshold: 2, parties: ['alice', 'mallory'] } }, 400, 'unknown_party'],
    ['a party listed twice', { body: { suite: 'ed25519', threshold: 2, parties: ['alice', 'alice', 'bob'] } }, 400, 'invalid_request'],
    ['a body over the limit', { body: { suite: 'ed25519', threshold: 2, label: 'x'.repeat(70_000) } }, 413, 'body_too_large'],
    ['a text/plain body', { payload: 'suite=ed25519', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'],
  ];
  test.each(rejected)('rejects %s and changes nothing', async (_name, req, status, code) => {
    const before = h.snapshot();
    const res = await h.request('POST', '/v1/keys', req);
    expect(res.statusCode).toBe(status);
    expect(problem(res)).toMatchObject({ type: 'about:blank', status, code, title: expect.any(String), detail: expect.any(String) });
    expect(h.snapshot()).toBe(before);
    expect(h.orchestrator.keysCreated).toEqual([]);
  });

  test('the problem detail names the offending field', async () => {
    const res = await h.request('POST', '/v1/keys', { body: { suite: 'rsa', threshold: 2 } });
    expect(problem(res).detail).toMatch(/^suite: /);
  });

  test.each([
    ['no token', 'none', 401, 'unauthorized'],
    ['an unknown token', 'glc_not-a-real-token', 401, 'unauthorized'],
    ['a requester token', 'requester', 403, 'forbidden'],
    ['an auditor token', 'auditor', 403, 'forbidden'],
  ])('refuses %s and changes nothing', async (_name, token, status, code) => {
    const before = h.snapshot();
    const res = await h.request('POST', '/v1/keys', { token, body: { suite: 'ed25519', threshold: 2 } });
    expect(res.statusCode).toBe(status);
    expect(problem(res).code).toBe(code);
    if (status === 401) expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(h.snapshot()).toBe(before);
  });

  test('authentication comes before validation', async () => {
    const res = await h.request('POST', '/v1/keys', { token: 'none', payload: '{not json', headers: json });
    expect(res.statusCode).toBe(401);
  });

  test('answers 503 parties_unavailable when a committee member is not connected, and changes nothing', async () => {
    h.orchestrator.disconnect('bob');
    const before = h.snapshot();
    const res = await h.request('POST', '/v1/keys', { body: { suite: 'ed25519', threshold: 2 } });
    expect(res.statusCode).toBe(503);
    expect(problem(res)).toMatchObject({ code: 'parties_unavailable', detail: expect.stringContaining('bob') });
    expect(h.snapshot()).toBe(before);
    // A committee without bob is fine.
    const ok = await h.request('POST', '/v1/keys', { body: { suite: 'ed25519', threshold: 2, parties: ['alice', 'carol'] } });
    expect(ok.statusCode).toBe(202);
  });
});

describe('GET /v1/keys/{keyId}', () => {
  test('any role may read a key', async () => {
    const keyId = await h.activeKey();
    for (const token of ['admin', 'requester', 'auditor']) {
      expect((await h.request('GET', `/v1/keys/${keyId}`, { token })).statusCode).toBe(200);
    }
    expect((await h.request('GET', `/v1/keys/${keyId}`, { token: 'none' })).statusCode).toBe(401);
  });

  test.each([
    ['an unknown well-formed id', 'key_01J0000000000000000000000'],
    ['a path-traversal id', '..%2f'],
    ['an encoded slash', 'key%2F..%2F..'],
    ['a 300-character id', 'k'.repeat(300)],
    ['a 129-character id', 'k'.repeat(129)],
    ['an undecodable id', '%zz'],
    ['a NUL byte', '%00'],
    ['non-ASCII', '%F0%9F%98%80'],
    ['a signature id', 'sig_01J0000000000000000000000'],
  ])('answers 404 not_found for %s', async (_name, id) => {
    const res = await h.request('GET', `/v1/keys/${id}`);
    expect(res.statusCode).toBe(404);
    expect(problem(res).code).toBe('not_found');
  });
});

describe('GET /v1/keys', () => {
  test('walks every key across pages, oldest first, ending with nextCursor null', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await h.request('POST', '/v1/keys', { body: { suite: 'ed25519', threshold: 2 } })).json().keyId);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/keys?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = (await h.request('GET', url, { token: 'auditor' })).json();
      expect(page.keys.length).toBeLessThanOrEqual(3);
      seen.push(...page.keys.map((k: { keyId: string }) => k.keyId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
  });

  test('defaults to 50 per page', async () => {
    for (let i = 0; i < 51; i++) await h.request('POST', '/v1/keys', { body: { suite: 'ed25519', threshold: 2 } });
    const first = (await h.request('GET', '/v1/keys')).json();
    expect(first.keys).toHaveLength(50);
    const second = (await h.request('GET', `/v1/keys?cursor=${first.nextCursor}`)).json();
    expect(second).toMatchObject({ keys: [expect.any(Object)], nextCursor: null });
  });

  test('an empty list has nextCursor null', async () => {
    expect((await h.request('GET', '/v1/keys')).json()).toEqual({ keys: [], nextCursor: null });
  });

  test.each([
    ['limit=0', 'invalid_request'],
    ['limit=501', 'invalid_request'],
    ['limit=-1', 'invalid_request'],
    ['limit=abc', 'invalid_request'],
    ['limit=2.5', 'invalid_request'],
    ['cursor=bogus', 'invalid_cursor'],
    ['cursor=Yzk5', 'invalid_cursor'],
  ])('rejects ?%s', async (query, code) => {
    const res = await h.request('GET', `/v1/keys?${query}`);
    expect(res.statusCode).toBe(400);
    expect(problem(res).code).toBe(code);
  });
});
