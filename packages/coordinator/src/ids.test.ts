import { describe, expect, test } from 'vitest';
import { ID_PATTERN, newId } from './ids.js';

describe('newId', () => {
  test('is prefix + 26 Crockford base32 chars, URL-safe and within the id pattern', () => {
    for (const kind of ['key', 'sig', 'op'] as const) {
      const id = newId(kind);
      expect(id).toMatch(new RegExp(`^${kind}_[0-9A-HJKMNP-TV-Z]{26}$`));
      expect(id).toMatch(ID_PATTERN);
    }
  });

  test('sorts by time, and is deterministic given time and randomness', () => {
    const zero = new Uint8Array(10);
    expect(newId('key', 0, zero)).toBe(`key_${'0'.repeat(26)}`);
    expect(newId('key', 1, new Uint8Array(10).fill(255))).toBe(`key_000000000${'1'}${'Z'.repeat(16)}`);
    expect(newId('op', 1_000, zero) < newId('op', 2_000, zero)).toBe(true);
  });

  test('does not repeat', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId('sig', 5)));
    expect(ids.size).toBe(10_000);
  });
});
