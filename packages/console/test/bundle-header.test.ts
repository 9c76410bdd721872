/**
 * The Air gap page's reading of a bundle against the protocol's: the same header fields as
 * `readBundleHeader` on sealed bundles of one and many items, the sender's signature checked
 * against its key, and every damage the protocol refuses before the signature (a flipped byte, a
 * cut, trailing bytes, another magic or version) refused here too.
 */
import { readBundleHeader, sealBundle, toHex } from '@glacis/protocol';
import { describe, expect, test } from 'vitest';
import { coordinator, countingRng, party3, signingPackages } from '../../protocol/test/bundle-fixtures.js';
import { bundleSignedBy, readBundleSummary } from '../src/bundle-header.js';
import { isConsoleError } from '../src/errors.js';

const subtle = globalThis.crypto.subtle;
const seal = (count: number, sequence: number) =>
  sealBundle(
    {
      recipient: 'party-3',
      sequence,
      createdAt: 1_767_000_000_000 + count,
      items: signingPackages(count).map((envelope) => ({ kind: 'envelope' as const, envelope })),
    },
    coordinator,
    countingRng(count),
  );

describe('a bundle’s header in the browser', () => {
  test('reads what the protocol reads, and checks the sender’s signature', async () => {
    for (const [count, sequence] of [
      [1, 1],
      [7, 2 ** 40],
      [40, Number.MAX_SAFE_INTEGER],
    ] as const) {
      const bytes = seal(count, sequence);
      const theirs = readBundleHeader(bytes);
      expect(await readBundleSummary(subtle, bytes)).toEqual({
        version: theirs.version,
        length: theirs.length,
        sender: theirs.sender,
        recipient: theirs.recipient,
        sequence: theirs.sequence,
        bundleId: toHex(theirs.bundleId),
        createdAt: theirs.createdAt,
        itemCount: theirs.itemCount,
      });
      expect(await bundleSignedBy(subtle, bytes, coordinator.identity.publicKey)).toBe(true);
      expect(await bundleSignedBy(subtle, bytes, party3.identity.publicKey)).toBe(false);
    }
  });

  test('refuses what the protocol refuses before the signature: damage, a cut, extra bytes, another magic or version', async () => {
    const bytes = seal(3, 5);
    const flipped = bytes.slice();
    flipped[60] = (flipped[60] as number) ^ 1;
    const damaged = [
      flipped,
      bytes.subarray(0, bytes.length - 1),
      Uint8Array.of(...bytes, 0),
      Uint8Array.of(0x88, ...bytes.subarray(1)),
      Uint8Array.of(...bytes.subarray(0, 4), 2, ...bytes.subarray(5)),
      new Uint8Array(8),
    ];
    for (const d of damaged) {
      expect(() => readBundleHeader(d)).toThrow();
      await expect(readBundleSummary(subtle, d)).rejects.toSatisfy((e) => isConsoleError(e, 'invalid_bundle'));
    }
  });
});
