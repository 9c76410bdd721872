/**
 * Hostile and damaged bundles. Each test is named after what happened to the bundle; each asserts
 * the code, who is blamed (the sender, only under its own valid signature), and that nothing
 * changed: the ledger is as it was and the input bytes are untouched.
 */
import { describe, expect, it } from 'vitest';
import {
  BUNDLE_ERROR_CODES,
  type BundleErrorCode,
  canonicalJson,
  MAX_BUNDLE_BYTES,
  MemoryBundleLedger,
  openBundle,
  readBundleHeader,
  sealBundle,
  utf8,
} from '../src/index.js';
import {
  coordinator,
  countingRng,
  envelopeItemBytes,
  expectBundleCode,
  identityOf,
  party3Opens,
  rawBundle,
  rawItem,
  reseal,
  signingPackages,
  stranger,
} from './bundle-fixtures.js';

const [pkg] = signingPackages(1);
const pkgJson = canonicalJson(pkg);
const valid = () =>
  sealBundle(
    { recipient: 'party-3', sequence: 10, createdAt: 1, items: [{ kind: 'envelope', envelope: pkg! }] },
    coordinator,
    countingRng(),
  );

/** Opens `bytes` as party-3 (ledger: coordinator at 3) expecting `code`; nothing may change. */
function refused(bytes: Uint8Array, code: BundleErrorCode, culprits: readonly string[] = []) {
  const ledger = new MemoryBundleLedger({ coordinator: 3 });
  const before = bytes.slice();
  const e = expectBundleCode(() => openBundle(bytes, party3Opens(ledger)), code, culprits);
  expect(ledger.snapshot()).toEqual({ coordinator: 3 });
  expect(Buffer.compare(bytes, before), 'the input bytes changed').toBe(0);
  return e;
}

const flip = (b: Uint8Array, at: number, mask = 0x01) => {
  const c = b.slice();
  c[at] = (c[at] as number) ^ mask;
  return c;
};

describe('damaged in transit', () => {
  it('a scan or copy cut short, at every length: bundle_truncated', () => {
    const b = valid();
    for (let n = 0; n < b.length; n++) refused(b.subarray(0, n), 'bundle_truncated');
  });

  it('bytes appended after the signature (a padded file): bundle_trailing_bytes', () => {
    const b = valid();
    refused(Uint8Array.of(...b, 0), 'bundle_trailing_bytes');
    refused(Uint8Array.of(...b, ...b), 'bundle_trailing_bytes');
  });

  it('any single bit flipped in the header, the items or the checksum: bundle_bad_checksum', () => {
    const b = valid();
    for (let at = 9; at < b.length - 64; at++) refused(flip(b, at, 1 << (at % 8)), 'bundle_bad_checksum');
  });

  it('a text-mode or 7-bit copy that cleared the high bit of the first byte: bundle_bad_magic', () => {
    refused(flip(valid(), 0, 0x80), 'bundle_bad_magic');
    refused(utf8('{"v":1,"type":"signing_package"}'), 'bundle_bad_magic');
    refused(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), 'bundle_bad_magic'); // a PNG
  });

  it('a 5 MiB blob, or a header declaring one: bundle_too_large, before anything else is read', () => {
    refused(new Uint8Array(MAX_BUNDLE_BYTES + 1), 'bundle_too_large');
    refused(rawBundle({ items: envelopeItemBytes(pkgJson), length: MAX_BUNDLE_BYTES + 1 }), 'bundle_too_large');
  });
});

