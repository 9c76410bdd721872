import { describe, expect, test } from 'vitest';
import { decodeCursor, encodeCursor } from './cursor.js';

describe('cursors', () => {
  test('round-trip and start at 0', () => {
    expect(decodeCursor(encodeCursor(42))).toBe(42);
    expect(decodeCursor(null)).toBe(0);
    expect(encodeCursor(7)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  test.each([
    '',
    'x',
    '42',
    'Yzk5',
    Buffer.from('c1.-1').toString('base64url'),
    Buffer.from('c1.1e3').toString('base64url'),
    '%%%',
    'a'.repeat(100),
  ])('rejects %j with invalid_cursor', (c) => {
    expect(() => decodeCursor(c)).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
  });
});
