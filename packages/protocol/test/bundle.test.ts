/**
 * Bundles carry what an air-gapped party needs, and nothing is lost or reordered on the way: one
 * item or a batch of a hundred, any envelope type (also ones this code does not know yet) and
 * receipts; the codec writes exactly the layout docs/bundles.md draws; what is sealed opens.
 */
import { describe, expect, it } from 'vitest';
import {
  type BundleItem,
  canonicalJson,
  MAX_BUNDLE_BYTES,
  MAX_BUNDLE_ITEMS,
  MemoryBundleLedger,
  openBundle,
  openEnvelope,
  readBundleHeader,
  receiptFor,
  sealBundle,
} from '../src/index.js';
import {
  coordinator,
  countingRng,
  envelopeItemBytes,
  expectBundleCode,
  keyOf,
  party1,
  party3,
  party3Opens,
  rawBundle,
  relayedRound1,
  signingPackages,
} from './bundle-fixtures.js';

const draft = (items: BundleItem[], sequence = 1) => ({ recipient: 'party-3', sequence, createdAt: 1_767_225_600_000, items });
const envelopes = (n: number): BundleItem[] => signingPackages(n).map((envelope) => ({ kind: 'envelope', envelope }));

describe('bundles round-trip', () => {
  it('one signing package: the header and the envelope come back, and the envelope still opens end to end', () => {
    const [pkg] = signingPackages(1);
    const bytes = sealBundle(draft([{ kind: 'envelope', envelope: pkg! }]), coordinator, countingRng());
    const opened = openBundle(bytes, party3Opens());
    expect(opened).toMatchObject({
      version: 1,
      sender: 'coordinator',
      recipient: 'party-3',
      sequence: 1,
      createdAt: 1_767_225_600_000,
      itemCount: 1,
    });
    expect(opened.length).toBe(bytes.length);
    expect(opened.items).toEqual([{ kind: 'envelope', envelope: pkg }]);
    const env = opened.items[0]?.kind === 'envelope' ? opened.items[0].envelope : undefined;
    expect(openEnvelope(env, { self: 'party-3', keyOf }).type).toBe('signing_package');
  });

  it('a batch of 100 signing packages plus a relayed DKG round and a receipt: all come back, in order', () => {
    const earlier = openBundle(sealBundle(draft(envelopes(1)), coordinator, countingRng(7)), party3Opens());
    const items: BundleItem[] = [
      ...envelopes(100),
      { kind: 'envelope', envelope: relayedRound1() },
      { kind: 'receipt', receipt: receiptFor(earlier) },
    ];
    const bytes = sealBundle(draft(items, 2), coordinator, countingRng());
    const opened = openBundle(bytes, party3Opens());
    expect(opened.itemCount).toBe(102);
    expect(opened.items).toEqual(items);
    // The relayed envelope keeps party-1's own signature: the coordinator carried it, it could not have forged it.
    const round1 = opened.items[100];
    expect(round1?.kind === 'envelope' && openEnvelope(round1.envelope, { self: 'party-3', keyOf }).from).toBe('party-1');
  });

  it('an envelope type this code does not know yet travels unchanged (no format change for new message types)', () => {
    const future = { ...signingPackages(1)[0]!, type: 'refresh_round1', body: { anything: ['new'] } };
    const opened = openBundle(sealBundle(draft([{ kind: 'envelope', envelope: future }]), coordinator, countingRng()), party3Opens());
    expect(opened.items).toEqual([{ kind: 'envelope', envelope: future }]);
  });

  it('the codec writes exactly the documented layout (an independent writer gives the same bytes)', () => {
    const [pkg] = signingPackages(1);
    const rng = countingRng(3);
    const bytes = sealBundle(draft([{ kind: 'envelope', envelope: pkg! }], 42), coordinator, rng);
    const bundleId = countingRng(3)(16);
    const byHand = rawBundle({ sequence: 42n, bundleId, items: envelopeItemBytes(canonicalJson(pkg)) });
    expect(Buffer.from(bytes).toString('hex')).toBe(Buffer.from(byHand).toString('hex'));
  });

  it('a receipt names the acknowledged bundle by id, sequence and checksum', () => {
    const received = openBundle(sealBundle(draft(envelopes(2), 9), coordinator, countingRng()), party3Opens());
    const ack = sealBundle(
      { recipient: 'coordinator', sequence: 1, createdAt: 5, items: [{ kind: 'receipt', receipt: receiptFor(received) }] },
      party3,
      countingRng(),
    );
    const back = openBundle(ack, { self: 'coordinator', keyOf, ledger: new MemoryBundleLedger() });
    expect(back.items).toEqual([{ kind: 'receipt', receipt: { bundleId: received.bundleId, sequence: 9, checksum: received.checksum } }]);
  });

  it('readBundleHeader shows who sent what to whom without any key', () => {
    const bytes = sealBundle(draft(envelopes(3), 5), coordinator, countingRng());
    expect(readBundleHeader(bytes)).toMatchObject({ sender: 'coordinator', recipient: 'party-3', sequence: 5, itemCount: 3 });
  });
});

