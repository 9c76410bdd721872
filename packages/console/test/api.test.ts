/**
 * The console's REST calls against a fake coordinator: the token goes only in the Authorization
 * header of same-origin requests, problems keep the coordinator's code, a 401 ends the session,
 * lists are read page by page with a bound, and an answer of the wrong shape is refused before any
 * page sees it (fields still to come, like a party's mode, are optional); a request reads back
 * whatever it signs, a raw message or a typed intent.
 */
import { describe, expect, test } from 'vitest';
import { createApi } from '../src/api.js';
import { keyDecoder, partiesDecoder, signatureDecoder } from '../src/api-types.js';
import { isConsoleError } from '../src/errors.js';

type Answer = { status: number; body: unknown };
function fake(answer: (url: string) => Answer) {
  const seen: { url: string; init: RequestInit | undefined }[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    seen.push({ url, init });
    const a = answer(url);
    return new Response(JSON.stringify(a.body), { status: a.status });
  }) as typeof globalThis.fetch;
  return { fetch, seen };
}

const party = { partyId: 'party-1', identityKey: 'ab'.repeat(32), connected: true, lastSeenAt: null };

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('the console’s API client', () => {
  test('sends the token as a bearer, same-origin, without cookies or cache', async () => {
    const f = fake(() => ({ status: 200, body: { parties: [party] } }));
    await createApi('glc_secret', { fetch: f.fetch }).get('/v1/parties', partiesDecoder);
    const init = f.seen[0]?.init;
    expect(f.seen[0]?.url).toBe('/v1/parties');
    expect(init?.headers).toMatchObject({ authorization: 'Bearer glc_secret' });
    expect([init?.mode, init?.credentials, init?.cache]).toEqual(['same-origin', 'omit', 'no-store']);
  });

  test('keeps the coordinator’s problem code, and a 401 ends the session', async () => {
    let ended = 0;
    const problem = (status: number, code: string) => fake(() => ({ status, body: { status, code, detail: 'no' } }));
    const forbidden = await caught(createApi('t', { fetch: problem(403, 'forbidden').fetch }).get('/v1/audit', partiesDecoder));
    expect(isConsoleError(forbidden, 'http') && [forbidden.status, forbidden.problemCode]).toEqual([403, 'forbidden']);
    expect(ended).toBe(0);
    const api = createApi('t', { fetch: problem(401, 'unauthorized').fetch, onUnauthorized: () => ended++ });
    expect(isConsoleError(await caught(api.get('/v1/keys', keyDecoder)), 'http')).toBe(true);
    expect(ended).toBe(1);
  });

  test('reads every page of a list, and stops at the bound', async () => {
    const f = fake((url) => {
      const n = Number(new URL(url, 'http://x').searchParams.get('cursor') ?? 0);
      return { status: 200, body: { parties: [{ ...party, partyId: `p${n}` }], nextCursor: n < 2 ? String(n + 1) : null } };
    });
    const api = createApi('t', { fetch: f.fetch });
    const all = await api.all('/v1/x', 'parties', (v) => (v as { partyId: string }).partyId);
    expect(all).toEqual(['p0', 'p1', 'p2']);
    expect(f.seen.map((s) => s.url)).toEqual(['/v1/x?limit=500', '/v1/x?limit=500&cursor=1', '/v1/x?limit=500&cursor=2']);
    const bounded = await caught(api.all('/v1/x', 'parties', (v) => v, { maxPages: 2 }));
    expect(isConsoleError(bounded, 'bad_response')).toBe(true);
  });

  test('refuses an answer of another shape, and takes the party fields still to come when present', async () => {
    const api = (body: unknown) => createApi('t', { fetch: fake(() => ({ status: 200, body })).fetch });
    const bad = await caught(api({ parties: [{ ...party, connected: 'yes' }] }).get('/v1/parties', partiesDecoder));
    expect(isConsoleError(bad, 'bad_response') && bad.message).toContain('.parties[0].connected');
    const later = { ...party, mode: 'offline', policyVersion: 3, needsRepair: ['key_1'], latencyMs: null, ready: 0, excludedCount: 1 };
    expect((await api({ parties: [later] }).get('/v1/parties', partiesDecoder)).parties[0]).toEqual(later);
    expect((await api({ parties: [party] }).get('/v1/parties', partiesDecoder)).parties[0]).toEqual(party);
  });

  test('a signing request reads back with a raw message or a typed intent (message null); an intent without a type is refused', async () => {
    const request = {
      signatureId: 'sig_1',
      keyId: 'key_1',
      intent: { type: 'raw', message: 'c0ffee' },
      message: 'c0ffee',
      context: null,
      status: 'awaiting_approval',
      signature: null,
      signers: null,
      excluded: [],
      error: null,
      createdAt: '2030-01-01T00:00:00.000Z',
      completedAt: null,
    };
    const psbt = { ...request, intent: { type: 'bitcoin-psbt', psbt: 'cHNidP8=', inputs: [0, 2] }, message: null };
    const api = (body: unknown) => createApi('t', { fetch: fake(() => ({ status: 200, body })).fetch });
    expect(await api(request).get('/v1/signatures/sig_1', signatureDecoder)).toEqual(request);
    expect(await api(psbt).get('/v1/signatures/sig_1', signatureDecoder)).toEqual(psbt);
    const untyped = await caught(api({ ...psbt, intent: { psbt: 'cHNidP8=' } }).get('/v1/signatures/sig_1', signatureDecoder));
    expect(isConsoleError(untyped, 'bad_response') && untyped.message).toContain('.intent.type');
  });
});
