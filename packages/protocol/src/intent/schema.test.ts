import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../bytes.js';
import { canonicalJson } from '../canonical.js';
import { isProtocolError } from '../errors.js';
import { canonicalIntent, type Intent, intentDigest, intentDigestInput, parseIntent, rawIntent } from './schema.js';

const PSBT = 'cHNidP8BAAoCAAAAAAAAAAAAAAAA'; // canonical base64 (content is irrelevant to the schema)

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isProtocolError(e) ? e.code : `not a ProtocolError: ${String(e)}`;
  }
  return undefined;
}

describe('intent schema: one spelling per intent', () => {
  const valid: [string, unknown][] = [
    ['raw', { type: 'raw', message: '00ff' }],
    ['bitcoin-psbt', { type: 'bitcoin-psbt', psbt: PSBT, inputs: [0, 2, 7] }],
  ];
  for (const [name, raw] of valid) {
    it(`accepts ${name}`, () => {
      expect(parseIntent(raw)).toEqual(raw);
    });
  }

  const invalid: [string, unknown][] = [
    ['an unknown type', { type: 'ethereum-tx', message: '00' }],
    ['upper-case hex', { type: 'raw', message: '00FF' }],
    ['odd-length hex', { type: 'raw', message: '0' }],
    ['an empty message', { type: 'raw', message: '' }],
    ['an extra field', { type: 'raw', message: '00', note: 'x' }],
    ['unpadded base64', { type: 'bitcoin-psbt', psbt: 'YWJjZA', inputs: [0] }],
    ['truncated base64', { type: 'bitcoin-psbt', psbt: PSBT.slice(0, -1), inputs: [0] }],
    ['base64 with non-zero padding bits', { type: 'bitcoin-psbt', psbt: 'YR==', inputs: [0] }],
    ['url-safe base64', { type: 'bitcoin-psbt', psbt: 'cHNidP8-_wAA', inputs: [0] }],
    ['whitespace inside base64', { type: 'bitcoin-psbt', psbt: `${PSBT.slice(0, 8)} ${PSBT.slice(8)}`, inputs: [0] }],
    ['no inputs', { type: 'bitcoin-psbt', psbt: PSBT, inputs: [] }],
    ['inputs out of order', { type: 'bitcoin-psbt', psbt: PSBT, inputs: [2, 1] }],
    ['an input listed twice', { type: 'bitcoin-psbt', psbt: PSBT, inputs: [1, 1] }],
    ['a negative input', { type: 'bitcoin-psbt', psbt: PSBT, inputs: [-1] }],
    ['a fractional input', { type: 'bitcoin-psbt', psbt: PSBT, inputs: [0.5] }],
    ['an input as a string', { type: 'bitcoin-psbt', psbt: PSBT, inputs: ['0'] }],
  ];
  for (const [name, raw] of invalid) {
    it(`intent_invalid: ${name}`, () => {
      expect(code(() => parseIntent(raw))).toBe('intent_invalid');
    });
  }
});

describe('canonical intent and what an approval binds', () => {
  it('the canonical form carries exactly the fields of its type', () => {
    const sloppy = { type: 'raw', message: 'abcd', extra: 'dropped' } as unknown as Intent;
    expect(canonicalIntent(sloppy)).toEqual({ type: 'raw', message: 'abcd' });
    const psbt: Intent = { type: 'bitcoin-psbt', psbt: PSBT, inputs: [1, 3] };
    expect(intentDigestInput(psbt)).toEqual({ type: 'bitcoin-psbt', psbt: PSBT, inputs: [1, 3] });
    expect(canonicalJson(intentDigestInput(psbt))).toBe(`{"inputs":[1,3],"psbt":"${PSBT}","type":"bitcoin-psbt"}`);
  });

  it('a legacy request (message only) is the raw intent of that message', () => {
    expect(rawIntent('c0ffee')).toEqual({ type: 'raw', message: 'c0ffee' });
    expect(code(() => rawIntent('C0FFEE'))).toBe('intent_invalid');
  });

  it('intentDigest is SHA-256(glacis/intent/v1 ‖ 0x00 ‖ canonical JSON)', () => {
    const i: Intent = { type: 'raw', message: '00' };
    expect(toHex(intentDigest(i))).toBe(toHex(sha256(utf8('glacis/intent/v1\u0000{"message":"00","type":"raw"}'))));
  });

  it('a different input list or a different PSBT is a different intent', () => {
    const a = intentDigest({ type: 'bitcoin-psbt', psbt: PSBT, inputs: [0] });
    const b = intentDigest({ type: 'bitcoin-psbt', psbt: PSBT, inputs: [0, 1] });
    const c = intentDigest({ type: 'bitcoin-psbt', psbt: 'cHNidP8BAAoCAAAAAAAAAAAAAAAB', inputs: [0] });
    expect(new Set([a, b, c].map(toHex)).size).toBe(3);
  });
});
