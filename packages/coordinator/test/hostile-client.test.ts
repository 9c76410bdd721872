/**
 * A careless or hostile REST client at the edges of the boundary: bodies that are JSON but not
 * well-formed text, prototype keys, wrong types where bytes are expected, bodies sent to routes
 * that do not exist. Each is refused with the most precise code and changes nothing.
 */
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { clientErrorHandler } from '../src/plugins/problem.js';
import { appWithLogCapture, createHarness, type Harness, problem } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => h.close());

const JSON_TYPE = { 'content-type': 'application/json' };

/** Sends a raw JSON payload and returns the problem's code, asserting nothing changed. */
async function refused(
  method: 'POST' | 'GET' | 'PUT' | 'DELETE',
  url: string,
  payload?: string | Buffer,
): Promise<{ code: string; status: number }> {
  const before = h.snapshot();
  const res = await h.request(method, url, { ...(payload === undefined ? {} : { payload }), headers: JSON_TYPE });
  const p = problem(res);
  expect(h.snapshot(), 'a refused request changed the database').toBe(before);
  return { code: p.code, status: res.statusCode };
}

describe('bodies that are not well-formed text', () => {
  test('a lone UTF-16 surrogate in label is invalid_request, not stored as U+FFFD', async () => {
    for (const label of ['a\\ud800b', 'tail\\udc00', '\\udbff']) {
      const r = await refused('POST', '/v1/keys', `{"suite":"ed25519","threshold":2,"label":"${label}"}`);
      expect(r).toEqual({ code: 'invalid_request', status: 400 });
    }
    expect(h.orchestrator.keysCreated).toEqual([]);
  });

  test('a lone surrogate in a context key or value is invalid_request', async () => {
    const keyId = await h.activeKey();
    const snapshotKey = h.snapshot();
    expect((await refused('POST', `/v1/keys/${keyId}/signatures`, '{"message":"00","context":{"\\ud800":1}}')).code).toBe(
      'invalid_request',
    );
    expect((await refused('POST', `/v1/keys/${keyId}/signatures`, '{"message":"00","context":{"a":["\\udfff"]}}')).code).toBe(
      'invalid_request',
    );
    expect(h.snapshot()).toBe(snapshotKey);
  });

  test('a well-formed surrogate pair (an emoji) is accepted and stored unchanged', async () => {
    const res = await h.request('POST', '/v1/keys', {
      payload: '{"suite":"ed25519","threshold":2,"label":"\\ud83d\\udd11 vault"}',
      headers: JSON_TYPE,
    });
    expect(res.statusCode).toBe(202);
    const key = (await h.request('GET', `/v1/keys/${res.json().keyId}`)).json();
    expect(key.label).toBe('\u{1F511} vault');
  });

  test('bytes that are not UTF-8 are invalid_json', async () => {
    const payload = Buffer.concat([
      Buffer.from('{"suite":"ed25519","threshold":2,"label":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    expect(await refused('POST', '/v1/keys', payload)).toEqual({ code: 'invalid_json', status: 400 });
  });
});

describe('prototype keys', () => {
  test('__proto__ at the top level is invalid_request, not invalid_json', async () => {
    expect(await refused('POST', '/v1/keys', '{"suite":"ed25519","threshold":2,"__proto__":{"admin":true}}')).toEqual({
      code: 'invalid_request',
      status: 400,
    });
  });

  test('__proto__ nested in context is invalid_request and pollutes nothing', async () => {
    const keyId = await h.activeKey();
    const r = await refused('POST', `/v1/keys/${keyId}/signatures`, '{"message":"00","context":{"a":{"__proto__":{"polluted":1}}}}');
    expect(r.code).toBe('invalid_request');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('wrong types where bytes are expected', () => {
  test('{"message":["00"]} is invalid_request, not empty_message', async () => {
    const keyId = await h.activeKey();
    expect(await refused('POST', `/v1/keys/${keyId}/signatures`, '{"message":["00"]}')).toEqual({ code: 'invalid_request', status: 400 });
    // The empty string still has its own code.
    expect((await refused('POST', `/v1/keys/${keyId}/signatures`, '{"message":""}')).code).toBe('empty_message');
  });
});

describe('routes that do not exist', () => {
  test('any method on an unknown path with a JSON content type and no body is 404, not invalid_json', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'GET'] as const) {
      for (const url of ['/v1/nothing', '/v1/keys/k/nothing', '/nothing']) {
        expect(await refused(method, url), `${method} ${url}`).toEqual({ code: 'not_found', status: 404 });
      }
    }
  });

  test('an unknown path with a malformed JSON body is 404 too', async () => {
    expect(await refused('POST', '/v1/nothing', '{"a":')).toEqual({ code: 'not_found', status: 404 });
  });

  test('a known path with a JSON content type and no body is still invalid_json', async () => {
    expect(await refused('POST', '/v1/keys')).toEqual({ code: 'invalid_json', status: 400 });
  });
});

describe('bytes Node cannot parse as HTTP', () => {
  /** Writes raw bytes to a listening app and returns everything it answers before closing. */
  async function raw(bytes: string): Promise<{ head: string; body: string }> {
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = h.app.server.address() as AddressInfo;
    const text = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const s = connect({ port, host: '127.0.0.1' }, () => s.write(bytes));
      s.on('data', (c) => chunks.push(c));
      s.on('error', reject);
      // The answer ends with the connection: nothing else may follow on it.
      s.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    const [head = '', body = ''] = text.split('\r\n\r\n');
    return { head, body };
  }

  test('a control character in a header is a problem document with a code and Connection: close', async () => {
    const { head, body } = await raw('GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/i);
    expect(head).toMatch(/\r\nConnection: close(\r\n|$)/i);
    expect(JSON.parse(body)).toMatchObject({ status: 400, code: 'invalid_request' });
  });

  test('headers over 16 KiB are 431 headers_too_large, as a problem document', async () => {
    const { head, body } = await raw(`GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
    expect(head).toMatch(/\r\nConnection: close(\r\n|$)/i);
    expect(JSON.parse(body)).toMatchObject({ status: 431, code: 'headers_too_large' });
  });

  test('a request too slow to arrive is 408 request_timeout (the handler Node calls)', () => {
    const written: string[] = [];
    const socket = Object.assign(new PassThrough(), { _httpMessage: null });
    socket.on('data', (c: Buffer) => written.push(c.toString('utf8')));
    const err = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    clientErrorHandler.call({ log: { debug: () => undefined } }, err, socket);
    const [head = '', body = ''] = written.join('').split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 408 /);
    expect(head).toMatch(/\r\nConnection: close(\r\n|$)/i);
    expect(JSON.parse(body)).toMatchObject({ status: 408, code: 'request_timeout' });
  });

  test('the server stays up for the next client', async () => {
    await raw('NOT HTTP AT ALL\r\n\r\n');
    const { port } = h.app.server.address() as AddressInfo;
    expect((await fetch(`http://127.0.0.1:${port}/v1/health`)).status).toBe(200);
  });
});

describe('secrets in URLs', () => {
  test('a token sent in a query string never reaches a log line', async () => {
    const { app, lines } = appWithLogCapture(h, 'trace');
    const secret = 'glc_QUERYSECRET0123456789';
    for (const url of [
      `/v1/keys?access_token=${secret}`,
      `/v1/keys?limit=2&token=${secret}`,
      `/v1/nothing?${secret}`,
      `/v1/keys/${'k'.repeat(300)}?t=${secret}`,
      `/v1/keys?limit=${secret}`,
    ]) {
      await app.inject({ method: 'GET', url });
      await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${h.tokens.auditor}` } });
    }
    await app.close();
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.join('')).not.toContain('QUERYSECRET');
    // The path stays, so a line still says which endpoint was called.
    expect(lines.join('')).toContain('"/v1/keys?[redacted]"');
  });
});

describe('cursors', () => {
  test('a cursor from one list is refused by another (invalid_cursor)', async () => {
    const a = await h.activeKey();
    const b = await h.activeKey();
    for (const k of [a, b]) for (const m of ['01', '02']) await h.request('POST', `/v1/keys/${k}/signatures`, { body: { message: m } });
    const next = async (url: string) => {
      const res = await h.request('GET', url);
      expect(res.statusCode, res.body).toBe(200);
      return res.json().nextCursor as string;
    };
    const cursors = {
      keys: await next('/v1/keys?limit=1'),
      audit: await next('/v1/audit?limit=1'),
      sigsA: await next(`/v1/keys/${a}/signatures?limit=1`),
    };
    const lists = { keys: '/v1/keys', audit: '/v1/audit', sigsA: `/v1/keys/${a}/signatures`, sigsB: `/v1/keys/${b}/signatures` };
    for (const [from, cursor] of Object.entries(cursors)) {
      for (const [to, url] of Object.entries(lists)) {
        const res = await h.request('GET', `${url}?limit=1&cursor=${cursor}`);
        if (from === to) expect(res.statusCode, `${from} cursor on its own list`).toBe(200);
        else expect([from, to, problem(res).code]).toEqual([from, to, 'invalid_cursor']);
      }
    }
  });
});
