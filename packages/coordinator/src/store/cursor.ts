/**
 * Opaque pagination cursors. A cursor names the last row of the previous page by its insertion
 * sequence; clients must not build or parse them, so the encoding may change between versions.
 */
import { CoordinatorError } from '../errors.js';

const PREFIX = 'c1.';

/** The cursor that continues after the row with sequence number `seq`. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`${PREFIX}${seq}`, 'utf8').toString('base64url');
}

/** The sequence number a cursor continues after; 0 for the first page. Throws `invalid_cursor`. */
export function decodeCursor(cursor: string | null): number {
  if (cursor === null) return 0;
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const m = /^c1\.(\d{1,15})$/.exec(text);
  if (!m) throw new CoordinatorError('invalid_cursor', 'cursor: not a cursor this API returned');
  return Number(m[1]);
}

/** A page of `rows` fetched with `limit + 1`: the extra row only says that there is a next page. */
export function pageOf<R extends { seq: number }, T>(
  rows: readonly R[],
  limit: number,
  map: (r: R) => T,
): { items: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items: items.map(map), nextCursor: more ? encodeCursor((items[items.length - 1] as R).seq) : null };
}