describe('not this format', () => {
  it('a bundle from a future format version: bundle_unsupported_version (before its checksum, whose place may have moved)', () => {
    refused(rawBundle({ items: envelopeItemBytes(pkgJson), version: 2 }), 'bundle_unsupported_version');
    refused(rawBundle({ items: envelopeItemBytes(pkgJson), version: 0 }), 'bundle_unsupported_version');
  });

  it('a declared length too small for any header: bundle_malformed_header', () => {
    const b = rawBundle({ items: envelopeItemBytes(pkgJson) });
    const short = b.slice(0, 142);
    new DataView(short.buffer).setUint32(5, 142);
    refused(short, 'bundle_malformed_header');
  });

  it('header fields no sender could have written, under a valid checksum: bundle_malformed_header, nobody blamed', () => {
    const items = envelopeItemBytes(pkgJson);
    refused(rawBundle({ items, sender: 'Coordinator' }), 'bundle_malformed_header');
    refused(rawBundle({ items, recipient: '*' }), 'bundle_malformed_header');
    refused(rawBundle({ items, recipient: '' }), 'bundle_malformed_header');
    refused(rawBundle({ items, sequence: 2n ** 53n }), 'bundle_malformed_header');
    refused(rawBundle({ items, createdAt: 2n ** 64n - 1n }), 'bundle_malformed_header');
    refused(rawBundle({ items, itemCount: 0 }), 'bundle_malformed_header');
    refused(rawBundle({ items, itemCount: 1001 }), 'bundle_malformed_header');
  });
});

describe('forged or misdelivered', () => {
  it('a bundle from a sender nobody pinned: bundle_unknown_sender', () => {
    refused(rawBundle({ items: envelopeItemBytes(pkgJson), sender: stranger.name }), 'bundle_unknown_sender');
  });

  it("mallory signs a bundle in the coordinator's name: bundle_bad_signature, nobody blamed", () => {
    refused(rawBundle({ items: envelopeItemBytes(pkgJson), signer: stranger.identity }), 'bundle_bad_signature');
  });

  it('a forger raises the sequence and fixes the checksum, keeping the old signature: bundle_bad_signature', () => {
    const b = valid();
    const edited = flip(b, b.length - 96 - envelopeItemBytes(pkgJson).length - 2 - 8 - 16 - 1, 0x40); // a bit of the sequence
    const rechecked = reseal(edited, stranger.identity);
    rechecked.set(b.subarray(b.length - 64), b.length - 64);
    refused(rechecked, 'bundle_bad_signature');
  });

  it('any bit of the signature flipped: bundle_bad_signature', () => {
    const b = valid();
    for (let at = b.length - 64; at < b.length; at += 7) refused(flip(b, at), 'bundle_bad_signature');
  });

  it('a bundle for party-1 carried to party-3: bundle_wrong_recipient, nobody blamed (the sender addressed it right)', () => {
    refused(rawBundle({ items: envelopeItemBytes(pkgJson), recipient: 'party-1' }), 'bundle_wrong_recipient');
  });
});

describe('the sender signed something broken: bundle_malformed_item, the sender blamed', () => {
  const blamed = (items: Uint8Array, itemCount = 1) => refused(rawBundle({ items, itemCount }), 'bundle_malformed_item', ['coordinator']);

  it('an item kind no version defines (0x00, 0x03, 0xff)', () => {
    for (const kind of [0x00, 0x03, 0xff]) blamed(rawItem(kind, utf8(pkgJson)));
  });

  it('an item whose length runs past the item area, or leaves bytes after the last item', () => {
    blamed(rawItem(0x01, utf8(pkgJson), pkgJson.length + 1));
    blamed(Uint8Array.of(...envelopeItemBytes(pkgJson), 0x00));
    blamed(envelopeItemBytes(pkgJson), 2);
    blamed(rawItem(0x01, new Uint8Array(0), 0xffffffff));
  });

  it('envelope JSON that is not canonical: reordered keys, whitespace, a BOM', () => {
    blamed(envelopeItemBytes(JSON.stringify({ signature: pkg?.signature, ...pkg })));
    blamed(envelopeItemBytes(JSON.stringify(JSON.parse(pkgJson), null, 1)));
    blamed(envelopeItemBytes(`\ufeff${pkgJson}`));
  });

  it('bytes that are not UTF-8 JSON, or JSON that is not an envelope', () => {
    blamed(rawItem(0x01, Uint8Array.of(0x7b, 0xff, 0x7d)));
    blamed(envelopeItemBytes('{"v":1'));
    blamed(envelopeItemBytes('[]'));
    blamed(envelopeItemBytes(canonicalJson({ ...JSON.parse(pkgJson), extra: 1 })));
    blamed(envelopeItemBytes(canonicalJson({ ...JSON.parse(pkgJson), seq: -1 })));
  });

  it('an envelope whose body has no canonical form (a float, nesting deeper than 32)', () => {
    blamed(envelopeItemBytes(pkgJson.replace('"body":{', '"body":{"f":0.5,')));
    blamed(envelopeItemBytes(pkgJson.replace('"body":{', `"body":{"deep":${'['.repeat(40)}${']'.repeat(40)},`)));
  });

  it('a receipt of the wrong size', () => {
    blamed(rawItem(0x02, new Uint8Array(55)));
    blamed(rawItem(0x02, new Uint8Array(57)));
  });
});

