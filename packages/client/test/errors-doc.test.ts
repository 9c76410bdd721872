import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { CLIENT_ERROR_CODES } from '../src/errors.js';
import { KEY_REFUSAL_CODES } from '../src/verify-key.js';

test('docs/errors.md lists every code of the glacis CLI, in its section, and nothing else', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const section = (from: string, to: string) => {
    const start = doc.indexOf(from);
    const end = doc.indexOf(to, start);
    expect(start, from).toBeGreaterThan(0);
    const text = doc.slice(start, end < 0 ? undefined : end);
    return [...text.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
  };
  expect(section('### Could not check (exit 1)', '### Refused by `glacis keys verify`')).toEqual([...CLIENT_ERROR_CODES]);
  expect(section('### Refused by `glacis keys verify` (exit 3)', '### Refused by `glacis audit verify`')).toEqual([...KEY_REFUSAL_CODES]);
});
