/**
 * The bundle parser under fast-check: every input either opens or fails with a BundleError whose
 * code is in BUNDLE_ERROR_CODES, never any other exception, and blames the sender only for an
 * item defect under its valid signature. What opens is exactly what sealBundle would write for
 * the same content (one bundle, one encoding). `describeBundle` and `readBundleHeader` obey the
 * same rule.
 *
 * Inputs come from six generators, most of them built to get past the early checks: raw bytes;
 * a valid preamble over random bytes; random header bytes under a valid checksum; structured
 * bundles with random (often broken) header fields and items, validly signed by a pinned or an
 * unpinned key; valid bundles of random envelopes and receipts; and valid bundles with random
 * edits, re-signed half the time. `npm test` runs
 * GLACIS_FUZZ_RUNS (default 400) inputs; `npm run fuzz` runs 100,000.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BUNDLE_ERROR_CODES,
  BundleError,
  type BundleItem,
  canonicalJson,
  concatBytes,
  describeBundle,
  MemoryBundleLedger,
  openBundle,
  readBundleHeader,
  sealBundle,
  utf8,
} from '../src/index.js';
import { coordinator, countingRng, identityOf, keyOf, rawBundle, rawItem, reseal, signingPackages, stranger } from './bundle-fixtures.js';

const RUNS = Number(process.env.GLACIS_FUZZ_RUNS ?? 400);
const CODES: readonly string[] = BUNDLE_ERROR_CODES;

const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
};
const MAGIC_VERSION = Uint8Array.of(0x89, 0x47, 0x4c, 0x42, 0x01);

const nameArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('coordinator', 'party-3', 'party-1') },
  { weight: 1, arbitrary: fc.constantFrom('mallory', '', '*', 'Party-3', 'a'.repeat(63), 'a'.repeat(64), 'é') },
  { weight: 1, arbitrary: fc.string({ maxLength: 70 }) },
);

/** An envelope-shaped value: usually right, sometimes off in one field. */
const envelopeArb = fc.record({
  v: fc.oneof(fc.constant(1), fc.integer()),
  type: fc.oneof(
    fc.constantFrom('signing_package', 'commitments', 'signature_share', 'dkg_round1', 'refresh_round1'),
    fc.string({ maxLength: 70 }),
  ),
  sessionId: fc.oneof(fc.constantFrom('s-1', 'req_2'), fc.string({ maxLength: 130 })),
  from: fc.oneof(nameArb, fc.string({ maxLength: 70 })),
  to: fc.oneof(nameArb, fc.constant('*')),
  seq: fc.oneof(fc.nat(), fc.integer({ min: -5, max: 5 }), fc.double()),
  body: fc.jsonValue({ maxDepth: 4 }),
  signature: fc.oneof(fc.constant('ab'.repeat(64)), fc.string({ maxLength: 10 })),
});

const itemArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: envelopeArb.map((e) => rawItem(0x01, utf8(safeCanonical(e)))) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map((j) => rawItem(0x01, utf8(j))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => rawItem(0x01, b)) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 56, maxLength: 56 }).map((b) => rawItem(0x02, b)) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(255), fc.uint8Array({ maxLength: 70 })).map(([k, b]) => rawItem(k, b)) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(255), fc.uint8Array({ maxLength: 70 }), fc.nat()).map(([k, b, len]) => rawItem(k, b, len)) },
);

function canonicalOrNull(v: unknown): string | null {
  try {
    return canonicalJson(v);
  } catch {
    return null;
  }
}

/** canonicalJson where it has one, else plain JSON (a float): the parser must refuse those itself. */
const safeCanonical = (v: unknown): string => canonicalOrNull(v) ?? JSON.stringify(v);

const structuredArb = fc
  .record({
    sender: nameArb,
    recipient: nameArb,
    sequence: fc.oneof(
      { weight: 8, arbitrary: fc.bigInt({ min: 0n, max: 20n }) },
      { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) },
    ),
    createdAt: fc.oneof(
      { weight: 8, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }) },
      { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) },
    ),
    items: fc.array(itemArb, { minLength: 0, maxLength: 4 }),
    countDelta: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) }),
    byStranger: fc.boolean(),
  })
  .filter((s) => [...s.sender, ...s.recipient].every((c) => c.charCodeAt(0) < 256) && s.sender.length < 256 && s.recipient.length < 256)
  .map((s) =>
    rawBundle({
      sender: s.sender,
      recipient: s.recipient,
      sequence: s.sequence,
      createdAt: s.createdAt,
      itemCount: Math.max(0, Math.min(65_535, s.items.length + s.countDelta)),
      items: concatBytes(...s.items),
      signer: s.byStranger ? stranger.identity : identityOf(s.sender),
    }),
  );

