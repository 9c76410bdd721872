/** Contract tests of health, metrics, OpenAPI, parties, audit and the error envelope. */
import { readFileSync } from 'node:fs';
import { verifyAuditChain } from '@glacis/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { buildApp } from '../src/app.js';
import { createMetrics } from '../src/metrics.js';
import type { Store } from '../src/store/types.js';
import { appWithLogCapture, createHarness, DEFAULT_SETTINGS, type Harness, type HarnessOptions, problem } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});
const harness = async (o: HarnessOptions = {}) => {
  h = await createHarness(o);
  return h;
};

describe('GET /v1/health', () => {
  test('ok when the store works and every party is connected; no token needed', async () => {
    const res = await (await harness()).request('GET', '/v1/health', { token: 'none' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', parties: { connected: 3, known: 3 } });
  });

  test('degraded but ready when a party is missing (default minConnectedParties 0)', async () => {
    const res = await (await harness({ connected: ['alice'] })).request('GET', '/v1/health', { token: 'none' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'degraded', parties: { connected: 1, known: 3 } });
  });

  test('503 with the same body when fewer than minConnectedParties are connected', async () => {
    const hh = await harness({ connected: ['alice'], config: { minConnectedParties: 2 } });
    const res = await hh.request('GET', '/v1/health', { token: 'none' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unavailable', parties: { connected: 1, known: 3 } });
    hh.orchestrator.connect('bob');
    expect((await hh.request('GET', '/v1/health')).statusCode).toBe(200);
  });

  test('503 when the store is unusable', async () => {
    const hh = await harness();
    await hh.store.close();
    const res = await hh.request('GET', '/v1/health', { token: 'none' });
    expect(res.statusCode).toBe(503);
    expect(res.json().status).toBe('unavailable');
  });
});

describe('GET /metrics', () => {
  test('serves Prometheus text with request latencies and coordinator series, without a token', async () => {
    const hh = await harness({ connected: ['alice', 'bob'] });
    await hh.request('GET', '/v1/keys');
    const res = await hh.request('GET', '/metrics', { token: 'none' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/glacis_http_request_duration_seconds_count\{route="\/v1\/keys",method="GET",status="200"\} 1/);
    expect(res.body).toContain('glacis_connected_parties 2');
    for (const name of [
      'glacis_dkg_sessions_total',
      'glacis_signing_sessions_total',
      'glacis_session_duration_seconds',
      'glacis_ws_rejected_total',
    ]) {
      expect(res.body).toContain(`# TYPE ${name}`);
    }
  });

  test('labels unmatched routes as such instead of by their path', async () => {
    const hh = await harness();
    await hh.request('GET', '/v1/nope/123');
    expect((await hh.request('GET', '/metrics')).body).toContain('route="unmatched"');
  });
});

describe('GET /v1/openapi.json', () => {
  /**
   * The endpoints docs/api.md documents, one "### `METHOD /path`" heading each. That page is kept
   * in sync with the contract (API.md, outside this repository); what is served is checked here.
   */
  const documented = [...readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8').matchAll(/^### `([A-Z]+) (\/\S*)`$/gm)]
    .map((m) => `${m[1]} ${m[2]}`)
    .sort();

  /** Every route the app registers (HEAD twins of GETs aside), in OpenAPI path form. */
  async function servedRoutes(): Promise<string[]> {
    const hh = await harness();
    const app = buildApp({
      config: DEFAULT_SETTINGS,
      store: hh.store,
      orchestrator: hh.orchestrator,
      logger: pino({ level: 'silent' }),
      metrics: createMetrics(),
    });
    const routes: string[] = [];
    app.addHook('onRoute', (r) => {
      for (const method of [r.method].flat()) {
        if (method !== 'HEAD') routes.push(`${method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
      }
    });
    await app.ready();
    await app.close();
    return routes.sort();
  }

  test('docs/api.md documents every route the app serves, and no other', async () => {
    expect(documented.length, 'docs/api.md has no endpoint headings left').toBeGreaterThanOrEqual(15);
    expect(new Set(documented).size, 'an endpoint is documented twice').toBe(documented.length);
    expect(documented).toEqual(await servedRoutes());
  });

  test('is an OpenAPI 3 document listing exactly the documented routes', async () => {
    const res = await (await harness()).request('GET', '/v1/openapi.json', { token: 'none' });
    expect(res.statusCode).toBe(200);
    const doc = JSON.parse(res.body) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(listed.sort()).toEqual(documented);
  });

  test('documents bodies from the validating schemas and references only components it defines', async () => {
    const doc = (await (await harness()).request('GET', '/v1/openapi.json')).json();
    const body = doc.paths['/v1/keys'].post.requestBody.content['application/json'].schema;
    expect(body.properties.threshold).toMatchObject({ type: 'integer', minimum: 2, maximum: 255 });
    expect(body.properties.suite.enum).toContain('secp256k1-tr');
    expect(doc.paths['/v1/keys/{keyId}'].get.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Key',
    });
    const refs = [...JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] as string);
    for (const ref of refs) expect(doc.components.schemas[ref], ref).toBeDefined();
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer' });
  });
  test('documents what the server does: 429/500/503, unique parties, context limits, Idempotency-Key and wait', async () => {
    const doc = (await (await harness()).request('GET', '/v1/openapi.json')).json();
    type Op = { responses: Record<string, { content?: Record<string, unknown> }>; parameters?: { in: string; name: string }[] };
    const ops = Object.entries(doc.paths as Record<string, Record<string, Op>>).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, method, op })),
    );
    for (const { name, op } of ops) {
      // Any request may be rate limited or fail inside; the store can be unavailable to any of them.
      for (const status of ['429', '500', '503']) expect(op.responses[status], `${name} ${status}`).toBeDefined();
      if (name !== 'GET /v1/health') expect(op.responses['503']?.content?.['application/problem+json'], name).toBeDefined();
    }
    // The inbox is idempotent by its bundle's sequence: the same bundle again changes nothing (bundle_replayed).
    for (const { name, method, op } of ops.filter((o) => o.method === 'post' && !o.name.endsWith('/inbox'))) {
      const params = (op.parameters ?? []).map((p) => `${p.in}:${p.name.toLowerCase()}`);
      expect(params, name).toEqual(expect.arrayContaining(['header:idempotency-key', 'query:wait']));
      expect(method).toBe('post');
    }
    const body = (path: string) => doc.paths[path].post.requestBody.content['application/json'].schema;
    expect(body('/v1/keys').properties.parties).toMatchObject({ type: 'array', uniqueItems: true, maxItems: 255 });
    expect(body('/v1/keys/{keyId}/reshare').properties.parties).toMatchObject({ type: 'array', uniqueItems: true });
    expect(body('/v1/keys/{keyId}/signatures').properties.context.description).toMatch(/safe integers.*16/);
  });

  test('a committee listing a party twice is refused by the schema it documents', async () => {
    const hh = await harness();
    const res = await hh.request('POST', '/v1/keys', { body: { suite: 'ed25519', threshold: 2, parties: ['alice', 'alice', 'bob'] } });
    expect(problem(res)).toMatchObject({ code: 'invalid_request', detail: expect.stringMatching(/^parties: /) });
  });
});

describe('GET /v1/parties', () => {
  test('lists every configured party for admin and auditor', async () => {
    const hh = await harness({ connected: ['alice', 'carol'] });
    for (const token of ['admin', 'auditor']) {
      const res = await hh.request('GET', '/v1/parties', { token });
      expect(res.statusCode).toBe(200);
      const { parties } = res.json();
      expect(parties.map((p: { partyId: string; connected: boolean }) => [p.partyId, p.connected])).toEqual([
        ['alice', true],
        ['bob', false],
        ['carol', true],
      ]);
      expect(Object.keys(parties[0]).sort()).toEqual([
        'connected',
        'excludedCount',
        'identityKey',
        'lastSeenAt',
        'latencyMs',
        'mode',
        'needsRepair',
        'partyId',
        'policyVersion',
        'ready',
      ]);
    }
  });

  test('is refused to a requester (403) and without a token (401)', async () => {
    const hh = await harness();
    expect(problem(await hh.request('GET', '/v1/parties', { token: 'requester' })).code).toBe('forbidden');
    expect(problem(await hh.request('GET', '/v1/parties', { token: 'none' })).code).toBe('unauthorized');
  });
});

describe('GET /v1/latency', () => {
  test("serves each configured party's latency per minute of the last hour, from what the orchestrator reported", async () => {
    const hh = await harness();
    const minute = 60_000;
    let now = Date.parse('2026-01-05T09:30:00.000Z');
    const metrics = createMetrics({ now: () => now });
    const app = buildApp({
      config: DEFAULT_SETTINGS,
      store: hh.store,
      orchestrator: hh.orchestrator,
      logger: pino({ level: 'silent' }),
      metrics,
      now: () => now,
    });
    metrics.orchestrator.partyLatency('alice', 0.02); // 09:30
    metrics.orchestrator.partyLatency('alice', 0.04);
    now += 2 * minute + 5_000;
    metrics.orchestrator.partyLatency('alice', 0.01); // 09:32
    metrics.orchestrator.partyLatency('bob', 0.5);
    now += 59 * minute; // 10:31:05: the 09:30 minute has left the hour
    const res = await app.inject({ method: 'GET', url: '/v1/latency', headers: { authorization: `Bearer ${hh.tokens.auditor}` } });
    await app.close();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      windowSeconds: 3600,
      bucketSeconds: 60,
      parties: [
        { partyId: 'alice', buckets: [{ start: '2026-01-05T09:32:00.000Z', count: 1, meanMs: 10, maxMs: 10 }] },
        { partyId: 'bob', buckets: [{ start: '2026-01-05T09:32:00.000Z', count: 1, meanMs: 500, maxMs: 500 }] },
        { partyId: 'carol', buckets: [] },
      ],
    });
  });

  test('is refused to a requester (403) and without a token (401)', async () => {
    const hh = await harness();
    expect(problem(await hh.request('GET', '/v1/latency', { token: 'requester' })).code).toBe('forbidden');
    expect(problem(await hh.request('GET', '/v1/latency', { token: 'none' })).code).toBe('unauthorized');
  });
});

describe('GET /v1/audit', () => {
  test('pages through a hash chain that verifies end to end, oldest first', async () => {
    const hh = await harness();
    const keyId = await hh.activeKey();
    for (let i = 0; i < 4; i++) await hh.request('POST', `/v1/keys/${keyId}/signatures`, { body: { message: `0${i}` } });
    await hh.store.appendAudit('key_created', { keyId });
    const events = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const url: string = `/v1/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await hh.request('GET', url, { token: 'auditor' });
      expect(res.statusCode).toBe(200);
      const page = res.json();
      events.push(...page.events);
      cursor = page.nextCursor;
      if (cursor === null) break;
    }
    expect(events.map((e) => e.type)).toEqual(['key_requested', ...Array(4).fill('signature_requested'), 'key_created']);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Object.keys(events[0]).sort()).toEqual(['at', 'data', 'hash', 'prevHash', 'seq', 'type']);
    expect(events[0].prevHash).toBe('0'.repeat(64));
    for (let i = 1; i < events.length; i++) expect(events[i].prevHash).toBe(events[i - 1].hash);
    expect(verifyAuditChain(events)).toMatchObject({ ok: true, events: 6, headSeq: 6 });
  });

  test('is for admin and auditor only', async () => {
    const hh = await harness();
    expect((await hh.request('GET', '/v1/audit', { token: 'admin' })).statusCode).toBe(200);
    expect(problem(await hh.request('GET', '/v1/audit', { token: 'requester' })).code).toBe('forbidden');
    expect(problem(await hh.request('GET', '/v1/audit', { token: 'none' })).code).toBe('unauthorized');
    expect(problem(await hh.request('GET', '/v1/audit?cursor=%%%', { token: 'admin' })).status).toBe(400);
  });
});

describe('the error envelope', () => {
  test('an unknown route is a problem+json 404', async () => {
    const res = await (await harness()).request('GET', '/v2/anything');
    expect(res.statusCode).toBe(404);
    expect(problem(res)).toMatchObject({ type: 'about:blank', title: 'Not Found', status: 404, code: 'not_found' });
  });

  test('echoes a sane X-Request-Id and replaces an unsafe one', async () => {
    const hh = await harness();
    const given = await hh.request('GET', '/v1/health', { headers: { 'x-request-id': 'desk-42' } });
    expect(given.headers['x-request-id']).toBe('desk-42');
    const unsafe = await hh.request('GET', '/v1/nope', { headers: { 'x-request-id': 'a b\nc' } });
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(unsafe.json().requestId).toBe(unsafe.headers['x-request-id']);
  });

  test('every log line of a request carries its request id, and no bearer token', async () => {
    const hh = await harness();
    const { app, lines: text } = appWithLogCapture(hh);
    const headers = { authorization: `Bearer ${hh.tokens.admin}`, 'x-request-id': 'trace-7' };
    await app.inject({ method: 'POST', url: '/v1/keys', headers, payload: { suite: 'ed25519', threshold: 2 } });
    await app.inject({ method: 'POST', url: '/v1/keys', headers, payload: { suite: 'rsa', threshold: 2 } });
    await app.close();
    const lines = text.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requestLines = lines.filter((l) => l.msg !== 'Server listening');
    expect(requestLines.length).toBeGreaterThanOrEqual(4);
    for (const l of requestLines) expect(l.reqId).toBe('trace-7');
    expect(requestLines.map((l) => l.msg)).toEqual(expect.arrayContaining(['key requested', 'request rejected']));
    expect(JSON.stringify(lines)).not.toContain(hh.tokens.admin);
  });

  test('a 5xx never carries internals', async () => {
    const hh = await harness();
    const broken: Store = {
      ...hh.store,
      getKey: async () => {
        throw new Error('SQLITE_MISUSE at /srv/glacis/secret/path.db');
      },
    };
    const app = buildApp({
      config: DEFAULT_SETTINGS,
      store: broken,
      orchestrator: hh.orchestrator,
      logger: pino({ level: 'silent' }),
      metrics: createMetrics(),
    });
    const res = await app.inject({ method: 'GET', url: '/v1/keys/key_x', headers: { authorization: `Bearer ${hh.tokens.admin}` } });
    await app.close();
    expect(res.statusCode).toBe(500);
    expect(problem(res)).toMatchObject({ code: 'internal_error', detail: 'Internal Server Error' });
    expect(res.body).not.toContain('SQLITE');
    expect(res.body).not.toContain('/srv');
  });
});
