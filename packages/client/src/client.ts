/**
 * A typed client for the whole REST API: one method per route of routes.ts, each answering
 * `{status, body}` for the route's success statuses with a body parsed by the route's schema.
 * Anything else throws a ClientError: a problem document (`api_problem`, with the problem), a
 * status the route does not define, a body that does not parse, no answer at all.
 */
import { ClientError } from './errors.js';
import { type ResponseSpec, type RouteInput, type RouteName, type RouteOutput, type RouteSpec, type Routes, routes } from './routes.js';
import { problemSchema } from './schemas.js';

/** What createGlacisClient needs. */
export interface ClientOptions {
  /** The coordinator, e.g. `https://glacis.example:8700`. */
  baseUrl: string;
  /** Bearer token; sent only to routes that take one. */
  token?: string;
  /** Per request, including `?wait=` holds (at most 30 s); default 60 s. */
  timeoutMs?: number;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

type Args<R extends RouteSpec> = object extends RouteInput<R> ? [input?: RouteInput<R>] : [input: RouteInput<R>];

/** One method per route of the API, named as in routes.ts. */
export type GlacisClient = { readonly [N in RouteName]: (...args: Args<Routes[N]>) => Promise<RouteOutput<Routes[N]>> };

interface AnyInput {
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  body?: unknown;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** A client of the coordinator at `baseUrl`. */
export function createGlacisClient(options: ClientOptions): GlacisClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 60_000;

  async function call(route: RouteSpec, input: AnyInput): Promise<{ status: number; body: unknown }> {
    const url = new URL(base + route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(input.params?.[name] ?? '')));
    for (const [k, v] of Object.entries(input.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const what = `${route.method} ${url.pathname}`;
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json, text/plain' };
    if (route.auth && options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (input.idempotencyKey !== undefined) headers['idempotency-key'] = input.idempotencyKey;
    const init: RequestInit = { method: route.method, headers };
    if (input.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(input.body);
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    init.signal = input.signal ? AbortSignal.any([timeout, input.signal]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await doFetch(url, init);
      text = await res.text();
    } catch (e) {
      throw new ClientError('unreachable', `${what}: no answer from ${url.origin} (${(e as Error).message})`, { cause: e });
    }
    const expected = route.responses[res.status];
    if (expected === undefined) throw refusal(what, res, text);
    return { status: res.status, body: parseBody(what, res.status, expected, text) };
  }

  const client = Object.fromEntries(
    Object.entries(routes).map(([name, route]) => [name, (input: AnyInput = {}) => call(route as RouteSpec, input)]),
  );
  return Object.freeze(client) as unknown as GlacisClient;
}

function parseBody(what: string, status: number, expected: ResponseSpec, text: string): unknown {
  if (expected === 'text') return text;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ClientError('invalid_response', `${what}: ${status} with a body that is not JSON`, { status });
  }
  if (expected === 'json') return json;
  const parsed = expected.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ClientError('invalid_response', `${what}: ${status} body: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, {
      status,
    });
  }
  return parsed.data;
}

/** The error for a status the route does not answer with: its problem document if there is one. */
function refusal(what: string, res: Response, text: string): ClientError {
  const status = res.status;
  if ((res.headers.get('content-type') ?? '').startsWith('application/problem+json')) {
    try {
      const problem = problemSchema.safeParse(JSON.parse(text));
      if (problem.success) {
        return new ClientError('api_problem', `${what}: ${status} ${problem.data.code}: ${problem.data.detail}`, {
          status,
          problem: problem.data,
        });
      }
    } catch {
      // Not JSON after all: reported as an unexpected status below.
    }
  }
  return new ClientError('unexpected_status', `${what}: unexpected HTTP ${status}`, { status });
}
