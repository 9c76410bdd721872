import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { CoordinatorError, ERROR_STATUS, isErrorCode } from './errors.js';

describe('error codes', () => {
  test('docs/errors.md lists every code with the status the code maps to, and nothing else', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## HTTP errors'), doc.indexOf('## Errors in settled objects'));
    const rows = [...section.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(rows)).toEqual(ERROR_STATUS);
  });

  test('a CoordinatorError takes its status from its code', () => {
    const e = new CoordinatorError('key_not_active', 'pending');
    expect([e.statusCode, e.code, e.detail, e.headers]).toEqual([409, 'key_not_active', 'pending', {}]);
    expect(isErrorCode('not_found')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
  });
});
