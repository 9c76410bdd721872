/** Canonical JSON is what envelope signatures and transcript hashes cover: one value, one encoding. */
import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalJson } from './canonical.js';
import { isProtocolError } from './errors.js';

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return isProtocolError(e) ? e.code : 'not a ProtocolError';
  }
  return undefined;
};

describe('canonicalJson', () => {
  it('sorts keys at every depth, keeps array order, no whitespace', () => {
    expect(canonicalJson({ b: [3, { z: 1, y: 2 }], a: 'x' })).toBe('{"a":"x","b":[3,{"y":2,"z":1}]}');
    expect(canonicalJson({ a: 'x', b: [3, { y: 2, z: 1 }] })).toBe(canonicalJson({ b: [3, { z: 1, y: 2 }], a: 'x' }));
  });

  it('sorts keys by UTF-16 code units, not locale', () => {
    expect(canonicalJson({ b: 1, B: 2, é: 3, a: 4 })).toBe('{"B":2,"a":4,"b":1,"é":3}');
  });

  it('treats an undefined member as absent', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it('refuses values without one canonical form', () => {
    for (const v of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 1n, () => 1, Symbol('s')]) {
      expect(codeOf(() => canonicalJson({ v }))).toBe('invalid_encoding');
    }
  });

  it('refuses nesting deeper than 32', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(codeOf(() => canonicalJson(deep))).toBe('invalid_encoding');
  });
});

describe('canonicalBytes', () => {
  it('separates domains', () => {
    const a = canonicalBytes('glacis/a', { x: 1 });
    const b = canonicalBytes('glacis/b', { x: 1 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(a).toString('utf8')).toBe('glacis/a\u0000{"x":1}');
  });
});
