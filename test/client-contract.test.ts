/**
 * The desk's client (packages/client routes.ts) against the OpenAPI document the coordinator
 * serves: the same routes, and for each the same token use, path and query parameters,
 * Idempotency-Key, request body and success bodies, compared as shapes (types, fields, required
 * fields, enums; not descriptions or patterns). A field, route or status added, removed or
 * retyped on either side fails here until the other side follows.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { type RouteSpec, routes } from '../packages/client/src/routes.js';
import { createHarness, type Harness } from '../packages/coordinator/test/harness.js';

type Schema = Record<string, unknown>;
interface Operation {
  security?: unknown[];
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

/** What a schema accepts, reduced to what both sides must agree on. */
function shape(s: unknown, root: Schema, depth = 0): unknown {
  if (depth > 50) throw new Error('schema nested too deeply (a cycle?)');
  if (typeof s !== 'object' || s === null) return 'any';
  const o = s as Schema;
  if (typeof o.$ref === 'string') {
    const target = o.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((at, k) => (at as Schema | undefined)?.[k], root);
    if (target === undefined) throw new Error(`unresolved ${o.$ref}`);
    return shape(target, root, depth + 1);
  }
  const union = (o.anyOf ?? o.oneOf) as unknown[] | undefined;
  if (union) {
    const branches = union.map((b) => shape(b, root, depth + 1));
    const rest = branches.filter((b) => b !== 'null');
    const inner = rest.length === 1 ? rest[0] : { anyOf: rest };
    return rest.length < branches.length ? { nullable: inner } : inner;
  }
  const types = (Array.isArray(o.type) ? o.type : o.type === undefined ? [] : [o.type]) as string[];
  const nonNull = types.filter((t) => t !== 'null');
  if (types.length > 0 && nonNull.length === 0) return 'null';
  const base = baseShape(o, nonNull[0], root, depth);
  return nonNull.length < types.length ? { nullable: base } : base;
}

function baseShape(o: Schema, type: string | undefined, root: Schema, depth: number): unknown {
  if (o.const !== undefined) return { enum: [o.const] };
  if (Array.isArray(o.enum)) return { enum: [...o.enum].sort() };
  switch (type) {
    case 'object': {
      const props = Object.entries((o.properties ?? {}) as Schema).map(([k, v]) => [k, shape(v, root, depth + 1)]);
      const extra = typeof o.additionalProperties === 'object' ? { additional: shape(o.additionalProperties, root, depth + 1) } : {};
      return {
        object: Object.fromEntries(props.sort(([a], [b]) => String(a).localeCompare(String(b)))),
        required: [...((o.required ?? []) as string[])].sort(),
        ...extra,
      };
    }
    case 'array':
      return { array: shape(o.items, root, depth + 1) };
    case undefined:
      return 'any';
    default:
      return type;
  }
}

/** What one route is, as far as a client is concerned. */
interface RouteContract {
  auth: boolean;
  pathParams: string[];
  query: [string, boolean][];
  idempotent: boolean;
  body: unknown;
  responses: Record<string, unknown>;
}

const isProblem = (r: { content?: Record<string, unknown> }) => r.content?.['application/problem+json'] !== undefined;

function servedContract(doc: OpenApi, op: Operation): RouteContract {
  const root = doc as unknown as Schema;
  const params = op.parameters ?? [];
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(op.responses)) {
    if (isProblem(r)) continue;
    const schema = r.content?.['application/json']?.schema;
    responses[status] = schema === undefined ? 'untyped' : shape(schema, root);
  }
  const body = op.requestBody?.content['application/json']?.schema;
  return {
    auth: (op.security ?? []).length > 0,
    pathParams: params
      .filter((p) => p.in === 'path')
      .map((p) => p.name)
      .sort(),
    query: params
      .filter((p) => p.in === 'query')
      .map((p): [string, boolean] => [p.name, p.required === true])
      .sort(),
    idempotent: params.some((p) => p.in === 'header' && p.name === 'idempotency-key'),
    body: body === undefined ? null : shape(body, root),
    responses,
  };
}

function clientContract(route: RouteSpec): RouteContract {
  const json = (schema: z.ZodType, io: 'input' | 'output') => {
    const js = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Schema;
    return shape(js, js);
  };
  return {
    auth: route.auth,
    pathParams: [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string).sort(),
    query: Object.entries(route.query?.shape ?? {})
      .map(([name, s]): [string, boolean] => [name, !(s as z.ZodType).safeParse(undefined).success])
      .sort(),
    idempotent: route.idempotent === true,
    body: route.body ? json(route.body, 'input') : null,
    responses: Object.fromEntries(
      // 'text' and 'json' bodies are read as they come: the served document declares a string and any JSON.
      Object.entries(route.responses).map(([status, r]) => [
        status,
        typeof r === 'string' ? { text: 'string', json: 'any' }[r] : json(r, 'output'),
      ]),
    ),
  };
}

const routeName = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

let h: Harness;
let served: OpenApi;
beforeAll(async () => {
  h = await createHarness();
  const res = await h.request('GET', '/v1/openapi.json', { token: 'none' });
  expect(res.statusCode).toBe(200);
  served = JSON.parse(res.body);
});
afterAll(async () => h?.close());

const clientRoutes = Object.entries(routes as Record<string, RouteSpec>);

describe('packages/client against the served /v1/openapi.json', () => {
  test('the client has a method for every route the coordinator serves, and for no other', () => {
    const inDoc = Object.entries(served.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => routeName(m, path)))
      .sort();
    const inClient = clientRoutes.map(([, r]) => routeName(r.method, r.path)).sort();
    expect(inClient).toEqual(inDoc);
  });

  test.each(clientRoutes)('%s: token, parameters, Idempotency-Key, body and success bodies agree', (_name, route) => {
    const op = served.paths[route.path]?.[route.method.toLowerCase()];
    if (!op) throw new Error(`${routeName(route.method, route.path)} is not served`);
    expect(clientContract(route)).toEqual(servedContract(served, op));
  });

  test('the comparison notices a disagreement (so the tests above can fail)', () => {
    const getKey = routes.getKey as RouteSpec;
    const op = () => served.paths['/v1/keys/{keyId}']?.get as Operation;
    expect(clientContract(getKey)).toEqual(servedContract(served, op()));
    expect(JSON.stringify(clientContract(getKey))).toContain('"certificate":{"nullable":{"object":{"confirmations"');
    const mutated = (edit: (doc: OpenApi) => void) => {
      const doc = structuredClone(served);
      edit(doc);
      return servedContract(doc, doc.paths['/v1/keys/{keyId}']?.get as Operation);
    };
    const key = (doc: OpenApi) => doc.components.schemas.Key as { properties: Schema; required: string[] };
    // A field the server drops, a field it adds, a field it retypes, a query parameter it adds.
    expect(clientContract(getKey)).not.toEqual(
      mutated((d) => {
        delete key(d).properties.certificate;
      }),
    );
    expect(clientContract(getKey)).not.toEqual(
      mutated((d) => {
        key(d).properties.policyVersion = { type: 'integer' };
        key(d).required.push('policyVersion');
      }),
    );
    expect(clientContract(getKey)).not.toEqual(
      mutated((d) => {
        key(d).properties.threshold = { type: 'string' };
      }),
    );
    expect(clientContract(getKey)).not.toEqual(
      mutated((d) => {
        d.paths['/v1/keys/{keyId}']?.get?.parameters?.push({ in: 'query', name: 'fields', required: false });
      }),
    );
  });
});
