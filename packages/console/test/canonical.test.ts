/**
 * The browser's canonical JSON against the protocol's, on generated JSON (unicode strings and keys,
 * safe integers at their limits, deep nesting) and on what has no canonical form: equal text, or
 * both refuse.
 */
import { canonicalJson as protocolCanonical } from '@glacis/protocol';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { canonicalJson } from '../src/canonical.js';
import { isConsoleError } from '../src/errors.js';

const runs = Number(process.env.GLACIS_FUZZ_RUNS ?? 2000);

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.string({ unit: 'binary' }),
    fc.maxSafeInteger(),
    fc.constantFrom(0, -0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** The encoder's text, or the fact that it refused. */
function outcome(encode: (v: unknown) => string, v: unknown): string {
  try {
    return `ok:${encode(v)}`;
  } catch {
    return 'refused';
  }
}

describe('canonical JSON in the browser', () => {
  test('is the protocol’s on generated JSON values', () => {
    fc.assert(
      fc.property(json, (v) => {
        expect(canonicalJson(v)).toBe(protocolCanonical(v));
      }),
      { numRuns: runs },
    );
  });

  test('refuses what the protocol refuses: floats, unsafe integers, non-JSON values, nesting past 32', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    const cases: unknown[] = [1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, { a: 0.1 }, [1n], () => 1, Symbol('s'), deep];
    for (const v of cases) {
      expect(outcome(canonicalJson, v)).toBe('refused');
      expect(outcome(protocolCanonical, v)).toBe('refused');
    }
    try {
      canonicalJson(1.5);
    } catch (e) {
      expect(isConsoleError(e, 'invalid_encoding')).toBe(true);
    }
  });

  test('sorts keys by UTF-16 code unit and leaves undefined members out, as the protocol does', () => {
    const v = { b: 1, a: { z: [true, null], é: 'x', '\u{1F600}': 'emoji', Z: undefined }, '': 0 };
    expect(canonicalJson(v)).toBe(protocolCanonical(v));
    expect(canonicalJson(v)).toBe('{"":0,"a":{"z":[true,null],"é":"x","\u{1F600}":"emoji"},"b":1}');
  });
});
