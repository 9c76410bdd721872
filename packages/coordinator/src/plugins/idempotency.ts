/**
 * Idempotency-Key handling for creating POSTs. A key is scoped to (key, method + path, token
 * name); the first request's answer is stored in the same transaction as the row it created, so a
 * retry after a crash or restart finds it. Same body → the original answer; other body → 409.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '@glacis/protocol';
import { CoordinatorError } from '../errors.js';
import type { IdempotencyClaim, IdempotencyRecord, IdempotencyScope, JsonObject, Store } from '../store/types.js';

/** The scope of a request's Idempotency-Key, or undefined when it sent none. */
export function idempotencyScope(
  request: { method: string; url: string; headers: Record<string, unknown> },
  tokenName: string,
): IdempotencyScope | undefined {
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string') return undefined;
  // The query (?wait=) is how long to wait, not what to create: it is not part of the scope.
  const path = request.url.split('?', 1)[0] ?? request.url;
  return { key, route: `${request.method} ${path}`, tokenName };
}

/** SHA-256 (hex) of the canonical JSON of a validated body: key order and whitespace do not matter. */
export function requestHash(body: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(body ?? null), 'utf8')
    .digest('hex');
}

/** The earlier answer, if it was for the same body; throws `idempotency_conflict` if it was not. */
export function checkReplay(previous: IdempotencyRecord, hash: string): IdempotencyRecord {
  if (previous.requestHash !== hash) {
    throw new CoordinatorError('idempotency_conflict', 'this Idempotency-Key was used with a different request body');
  }
  return previous;
}

/** The earlier answer under `scope`, if any (see checkReplay). */
export async function findReplay(store: Store, scope: IdempotencyScope | undefined, hash: string): Promise<IdempotencyRecord | undefined> {
  const previous = scope === undefined ? undefined : await store.getIdempotency(scope);
  return previous === undefined ? undefined : checkReplay(previous, hash);
}

/** The claim a create call stores with its row, or undefined without an Idempotency-Key. */
export function claimFor(
  scope: IdempotencyScope | undefined,
  hash: string,
  statusCode: number,
  body: JsonObject,
): IdempotencyClaim | undefined {
  return scope === undefined ? undefined : { scope, requestHash: hash, response: { statusCode, body } };
}