/** Valid bundles of valid envelopes and receipts, at sequences around the ledger's (3): they open, or are replays. */
const sealedArb = fc
  .record({
    sequence: fc.nat(8),
    items: fc.array(
      fc.oneof(
        envelopeArb
          .map((e) => ({ ...e, v: 1, sessionId: 's-1', seq: 5, signature: 'ab'.repeat(64) }))
          .filter((e) => canonicalOrNull(e) !== null && e.from.length <= 64 && e.to.length <= 64),
        fc.record({
          bundleId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
          sequence: fc.nat(),
          checksum: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        }),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ sequence, items }) =>
    sealBundle(
      {
        recipient: 'party-3',
        sequence,
        createdAt: 1,
        items: items.map((i): BundleItem => ('bundleId' in i ? { kind: 'receipt', receipt: i } : { kind: 'envelope', envelope: i })),
      },
      coordinator,
      countingRng(sequence),
    ),
  );

const base = sealBundle(
  {
    recipient: 'party-3',
    sequence: 7,
    createdAt: 1,
    items: signingPackages(2).map((envelope): BundleItem => ({ kind: 'envelope', envelope })),
  },
  coordinator,
  countingRng(),
);

const mutatedArb = fc
  .record({
    edits: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }),
    cut: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat() }),
    append: fc.oneof({ weight: 4, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 8 }) }),
    resign: fc.boolean(),
  })
  .map(({ edits, cut, append, resign }) => {
    let b: Uint8Array = base.slice();
    for (const [at, v] of edits) b[at % b.length] = v;
    if (resign) b = reseal(b, coordinator.identity);
    if (cut !== null) b = b.subarray(0, cut % (b.length + 1));
    return concatBytes(b, append);
  });

const checksummedArb = fc.uint8Array({ minLength: 40, maxLength: 300 }).map((body) => {
  const len = 9 + body.length + 96;
  const checked = concatBytes(MAGIC_VERSION, u32(len), body);
  return concatBytes(checked, sha256(checked), new Uint8Array(64));
});

const inputArb = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.nat(1000), fc.uint8Array({ maxLength: 400 })).map(([n, rest]) => concatBytes(MAGIC_VERSION, u32(n), rest)),
  },
  { weight: 2, arbitrary: checksummedArb },
  { weight: 4, arbitrary: structuredArb },
  { weight: 3, arbitrary: mutatedArb },
  { weight: 2, arbitrary: sealedArb },
);

/** Runs `f`; a throw must be a typed BundleError. */
function typedOrValue<T>(f: () => T): T | BundleError {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof BundleError) || !CODES.includes(e.code)) throw e;
    return e;
  }
}

describe('bundle parser fuzz', () => {
  it(
    `${RUNS} inputs: each opens or fails with a typed code; what opens is the codec's own encoding`,
    () => {
      const outcomes = new Map<string, number>();
      fc.assert(
        fc.property(inputArb, (input) => {
          const ledger = new MemoryBundleLedger({ coordinator: 3 });
          const r = typedOrValue(() => openBundle(input, { self: 'party-3', keyOf, ledger }));
          typedOrValue(() => readBundleHeader(input));
          typedOrValue(() => describeBundle(input));
          if (r instanceof BundleError) {
            outcomes.set(r.code, (outcomes.get(r.code) ?? 0) + 1);
            // Blame only under a verified signature, and only the sender.
            if (r.culprits.length > 0) {
              expect(r.code).toBe('bundle_malformed_item');
              expect(r.culprits).toEqual([readBundleHeader(input).sender]);
            }
            return;
          }
          outcomes.set('opened', (outcomes.get('opened') ?? 0) + 1);
          const again = sealBundle(r, { name: r.sender, identity: identityOf(r.sender) }, () => r.bundleId.slice());
          expect(Buffer.compare(again, input)).toBe(0);
        }),
        { numRuns: RUNS },
      );
      if (process.env.GLACIS_FUZZ_VERBOSE) console.log(Object.fromEntries(outcomes));
      // The generators reach every check (at fuzz scale; a few hundred inputs reach most of them).
      if (RUNS >= 10_000) expect([...outcomes.keys()].sort()).toEqual([...CODES, 'opened'].sort());
      else expect(outcomes.size).toBeGreaterThan(6);
    },
    60_000 + RUNS * 20,
  );
});
