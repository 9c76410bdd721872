/**
 * Hostile input, for every suite: bad scalars, bad points and bad identifiers where peers or the
 * coordinator can inject them. Each is refused with a typed code and, where a party sent it,
 * that party is named; nothing is accepted on the way to a wrong signature.
 */

import { ED448_TORSION_SUBGROUP } from '@noble/curves/ed448.js';
import { ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import {
  createAggregator,
  createSigner,
  fromHex,
  type MessageBody,
  makeCommittee,
  parseNonceCommitment,
  SUITE_IDS,
  type Suite,
  type SuiteId,
  toHex,
  utf8,
} from '../src/index.js';
import {
  type Cluster,
  cluster,
  commitmentOf,
  dkgVictim,
  entry,
  expectCode,
  expectError,
  rawMessages,
  rawPackage,
  rawSigning,
  scalarBytes,
  session,
} from './harness.js';
import { CRATES, vectorJson } from './load-vectors.js';
import { rng } from './sim.js';

const crateOf = (id: SuiteId) => Object.entries(CRATES).find(([, s]) => s === id)?.[0] as string;

/** Bytes of the right length (or near it) that no suite may accept as a group element. */
function badPoints(suite: Suite): [string, Uint8Array][] {
  const G = suite.Point.BASE.toBytes();
  const out: [string, Uint8Array][] = [
    ['too short', G.subarray(1)],
    ['too long', Uint8Array.of(...G, 0)],
    ['all zero', new Uint8Array(suite.elementLength)],
    ['all 0xff', new Uint8Array(suite.elementLength).fill(0xff)],
    [
      'elements.json invalid_element',
      fromHex(
        vectorJson<{ elements: { invalid_element: string } }>(`zcash-frost/${crateOf(suite.id)}/elements.json`).elements.invalid_element,
      ),
    ],
  ];
  try {
    out.push(['identity', suite.Point.ZERO.toBytes()]);
  } catch {
    // Weierstrass identity has no compressed encoding: its 1-byte SEC1 form stands in.
    out.push(['identity (SEC1 0x00)', Uint8Array.of(0)]);
  }
  // Off the curve: nudge the generator's coordinate until the decoder refuses it.
  const coordinateByte = suite.elementLength === 33 ? 32 : 0;
  for (let i = 1; i < 256; i++) {
    const b = G.slice();
    b[coordinateByte] = ((b[coordinateByte] as number) + i) & 0xff;
    let decodes = true;
    try {
      suite.Point.fromBytes(b);
    } catch {
      decodes = false;
    }
    if (!decodes) {
      out.push(['off the curve', b]);
      break;
    }
  }
  if (suite.elementLength === 33) out.push(['uncompressed G (non-canonical)', suite.Point.BASE.toBytes(false)]);
  const torsion = suite.id === 'ed25519' ? ED25519_TORSION_SUBGROUP : suite.id === 'ed448' ? ED448_TORSION_SUBGROUP : [];
  for (const [i, h] of torsion.entries()) out.push([`small-order point #${i}`, fromHex(h)]);
  if (suite.id === 'ed25519' || suite.id === 'ed448') {
    // G plus a point of order 2/4: on the curve, right length, wrong subgroup.
    const mixed = suite.Point.BASE.add(suite.Point.fromBytes(fromHex(torsion[2] as string))).toBytes();
    out.push(['G + small-order point', mixed]);
  }
  expect(out.some(([l]) => l === 'off the curve')).toBe(true);
  return out;
}

const clusters = new Map<SuiteId, Cluster>();
const clusterOf = (id: SuiteId) => {
  let c = clusters.get(id);
  if (!c) {
    c = cluster(id, 3, 2);
    clusters.set(id, c);
  }
  return c;
};

for (const id of SUITE_IDS) {
  describe(`${id}: hostile input`, () => {
    const suite = () => clusterOf(id).suite;

    it('parseElement refuses every bad point with invalid_point', () => {
      for (const [label, bytes] of badPoints(suite())) {
        expectCode(() => suite().parseElement(bytes, label, 'mallory'), 'invalid_point', ['mallory']);
      }
    });

    it('a bad point in a DKG round-1 commitment: invalid_point naming the sender', () => {
      for (const [label, bytes] of badPoints(suite())) {
        for (const position of [0, 1]) {
          const v = dkgVictim(id);
          const body = v.round1Of('p02');
          body.commitment[position] = toHex(bytes);
          const step = v.sendRound1('p02', body);
          expect(v.victim.phase, label).toBe('failed');
          expectError(step.error, 'invalid_point', ['p02']);
        }
      }
    });

    it('a bad point in a signing-package commitment: the signer refuses it (invalid_point)', () => {
      const c = clusterOf(id);
      const [a, b] = c.names as [string, string];
      for (const [label, bytes] of badPoints(suite())) {
        for (const field of ['hiding', 'binding'] as const) {
          const sa = createSigner(c.share(a), rng);
          const ca = sa.commit();
          const cb = { ...createSigner(c.share(b), rng).commit(), [field]: toHex(bytes) };
          const pkg = rawPackage(c, [entry(a, ca), entry(b, cb)]);
          // The coordinator assembled this package, and it is no party: blaming `b` would let it
          // frame an honest party, so nobody is named.
          const e = expectCode(() => sa.sign(pkg, rawMessages(pkg)), 'invalid_point', []);
          expect(e.code, label).toBe('invalid_point');
          expect(sa.pending).toBe(1);
        }
      }
    });

    it('a bad point as a party’s commitment where it enters the coordinator: invalid_point naming that party', () => {
      const c = clusterOf(id);
      const b = c.names[1] as string;
      for (const [, bytes] of badPoints(suite())) {
        const good = createSigner(c.share(b), rng).commit();
        expectCode(() => parseNonceCommitment(suite(), { ...good, hiding: toHex(bytes) }, b), 'invalid_point', [b]);
        expectCode(() => parseNonceCommitment(suite(), { ...good, binding: toHex(bytes) }, b), 'invalid_point', [b]);
      }
    });

    it('signature shares that are not canonical scalars: invalid_scalar naming the sender', () => {
      const c = clusterOf(id);
      const s = suite();
      const [a, b] = c.names as [string, string];
      const N = s.Fn.ORDER;
      const bad: [string, string][] = [
        ['group order', toHex(scalarBytes(s, N))],
        ['order + 1', toHex(scalarBytes(s, N + 1n))],
        ['all 0xff', 'ff'.repeat(s.scalarLength)],
        ['one byte short', toHex(scalarBytes(s, 1n)).slice(2)],
        ['one byte long', `${toHex(scalarBytes(s, 1n))}00`],
      ];
      for (const [label, hex] of bad) {
        const sess = session(c, [a, b], utf8('m'));
        const e = expectCode(() => sess.addShare(b, hex), 'invalid_scalar', [b]);
        expect(e.code, label).toBe('invalid_scalar');
      }
      const sess = session(c, [a, b], utf8('m'));
      expectCode(() => sess.addShare(b, 'zz'.repeat(s.scalarLength)), 'invalid_hex');
    });

    it('canonical but wrong signature shares (0, 1, order−1): invalid_signature_share naming the sender', () => {
      const c = clusterOf(id);
      const s = suite();
      const [a, b] = c.names as [string, string];
      for (const n of [0n, 1n, s.Fn.ORDER - 1n]) {
        const sess = session(c, [a, b], utf8('m'));
        sess.addShare(a, sess.shares.get(a) as string);
        expect(sess.addShare(b, toHex(scalarBytes(s, n)))).toBe(true);
        expectCode(() => sess.finish(), 'invalid_signature_share', [b]);
      }
    });

    it('an empty message: empty_message at the aggregator and at the signer', () => {
      const c = clusterOf(id);
      const [a, b] = c.names as [string, string];
      expectCode(() => createAggregator({ key: c.pub, requestId: 'r1', ...rawSigning(new Uint8Array(0)) }), 'empty_message');
      const sa = createSigner(c.share(a), rng);
      const ca = sa.commit();
      const pkg = rawPackage(c, [entry(a, ca), entry(b, createSigner(c.share(b), rng).commit())], {
        intent: { type: 'raw', message: '' },
      });
      expectCode(() => sa.sign(pkg, rawMessages(pkg)), 'empty_message');
      expect(sa.pending).toBe(1);
    });

    it('leading zero bytes are part of the message (no integer round trip strips them)', () => {
      const c = clusterOf(id);
      const [a, b] = c.names as [string, string];
      const stripped = utf8('abc');
      const padded = Uint8Array.of(0, 0, ...stripped);
      const sess = session(c, [a, b], padded);
      expect(sess.pkg.intent).toEqual({ type: 'raw', message: `0000${toHex(stripped)}` });
      for (const [n, h] of sess.shares) sess.addShare(n, h);
      const sig = sess.finish();
      const pk = fromHex(c.pub.publicKey);
      expect(c.suite.verify(sig, padded, pk)).toBe(true);
      expect(c.suite.verify(sig, stripped, pk)).toBe(false);
      expect(c.suite.verify(sig, Uint8Array.of(0, ...stripped), pk)).toBe(false);
      // A message of zero bytes only is a message too.
      const zero = Uint8Array.of(0);
      const s2 = session(c, [a, b], zero);
      for (const [n, h] of s2.shares) s2.addShare(n, h);
      expect(c.suite.verify(s2.finish(), zero, pk)).toBe(true);
    });
  });
}

describe('identifiers', () => {
  const c = () => clusterOf('ed25519');

  it('a party twice in a committee: duplicate_identifier', () => {
    const suite = c().suite;
    expectCode(() => makeCommittee(suite, ['alice', 'bob', 'alice'], 2), 'duplicate_identifier');
    expectCode(() => dkgVictim('ed25519').participant('p01', ['p01', 'p02', 'p01']), 'duplicate_identifier');
  });

  it('committee ids that are not party ids, or the coordinator: invalid_identifier', () => {
    const suite = c().suite;
    for (const bad of ['Alice', '', 'a b', 'coordinator', '*', 'x'.repeat(64)]) {
      expectCode(() => makeCommittee(suite, ['bob', bad], 2), 'invalid_identifier');
    }
  });

  it('thresholds out of range: invalid_threshold', () => {
    const suite = c().suite;
    expectCode(() => makeCommittee(suite, ['a', 'b'], 1), 'invalid_threshold');
    expectCode(() => makeCommittee(suite, ['a', 'b'], 3), 'invalid_threshold');
    expectCode(() => makeCommittee(suite, ['a'], 1), 'invalid_threshold');
    expectCode(() => makeCommittee(suite, ['a', 'b', 'c'], 2.5), 'invalid_threshold');
  });

  it('a party twice in a signing package: the signer refuses (duplicate_identifier)', () => {
    const cl = c();
    const [a, b] = cl.names as [string, string];
    const sa = createSigner(cl.share(a), rng);
    const ca = sa.commit();
    const cb = createSigner(cl.share(b), rng).commit();
    const pkg = rawPackage(cl, [entry(a, ca), entry(a, ca), entry(b, cb)]);
    expectCode(() => sa.sign(pkg, rawMessages(pkg)), 'duplicate_identifier');
    expect(sa.pending).toBe(1);
  });

  it('one party counted twice cannot make up the threshold at the aggregator (duplicate_identifier)', () => {
    const cl = c();
    const a = cl.names[0] as string;
    const agg = createAggregator({ key: cl.pub, requestId: 'r1', ...rawSigning(utf8('m')) });
    agg.addCommitment(a, [commitmentOf(cl.suite, createSigner(cl.share(a), rng), a)]);
    expectCode(() => agg.buildPackage([a, a]), 'duplicate_identifier');
  });

  it('a party outside the committee: not_in_committee (signer, aggregator, DKG)', () => {
    const cl = c();
    const [a, b] = cl.names as [string, string];
    const sa = createSigner(cl.share(a), rng);
    const ca = sa.commit();
    const cb = createSigner(cl.share(b), rng).commit();
    const pkg = rawPackage(cl, [entry(a, ca), entry('mallory', cb)]);
    expectCode(() => sa.sign(pkg, rawMessages(pkg)), 'not_in_committee');
    const agg = createAggregator({ key: cl.pub, requestId: 'r1', ...rawSigning(utf8('m')) });
    expectCode(() => agg.addCommitment('mallory', [parseNonceCommitment(cl.suite, cb, 'mallory')]), 'not_in_committee');
    expectCode(() => agg.buildPackage(['mallory', a]), 'missing_own_commitment');

    // A pinned identity that is not in this key's committee cannot take part in its DKG.
    const v = dkgVictim('ed25519', 4, 2);
    const outsider = v.participant('p04', ['p02', 'p03', 'p04']);
    const body = (outsider.start().outgoing[0] as { body: MessageBody<'dkg_round1'> }).body;
    const own = v.participant('p01', ['p01', 'p02', 'p03']);
    own.start();
    const env = v.world.parties.get('p04')!.sealer.seal({ type: 'dkg_round1', sessionId: v.sessionId, to: '*', body });
    expectCode(() => own.receive(v.world.open('p01', env)), 'not_in_committee');
    expect(own.phase).toBe('round1');
  });
});

describe('malformed DKG round 1', () => {
  for (const id of SUITE_IDS) {
    it(`${id}: commitment vectors of the wrong length: dkg_invalid_round1 naming the sender`, () => {
      for (const delta of [-1, 1]) {
        const v = dkgVictim(id, 3, 2);
        const body = v.round1Of('p03');
        const commitment = delta < 0 ? body.commitment.slice(0, 1) : [...body.commitment, v.round1Of('p03').commitment[1] as string];
        expectError(v.sendRound1('p03', { ...body, commitment }).error, 'dkg_invalid_round1', ['p03']);
      }
    });

    it(`${id}: a proof of knowledge of the wrong length or with a non-canonical response`, () => {
      const s = dkgVictim(id).suite;
      const shortPok = dkgVictim(id);
      const b1 = shortPok.round1Of('p02');
      expectError(shortPok.sendRound1('p02', { ...b1, proofOfKnowledge: b1.proofOfKnowledge.slice(2) }).error, 'dkg_invalid_round1', [
        'p02',
      ]);

      const bigZ = dkgVictim(id);
      const b2 = bigZ.round1Of('p02');
      const rHex = b2.proofOfKnowledge.slice(0, 2 * (s.signatureLength - s.scalarLength));
      const z = toHex(scalarBytes(s, s.Fn.ORDER));
      expectError(bigZ.sendRound1('p02', { ...b2, proofOfKnowledge: rHex + z }).error, 'invalid_scalar', ['p02']);
    });
  }
});