describe('the ledger refuses replays and lets the channel move on', () => {
  it('a recorded sequence and anything below it is refused; a later one with a gap is accepted', () => {
    const opts = party3Opens();
    const b5 = sealBundle(draft(envelopes(1), 5), coordinator, countingRng(1));
    opts.ledger.record(openBundle(b5, opts));
    expectBundleCode(() => openBundle(b5, opts), 'bundle_replayed');
    expectBundleCode(() => openBundle(sealBundle(draft(envelopes(1), 4), coordinator, countingRng(2)), opts), 'bundle_replayed');
    expect(openBundle(sealBundle(draft(envelopes(1), 9), coordinator, countingRng(3)), opts).sequence).toBe(9);
  });

  it('sequences are per sender: party-1 at 1 is fresh after the coordinator reached 5', () => {
    const ledger = new MemoryBundleLedger({ coordinator: 5 });
    const fromParty1 = sealBundle(draft(envelopes(1), 1), party1, countingRng());
    expect(openBundle(fromParty1, party3Opens(ledger)).sender).toBe('party-1');
  });

  it('survives a restart through its snapshot', () => {
    const ledger = new MemoryBundleLedger();
    ledger.record({ sender: 'coordinator', sequence: 12 });
    ledger.record({ sender: 'coordinator', sequence: 3 });
    const restored = new MemoryBundleLedger(JSON.parse(JSON.stringify(ledger.snapshot())));
    expect(restored.lastSequence('coordinator')).toBe(12);
  });

  it('a damaged snapshot is refused whole, not read in part (a dropped entry would reopen replays)', () => {
    for (const bad of [{ coordinator: -1 }, { coordinator: 1.5 }, { coordinator: '7' }, { coordinator: null }]) {
      expect(() => new MemoryBundleLedger(bad as unknown as Record<string, number>)).toThrow(RangeError);
    }
  });
});

describe('sealBundle refuses what openBundle would refuse', () => {
  it('no items, too many items, bad names, non-integer counters: bundle_malformed_header', () => {
    const one = envelopes(1);
    expectBundleCode(() => sealBundle(draft([]), coordinator, countingRng()), 'bundle_malformed_header');
    const many = Array.from({ length: MAX_BUNDLE_ITEMS + 1 }, () => one[0]!);
    expectBundleCode(() => sealBundle(draft(many), coordinator, countingRng()), 'bundle_malformed_header');
    expectBundleCode(() => sealBundle({ ...draft(one), recipient: 'Party 3' }, coordinator, countingRng()), 'bundle_malformed_header');
    expectBundleCode(() => sealBundle({ ...draft(one), recipient: '*' }, coordinator, countingRng()), 'bundle_malformed_header');
    expectBundleCode(() => sealBundle({ ...draft(one), sequence: 2 ** 53 }, coordinator, countingRng()), 'bundle_malformed_header');
    expectBundleCode(() => sealBundle({ ...draft(one), createdAt: 1.5 }, coordinator, countingRng()), 'bundle_malformed_header');
  });

  it('an envelope that is not one, or has no canonical form (a float): bundle_malformed_item', () => {
    const [pkg] = signingPackages(1);
    const noSig = { ...pkg!, signature: undefined } as unknown as typeof pkg & object;
    expectBundleCode(() => sealBundle(draft([{ kind: 'envelope', envelope: noSig }]), coordinator, countingRng()), 'bundle_malformed_item');
    const float = { ...pkg!, body: { x: 0.5 } };
    expectBundleCode(() => sealBundle(draft([{ kind: 'envelope', envelope: float }]), coordinator, countingRng()), 'bundle_malformed_item');
  });

  it(`more than ${MAX_BUNDLE_BYTES} bytes: bundle_too_large (split the batch)`, () => {
    const [pkg] = signingPackages(1);
    const big = { ...pkg!, body: { blob: 'ab'.repeat(450_000) } };
    const items: BundleItem[] = Array.from({ length: 5 }, () => ({ kind: 'envelope', envelope: big }));
    expectBundleCode(() => sealBundle(draft(items), coordinator, countingRng()), 'bundle_too_large');
  });
});
