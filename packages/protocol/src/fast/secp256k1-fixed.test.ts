/**
 * Glacis's constant-time k·G on secp256k1 against noble's `Point.BASE.multiply`: random scalars,
 * the edges of [1, n), scalars whose signed windows carry into the last window, and the extreme
 * blinding factors; and the nonce commitments built on it against noble's `commit`, byte for byte,
 * in every suite.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getSuite, SUITE_IDS } from '../suites.js';
import { commitNonces } from './commitment.js';
import { fixedWindowTable, mulFixedPublic, secp256k1MulBase, secp256k1MulBasePublic } from './secp256k1-fixed.js';

const Point = secp256k1.Point;
const n = Point.Fn.ORDER;
type Cons = Parameters<typeof secp256k1MulBase>[0];
const blindOf = (byte: number) => (len: number) => new Uint8Array(len).fill(byte);
const ours = (k: bigint, blind?: (len: number) => Uint8Array) =>
  secp256k1MulBase(Point as unknown as Cons, k, blind) as unknown as InstanceType<typeof Point>;

describe('secp256k1MulBase equals noble’s k·G', () => {
  it('on the edges of [1, n) and on windows that carry, with the smallest and largest blinds', () => {
    const edges = [1n, 2n, 3n, 31n, 32n, 33n, 63n, 64n, n - 1n, n - 2n, n / 2n, (1n << 255n) + 1n, (1n << (6n * 40n)) - 1n, 0x20n * 0x41n];
    for (const k of edges)
      for (const blind of [blindOf(0x00), blindOf(0xff), undefined]) expect(ours(k, blind).equals(Point.BASE.multiply(k))).toBe(true);
  });

  it('as a property over random scalars and blinds', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: n - 1n }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (k, r) =>
        ours(k, () => r).equals(Point.BASE.multiply(k)),
      ),
      { numRuns: 300 },
    );
  });

  it('refuses 0, n and a blind of the wrong length, as noble refuses 0 and n', () => {
    expect(() => ours(0n)).toThrow(RangeError);
    expect(() => ours(n)).toThrow(RangeError);
    expect(() => ours(5n, () => new Uint8Array(8))).toThrow(/wrong length/);
  });
});

describe('public multiplications by a window table equal noble’s multiplyUnsafe', () => {
  const edges = [0n, 1n, 2n, 7n, 8n, 9n, n - 1n, n - 8n, n / 2n, (1n << 255n) + 3n];
  it('k·G from G’s table', () => {
    for (const k of edges) expect(secp256k1MulBasePublic(Point as unknown as Cons, k).equals(Point.BASE.multiplyUnsafe(k))).toBe(true);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: n - 1n }), (k) =>
        secp256k1MulBasePublic(Point as unknown as Cons, k).equals(Point.BASE.multiplyUnsafe(k)),
      ),
      { numRuns: 200 },
    );
  });

  it('k·P from the table of a key with Z ≠ 1, windows of 4 and 6 bits', () => {
    const key = Point.BASE.multiply(0xdeadbeefn).add(Point.BASE); // projective, Z ≠ 1
    for (const W of [4, 6]) {
      const table = fixedWindowTable(key as never, W, 256);
      for (const k of edges) expect(mulFixedPublic(Point as unknown as Cons, table, k).equals(key.multiplyUnsafe(k))).toBe(true);
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: n - 1n }), (k) =>
          mulFixedPublic(Point as unknown as Cons, table, k).equals(key.multiplyUnsafe(k)),
        ),
        { numRuns: 100 },
      );
    }
    expect(() => fixedWindowTable(Point.ZERO as never, 4, 256)).toThrow(/identity/);
    expect(() => mulFixedPublic(Point as unknown as Cons, fixedWindowTable(key as never, 4, 256), n)).toThrow(RangeError);
  });
});

describe('commitNonces equals noble’s commit', () => {
  for (const id of SUITE_IDS) {
    it(`${id}: same nonces and commitment bytes from the same randomness, points kept decoded`, () => {
      const suite = getSuite(id);
      for (let i = 1; i <= 8; i++) {
        const secret = suite.Fn.create(BigInt(i) * 0x1234567890abcdefn + 7n);
        // A deterministic rng: each draw is the next block of a counter.
        const streamOf = () => {
          let counter = i * 1000;
          return (len = 32) => new Uint8Array(len).map((_, j) => (counter++ * 31 + j) & 0xff);
        };
        const mine = commitNonces(suite, secret, streamOf());
        const theirs = suite.frost.commit(
          {
            identifier: suite.Fn.toBytes(1n).reduce((s, b) => s + b.toString(16).padStart(2, '0'), ''),
            signingShare: suite.Fn.toBytes(secret),
          },
          streamOf(),
        );
        expect(mine.nonces.hiding).toEqual(theirs.nonces.hiding);
        expect(mine.nonces.binding).toEqual(theirs.nonces.binding);
        expect(mine.commitment.hidingBytes).toEqual(theirs.commitments.hiding);
        expect(mine.commitment.bindingBytes).toEqual(theirs.commitments.binding);
        expect(mine.commitment.hiding.equals(suite.Point.fromBytes(theirs.commitments.hiding))).toBe(true);
        expect(mine.commitment.binding.equals(suite.Point.fromBytes(theirs.commitments.binding))).toBe(true);
      }
    });
  }
});
