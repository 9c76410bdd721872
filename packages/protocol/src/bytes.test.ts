/** Hex is the only wire form of bytes; one value must have exactly one accepted spelling. */
import { describe, expect, it } from 'vitest';
import { equalBytes, fromHex, toHex } from './bytes.js';
import { isProtocolError } from './errors.js';

describe('fromHex', () => {
  it('round-trips lowercase hex, including the empty string', () => {
    expect(toHex(fromHex('00ff10'))).toBe('00ff10');
    expect(fromHex('').length).toBe(0);
  });

  it('refuses upper case, odd length, non-hex and non-strings with invalid_hex', () => {
    for (const bad of ['AB', 'abc', '0x00', 'zz', ' 00', '00 ', null, 42]) {
      let code: string | undefined;
      try {
        fromHex(bad as string);
      } catch (e) {
        code = isProtocolError(e) ? e.code : 'not a ProtocolError';
      }
      expect(code, String(bad)).toBe('invalid_hex');
    }
  });
});

describe('equalBytes', () => {
  it('compares content and length', () => {
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).toBe(false);
  });
});
