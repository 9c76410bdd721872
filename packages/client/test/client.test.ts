/** The typed client over a fake coordinator: what it sends, what it accepts, how each failure is typed. */
import { describe, expect, test } from 'vitest';
import { createGlacisClient } from '../src/client.js';
import { ClientError, isClientError } from '../src/errors.js';
import { fakeFetch, problemAnswer } from './fixtures.js';

const operation = {
  operationId: 'op_1',
  keyId: 'key/1',
  type: 'refresh',
  status: 'pending',
  error: null,
  createdAt: '2026-01-01T00:00:00Z',
  completedAt: null,
  progress: null,
};

async function caught(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p;
  } catch (e) {
    if (isClientError(e)) return e;
    throw e;
  }
  throw new Error('expected a ClientError');
}

describe('requests', () => {
  test('fills path parameters (encoded), query, body and Idempotency-Key; the token only where a route takes one', async () => {
    const fake = fakeFetch((req) =>
      req.path === '/v1/health'
        ? { status: 200, body: { status: 'ok', parties: { connected: 1, known: 1 } } }
        : { status: 202, body: { signatureId: 'sig_1', status: 'pending' } },
    );
    const client = createGlacisClient({ baseUrl: 'http://c.example:1/', token: 'glc_secret', fetch: fake.fetch });
    const res = await client.createSignature({
      params: { keyId: 'key/1?x' },
      query: { wait: 0 },
      body: { message: '00', context: { ticket: 'T-1' } },
      idempotencyKey: 'pay-1',
    });
    expect(res).toEqual({ status: 202, body: { signatureId: 'sig_1', status: 'pending' } });
    const [req] = fake.seen;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/v1/keys/key%2F1%3Fx/signatures');
    expect(req?.query.get('wait')).toBe('0');
    expect(req?.headers.get('authorization')).toBe('Bearer glc_secret');
    expect(req?.headers.get('idempotency-key')).toBe('pay-1');
    expect(req?.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(req?.body ?? '')).toEqual({ message: '00', context: { ticket: 'T-1' } });

    await client.health();
    expect(fake.seen[1]?.headers.get('authorization')).toBeNull();
  });

  test('a route without a body sends none; undefined query values are left out', async () => {
    const fake = fakeFetch(() => ({ status: 202, body: operation }));
    const client = createGlacisClient({ baseUrl: 'http://c.example:1', fetch: fake.fetch });
    expect((await client.refreshKey({ params: { keyId: 'key/1' } })).body).toEqual(operation);
    expect(fake.seen[0]?.body).toBeUndefined();
    expect(fake.seen[0]?.headers.get('content-type')).toBeNull();
    const list = fakeFetch(() => ({ status: 200, body: { keys: [], nextCursor: null } }));
    await createGlacisClient({ baseUrl: 'http://c.example:1', fetch: list.fetch }).listKeys({ query: { limit: 5 } });
    expect([...(list.seen[0]?.query.keys() ?? [])]).toEqual(['limit']);
  });

  test('a status the route defines with a body (health 503) is an answer, not an error', async () => {
    const fake = fakeFetch(() => ({ status: 503, body: { status: 'unavailable', parties: { connected: 0, known: 3 } } }));
    const res = await createGlacisClient({ baseUrl: 'http://c.example:1', fetch: fake.fetch }).health();
    expect(res).toEqual({ status: 503, body: { status: 'unavailable', parties: { connected: 0, known: 3 } } });
  });
});

describe('failures are typed', () => {
  test('a problem document is api_problem, with the problem', async () => {
    const fake = fakeFetch(() => problemAnswer(404, 'not_found', 'no such key'));
    const e = await caught(createGlacisClient({ baseUrl: 'http://c.example:1', fetch: fake.fetch }).getKey({ params: { keyId: 'k' } }));
    expect(e).toMatchObject({ code: 'api_problem', status: 404, problem: { code: 'not_found', detail: 'no such key' } });
    expect(e.message).toBe('GET /v1/keys/k: 404 not_found: no such key');
  });

  test('an undefined status without a problem document is unexpected_status', async () => {
    const fake = fakeFetch(() => ({ status: 502, raw: '<html>bad gateway</html>', contentType: 'text/html' }));
    const e = await caught(createGlacisClient({ baseUrl: 'http://c.example:1', fetch: fake.fetch }).listKeys());
    expect(e).toMatchObject({ code: 'unexpected_status', status: 502 });
  });

  test('a body that is not the route’s object, or not JSON, is invalid_response', async () => {
    const wrong = fakeFetch(() => ({ status: 200, body: { keyId: 'k', status: 'active' } }));
    const e = await caught(createGlacisClient({ baseUrl: 'http://c.example:1', fetch: wrong.fetch }).getKey({ params: { keyId: 'k' } }));
    expect(e.code).toBe('invalid_response');
    const text = fakeFetch(() => ({ status: 200, raw: 'not json' }));
    expect((await caught(createGlacisClient({ baseUrl: 'http://c.example:1', fetch: text.fetch }).listParties())).code).toBe(
      'invalid_response',
    );
  });

  test('no answer is unreachable, and the message never carries the token', async () => {
    const refused = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    const client = createGlacisClient({ baseUrl: 'http://127.0.0.1:9', token: 'glc_secret', fetch: refused });
    const e = await caught(client.listAudit());
    expect(e.code).toBe('unreachable');
    expect(e.message).toContain('http://127.0.0.1:9');
    expect(e.message).not.toContain('glc_secret');
  });
});

test('the error class says what it is', () => {
  const e = new ClientError('api_problem', 'x', { status: 409 });
  expect(e).toBeInstanceOf(Error);
  expect([e.name, e.code, e.status, isClientError(e, 'api_problem'), isClientError(e, 'unreachable')]).toEqual([
    'ClientError',
    'api_problem',
    409,
    true,
    false,
  ]);
});
