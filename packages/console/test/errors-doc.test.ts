import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { CONSOLE_ERROR_CODES } from '../src/errors.js';

test('docs/errors.md lists every code of the console, in its section, and nothing else', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## The console'));
  expect([...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1])).toEqual([...CONSOLE_ERROR_CODES]);
});
