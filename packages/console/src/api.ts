/**
 * The REST API as the console calls it: same origin, the user's own token as a bearer, every
 * answer decoded before use, problems turned into `ConsoleError('http')` with the coordinator's
 * code. The only writes are the Approvals page's (an approval, a rejection) and the Air gap
 * page's (an offline party's bundle, in hex, for its inbox).
 */
import { pageDecoder } from './api-types.js';
import { type Decoder, decode } from './decode.js';
import { ConsoleError } from './errors.js';

/** The calls pages make. */
export interface Api {
  /** GET `path` (with its query) and decode the JSON answer. */
  get<T>(path: string, decoder: Decoder<T>, signal?: AbortSignal): Promise<T>;
  /** POST a JSON body to `path` and decode the JSON answer. */
  post<T>(path: string, body: unknown, decoder: Decoder<T>, options?: { idempotencyKey?: string; signal?: AbortSignal }): Promise<T>;
  /** Every item of a paginated list (`{<field>: [...], nextCursor}`), oldest first, at most `maxPages` pages. */
  all<T>(
    path: string,
    field: string,
    item: Decoder<T>,
    options?: { pageSize?: number; maxPages?: number; signal?: AbortSignal },
  ): Promise<T[]>;
}

/** Options of createApi. */
export interface ApiOptions {
  /** Called on a 401: the coordinator no longer accepts the token. */
  onUnauthorized?: () => void;
  /** The browser's fetch by default. */
  fetch?: typeof fetch;
}

/** A client for `token`. */
export function createApi(token: string, options: ApiOptions = {}): Api {
  const fetchFn = options.fetch ?? ((i, o) => globalThis.fetch(i, o));
  async function call<T>(
    path: string,
    decoder: Decoder<T>,
    init: { method?: string; body?: BodyInit; headers?: Record<string, string>; signal?: AbortSignal | undefined },
  ): Promise<T> {
    let res: Response;
    try {
      res = await fetchFn(path, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...init.headers },
        ...(init.body === undefined ? {} : { body: init.body }),
        // Same origin only; the page's CSP (connect-src 'self') says the same.
        mode: 'same-origin',
        credentials: 'omit',
        cache: 'no-store',
        ...(init.signal ? { signal: init.signal } : {}),
      });
    } catch (e) {
      if ((e as { name?: unknown } | null)?.name === 'AbortError') throw e;
      throw new ConsoleError('unreachable', 'the coordinator did not answer');
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new ConsoleError('bad_response', `the coordinator answered ${res.status} with something that is not JSON`, res.status);
    }
    if (!res.ok) {
      const p = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
      const code = typeof p.code === 'string' ? p.code : 'http_error';
      const detail = typeof p.detail === 'string' ? p.detail : res.statusText;
      if (res.status === 401) options.onUnauthorized?.();
      throw new ConsoleError('http', `${res.status} ${code}: ${detail}`, res.status, code);
    }
    return decode(decoder, json);
  }

  const get = <T>(path: string, decoder: Decoder<T>, signal?: AbortSignal): Promise<T> => call(path, decoder, { signal });

  function post<T>(
    path: string,
    body: unknown,
    decoder: Decoder<T>,
    options: { idempotencyKey?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    return call(path, decoder, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: {
        'content-type': 'application/json',
        ...(options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey }),
      },
      signal: options.signal,
    });
  }

  async function all<T>(
    path: string,
    field: string,
    item: Decoder<T>,
    options: { pageSize?: number; maxPages?: number; signal?: AbortSignal } = {},
  ): Promise<T[]> {
    const out: T[] = [];
    const sep = path.includes('?') ? '&' : '?';
    let cursor: string | null = null;
    for (let page = 0; page < (options.maxPages ?? 200); page++) {
      const url: string = `${path}${sep}limit=${options.pageSize ?? 500}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
      const body: { items: T[]; nextCursor: string | null } = await get(url, pageDecoder(field, item), options.signal);
      out.push(...body.items);
      cursor = body.nextCursor;
      if (cursor === null) return out;
    }
    throw new ConsoleError('bad_response', `${path}: more than ${options.maxPages ?? 200} pages`);
  }

  return Object.freeze({ get, post, all });
}
