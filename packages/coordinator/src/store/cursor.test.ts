import { describe, expect, test } from 'vitest';
import { decodeCursor, encodeCursor } from './cursor.js';

describe('cursors', () => {
  test('round-trip within their list and start at 0', () => {
    expect(decodeCursor('keys', encodeCursor('keys', 42))).toBe(42);
    expect(decodeCursor('signatures:key_a', encodeCursor('signatures:key_a', 7))).toBe(7);
    expect(decodeCursor('audit', null)).toBe(0);
    expect(encodeCursor('audit', 7)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  test('a cursor of one list is refused by another', () => {
    const c = encodeCursor('signatures:key_a', 3);
    for (const other of ['keys', 'audit', 'signatures:key_b'] as const) {
      expect(() => decodeCursor(other, c)).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
    }
  });

  test.each([
    '',
    'x',
    '42',
    'Yzk5',
    Buffer.from('c1.5').toString('base64url'),
    Buffer.from('c2.000000000000.-1').toString('base64url'),
    Buffer.from('c2.000000000000.1e3').toString('base64url'),
    '%%%',
    'a'.repeat(100),
  ])('rejects %j with invalid_cursor', (c) => {
    expect(() => decodeCursor('keys', c)).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
  });
});