describe('replayed', () => {
  it('the same bundle scanned again after it was acted on: bundle_replayed', () => {
    const ledger = new MemoryBundleLedger();
    const b = valid();
    ledger.record(openBundle(b, party3Opens(ledger)));
    expectBundleCode(() => openBundle(b, party3Opens(ledger)), 'bundle_replayed', []);
    expect(ledger.snapshot()).toEqual({ coordinator: 10 });
  });

  it('an old bundle delivered after a newer one (sequence 2 after 3): bundle_replayed', () => {
    refused(rawBundle({ items: envelopeItemBytes(pkgJson), sequence: 2n }), 'bundle_replayed');
    refused(rawBundle({ items: envelopeItemBytes(pkgJson), sequence: 3n }), 'bundle_replayed');
  });
});

describe('checks run in the documented order: with two defects, the earlier check answers', () => {
  const items = envelopeItemBytes(pkgJson);
  const cases: [string, () => Uint8Array, BundleErrorCode][] = [
    ['too large and bad magic', () => new Uint8Array(MAX_BUNDLE_BYTES + 1).fill(0x41), 'bundle_too_large'],
    ['bad magic and wrong version', () => flip(rawBundle({ items, version: 2 }), 1), 'bundle_bad_magic'],
    ['wrong version and truncated', () => rawBundle({ items, version: 2 }).subarray(0, 100), 'bundle_unsupported_version'],
    ['truncated and bad checksum', () => flip(rawBundle({ items }), 20).subarray(0, 300), 'bundle_truncated'],
    ['bad checksum and unknown sender', () => flip(rawBundle({ items, sender: stranger.name }), 40), 'bundle_bad_checksum'],
    ['malformed header and bad signature', () => rawBundle({ items, itemCount: 0, signer: stranger.identity }), 'bundle_malformed_header'],
    [
      'unknown sender and wrong recipient',
      () => rawBundle({ items, sender: stranger.name, recipient: 'party-1' }),
      'bundle_unknown_sender',
    ],
    [
      'bad signature and wrong recipient',
      () => rawBundle({ items, recipient: 'party-1', signer: stranger.identity }),
      'bundle_bad_signature',
    ],
    [
      'wrong recipient and malformed item',
      () => rawBundle({ items: rawItem(0x09, new Uint8Array(4)), recipient: 'party-1' }),
      'bundle_wrong_recipient',
    ],
    ['malformed item and replayed', () => rawBundle({ items: rawItem(0x09, new Uint8Array(4)), sequence: 1n }), 'bundle_malformed_item'],
  ];
  for (const [what, make, code] of cases)
    it(`${what} → ${code}`, () => void refused(make(), code, code === 'bundle_malformed_item' ? ['coordinator'] : []));

  it('every code has a case above or its own test, in the order BUNDLE_ERROR_CODES lists', () => {
    const firsts = cases.map(([, , c]) => c);
    for (const c of firsts) expect(BUNDLE_ERROR_CODES).toContain(c);
    expect(BUNDLE_ERROR_CODES.indexOf('bundle_bad_magic')).toBeLessThan(BUNDLE_ERROR_CODES.indexOf('bundle_unsupported_version'));
  });
});

describe('readBundleHeader', () => {
  it('trusts nothing: a header signed by the wrong key still reads, and openBundle refuses it', () => {
    const b = rawBundle({ items: envelopeItemBytes(pkgJson), signer: identityOf('someone') });
    expect(readBundleHeader(b).sender).toBe('coordinator');
    refused(b, 'bundle_bad_signature');
  });
});
