/**
 * docs/threat-model.md names the tests that prove each defence, by file and exact name, so that a
 * reader can run them. Every name it quotes (without an ellipsis) after a test file in a table row
 * is a test or describe block of that file: literally, or as the template literal that makes it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const doc = readFileSync(join(ROOT, 'docs/threat-model.md'), 'utf8');

/** Each test file a table row cites, with the names quoted after it (up to the next file). */
function citations(): { file: string; name: string }[] {
  const out: { file: string; name: string }[] = [];
  for (const row of doc.split('\n').filter((l) => l.startsWith('|'))) {
    const parts = row.split(/`([^`]+\.test\.ts)`/); // odd indices: the files
    for (let i = 1; i < parts.length; i += 2) {
      for (const [, name] of (parts[i + 1] ?? '').matchAll(/"([^"]+)"/g)) {
        if (name && !name.includes('…')) out.push({ file: parts[i] as string, name });
      }
    }
  }
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `file` can name a test or block `name`: a literal, or a template literal with its `${…}` filled in. */
function canName(file: string, name: string): boolean {
  const src = readFileSync(join(ROOT, file), 'utf8');
  if (src.includes(name)) return true;
  return [...src.matchAll(/`([^`]*\$\{[^`]*)`/g)].some(([, t]) =>
    new RegExp(
      `^${(t as string)
        .split(/\$\{[^}]*\}/)
        .map(escapeRegExp)
        .join('.+')}$`,
    ).test(name),
  );
}

it('every test docs/threat-model.md names exists, under that exact name, in the file it names', () => {
  const cited = citations();
  expect(cited.length).toBeGreaterThan(40);
  const wrong = cited.filter(({ file, name }) => !existsSync(join(ROOT, file)) || !canName(file, name));
  expect(wrong).toEqual([]);
});
