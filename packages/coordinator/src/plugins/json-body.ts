/**
 * The one JSON body parser. Stricter than fastify's: the bytes must be UTF-8 (RFC 8259 §8.1), every
 * string must be well-formed Unicode, and no object may carry a `__proto__` key. A lone surrogate
 * would be stored by SQLite as U+FFFD while the audit log kept the original; a `__proto__` key
 * copied by a record schema would set a prototype. Both are the client's mistake in a body that is
 * valid JSON, so they are `invalid_request`; bytes that are not JSON text are `invalid_json`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CoordinatorError } from '../errors.js';

// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A value met while walking a body, linked to its parent so paths are built only for errors. */
interface Visit {
  v: unknown;
  key: string | number | undefined;
  parent: Visit | undefined;
}

/** Where a value sits in the body, for the error's detail (`context.a.0`). */
function where(visit: Visit): string {
  const path: (string | number)[] = [];
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) path.unshift(at.key);
  return path.length === 0 ? 'body' : path.join('.').slice(0, 200);
}

/**
 * Throws `invalid_request` at the first non-well-formed string or `__proto__` key of a parsed body.
 * Iterative, so that nesting as deep as the body limit allows cannot exhaust the stack.
 */
export function assertCleanJson(value: unknown): void {
  const stack: Visit[] = [{ v: value, key: undefined, parent: undefined }];
  for (let visit = stack.pop(); visit !== undefined; visit = stack.pop()) {
    const { v } = visit;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v))
        throw new CoordinatorError('invalid_request', `${where(visit)}: not well-formed Unicode (a lone surrogate)`);
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], key: i, parent: visit });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '__proto__') throw new CoordinatorError('invalid_request', `${where(visit)}: the key "__proto__" is not allowed`);
        if (LONE_SURROGATE.test(k)) throw new CoordinatorError('invalid_request', `${where(visit)}: a key is not well-formed Unicode`);
        stack.push({ v: x, key: k, parent: visit });
      }
    }
  }
}

/** Parses a JSON body (see the module comment). */
export function parseJsonBody(request: Pick<FastifyRequest, 'is404'>, body: Buffer): unknown {
  // No route matched: whatever the body holds, the answer is the 404 the not-found handler gives.
  if (request.is404) return undefined;
  if (body.length === 0) throw new CoordinatorError('invalid_json', 'body: empty, but Content-Type says JSON');
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new CoordinatorError('invalid_json', 'body: not UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CoordinatorError('invalid_json', 'body: not valid JSON');
  }
  assertCleanJson(value);
  return value;
}

/** Replaces fastify's JSON parser with parseJsonBody. */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, parseJsonBody(request, body as Buffer));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
