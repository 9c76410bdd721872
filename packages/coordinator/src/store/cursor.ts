/**
 * Opaque pagination cursors. A cursor names the last row of the previous page by its insertion
 * sequence, and the list it belongs to by a short hash of that list's scope (`keys`, `audit`,
 * `signatures` across keys, `signatures:status:<status>`, `signatures:<keyId>`), so a cursor of one list is refused by another instead of silently paging
 * it from an unrelated position. Clients must not build or parse them: the encoding may change
 * between versions (a `c1.` cursor of an older coordinator is refused).
 */
import { createHash } from 'node:crypto';
import { CoordinatorError } from '../errors.js';

/** Which list a cursor pages. */
export type CursorScope = 'keys' | 'audit' | 'signatures' | `signatures:${string}`;

const tag = (scope: CursorScope) => createHash('sha256').update(scope, 'utf8').digest('hex').slice(0, 12);

/** The cursor that continues `scope` after the row with sequence number `seq`. */
export function encodeCursor(scope: CursorScope, seq: number): string {
  return Buffer.from(`c2.${tag(scope)}.${seq}`, 'utf8').toString('base64url');
}

/** The sequence number a cursor of `scope` continues after; 0 for the first page. Throws `invalid_cursor`. */
export function decodeCursor(scope: CursorScope, cursor: string | null): number {
  if (cursor === null) return 0;
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const m = /^c2\.([0-9a-f]{12})\.(\d{1,15})$/.exec(text);
  if (!m) throw new CoordinatorError('invalid_cursor', 'cursor: not a cursor this API returned');
  if (m[1] !== tag(scope)) throw new CoordinatorError('invalid_cursor', 'cursor: returned by another list');
  return Number(m[2]);
}

/** A page of the list `scope` from `rows` fetched with `limit + 1`: the extra row only says that there is a next page. */
export function pageOf<R extends { seq: number }, T>(
  scope: CursorScope,
  rows: readonly R[],
  limit: number,
  map: (r: R) => T,
): { items: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items: items.map(map), nextCursor: more ? encodeCursor(scope, (items[items.length - 1] as R).seq) : null };
}
