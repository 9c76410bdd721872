import { describe, expect, test } from 'vitest';
import { fromHex } from './bytes.js';
import { identityFingerprint } from './fingerprint.js';

describe('identityFingerprint', () => {
  test('is the first 128 bits of SHA-256 of the key, in groups of four hex digits', () => {
    // SHA-256 of 32 zero bytes: 66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925.
    expect(identityFingerprint(new Uint8Array(32))).toBe('6668 7aad f862 bd77 6c8f c18b 8e9f 8e20');
  });

  test('differs for keys that differ in one bit', () => {
    const a = fromHex('00'.repeat(32));
    const b = fromHex(`01${'00'.repeat(31)}`);
    expect(identityFingerprint(a)).not.toBe(identityFingerprint(b));
  });
});
