/**
 * The fast path's aggregation (fast/session.ts, share-checks.ts, aggregate.ts, key.ts, hashes.ts)
 * against noble's `aggregate`: byte-identical signatures on the RFC 9591 and frost-rs vectors and
 * on random dealer and DKG sessions in all six suites, exactly the same cheaters, and the attacks
 * the shortcuts must not open up.
 */
import type { FrostPublic, FrostSecret, NonceCommitments } from '@noble/curves/abstract/frost.js';
import { describe, expect, it } from 'vitest';
import { aggregateSignatureShares } from '../src/fast/aggregate.js';
import { createKeyCache, KEY_CACHE_CAPACITY, PRECOMPUTE_AFTER, type PreparedKey, prepareKey } from '../src/fast/key.js';
import { createSessionContext, type SessionContext } from '../src/fast/session.js';
import { batchVerifySignatureShares, findInvalidShares, verifySignatureShare } from '../src/fast/share-checks.js';
import {
  createAggregator,
  createSigner,
  fromHex,
  getSuite,
  makeKeyShare,
  ProtocolError,
  type PublicKeyPackage,
  parseNonceCommitment,
  type Rng,
  SUITE_IDS,
  type Suite,
  type SuiteId,
  toFrostPublic,
  toHex,
  utf8,
} from '../src/index.js';
import {
  catchProtocolError,
  cluster,
  commitmentOf,
  expectCode,
  parsedCommitments,
  rawSigning,
  scalarBytes,
  session,
  shareOf,
} from './harness.js';
import { CRATES, RFC_FILES, type SigningVector, vectorJson } from './load-vectors.js';
import { rng } from './sim.js';

/** noble's aggregate outcome: the signature, or the identifiers it blames. */
function nobleAggregate(suite: Suite, pub: FrostPublic, list: NonceCommitments[], msg: Uint8Array, shares: Record<string, Uint8Array>) {
  try {
    return { signature: toHex(suite.frost.aggregate(pub, list, msg, shares)) };
  } catch (e) {
    return { cheaters: [...((e as { cheaters?: string[] }).cheaters ?? [])].sort() };
  }
}

/**
 * noble's `aggregate(pub, commitmentList, msg, sigShares)` through the fast path: the same inputs
 * and the same bytes out; `invalid_signature_share` naming the cheating identifiers.
 */
function aggregateFrost(
  suite: Suite,
  pub: FrostPublic | PreparedKey,
  list: NonceCommitments[],
  msg: Uint8Array,
  sigShares: Record<string, Uint8Array>,
): Uint8Array {
  const key = 'groupKeyBytes' in pub ? pub : prepareKey(suite, pub);
  const ctx = createSessionContext(key, parsedCommitments(suite, list), msg);
  const shares = new Map(Object.entries(sigShares).map(([id, b]) => [id, suite.parseScalar(b, `share of ${id}`, { culprit: id })]));
  const out = aggregateSignatureShares(ctx, shares);
  if (out.ok) return out.signature;
  throw new ProtocolError('invalid_signature_share', 'invalid shares', out.cheaters);
}

/** The same through aggregateFrost (identifier-level drop-in). */
function fastAggregate(
  suite: Suite,
  pub: FrostPublic | PreparedKey,
  list: NonceCommitments[],
  msg: Uint8Array,
  shares: Record<string, Uint8Array>,
) {
  try {
    return { signature: toHex(aggregateFrost(suite, pub, list, msg, shares)) };
  } catch (e) {
    const err = catchProtocolError(() => {
      throw e;
    });
    return { cheaters: [...err.culprits].sort() };
  }
}

/** A trusted-dealer key among parties p01…pNN (identifiers derived from the names, as Glacis does). */
function dealerKey(id: SuiteId, t: number, n: number) {
  const suite = getSuite(id);
  const names = Array.from({ length: n }, (_, i) => `p${String(i + 1).padStart(2, '0')}`);
  const deal = suite.frost.trustedDealer({ min: t, max: n }, names.map(suite.identifierFor), undefined, rng);
  const verifyingShares: Record<string, string> = {};
  for (const name of names) verifyingShares[name] = toHex(deal.public.verifyingShares[suite.identifierFor(name)] as Uint8Array);
  const pkg: PublicKeyPackage = {
    keyId: `k-${id}-${t}-${n}`,
    suite: id,
    threshold: t,
    committee: names,
    publicKey: toHex(suite.encodePublicKey(deal.public)),
    groupCommitment: deal.public.commitments.map(toHex),
    verifyingShares,
  };
  const secret = (name: string) => deal.secretShares[suite.identifierFor(name)] as FrostSecret;
  return { suite, names, pkg, secret };
}

/** Random session inputs under noble's types: commitments and shares by `signers` on a random message. */
function nobleSession(suite: Suite, pub: FrostPublic, secrets: FrostSecret[]) {
  const msg = rng(1 + (rng(1)[0] as number));
  const commits = secrets.map((s) => suite.frost.commit(s, rng));
  const list = commits.map((c) => c.commitments);
  const shares: Record<string, Uint8Array> = {};
  for (const [i, s] of secrets.entries()) {
    shares[s.identifier] = suite.frost.signShare(s, pub, (commits[i] as (typeof commits)[number]).nonces, list, msg);
  }
  return { msg, list, shares };
}

function contextOf(suite: Suite, pub: FrostPublic, list: NonceCommitments[], msg: Uint8Array): SessionContext {
  return createSessionContext(prepareKey(suite, pub), parsedCommitments(suite, list), msg);
}

const scalarsOf = (suite: Suite, shares: Record<string, Uint8Array>) =>
  new Map(Object.entries(shares).map(([id, b]) => [id, suite.Fn.fromBytes(b)]));

/** A 16-byte-chunk RNG that records what it handed out. */
function countingRng(): Rng & { calls: number[] } {
  const calls: number[] = [];
  return Object.assign(
    (n = 32) => {
      calls.push(n);
      return rng(n);
    },
    { calls },
  );
}

describe('fast/hashes: the RFC 9591 hash functions are noble’s', () => {
  for (const id of SUITE_IDS) {
    it(`${id}: hash-to-scalar with the suite DSTs matches noble’s Identifier.derive (HID)`, () => {
      const suite = getSuite(id);
      for (const s of ['alice', 'p01', '', 'ünïcödé', 'x'.repeat(300)]) {
        const ours = suite.hashes.hashToScalar(utf8(s), 'id');
        expect(toHex(suite.Fn.toBytes(ours))).toBe(suite.frost.Identifier.derive(s));
      }
    });
  }
});

type VectorCase = { id: SuiteId; label: string; v: SigningVector };
const vectorCases: VectorCase[] = [
  ...Object.entries(RFC_FILES).map(([file, id]) => ({
    id,
    label: `RFC 9591 ${file}`,
    v: vectorJson<SigningVector>(`cfrg-draft-irtf-cfrg-frost/${file}`),
  })),
  ...Object.entries(CRATES).flatMap(([crate, id]) =>
    ['vectors.json', 'vectors-big-identifier.json'].map((f) => ({
      id,
      label: `frost-rs ${crate}/${f}`,
      v: vectorJson<SigningVector>(`zcash-frost/${crate}/${f}`),
    })),
  ),
];

// Heavy: noble re-decodes every point per call (ed448 subgroup checks are ~3 ms each), and CI may share its CPUs.
const HEAVY = { timeout: 120_000 };

describe('vectors: binding factors, share checks and signatures byte-identical', HEAVY, () => {
  it('covers every suite', () => {
    expect(new Set(vectorCases.map((c) => c.id))).toEqual(new Set(SUITE_IDS));
  });
  for (const { id, label, v } of vectorCases) {
    it(`${id}: ${label}`, () => {
      const suite = getSuite(id);
      const idOf = (n: number) => suite.frost.Identifier.fromNumber(n);
      const groupKey = v.inputs.group_public_key ?? v.inputs.verifying_key_key;
      if (groupKey === undefined) throw new Error('vector without a group key');
      const verifyingShares: Record<string, Uint8Array<ArrayBuffer>> = {};
      for (const p of v.inputs.participant_shares) {
        verifyingShares[idOf(p.identifier)] = fromHex(
          toHex(suite.Point.BASE.multiply(suite.Fn.fromBytes(fromHex(p.participant_share))).toBytes()),
        );
      }
      const pub: FrostPublic = {
        signers: { min: Number(v.config.MIN_PARTICIPANTS), max: Number(v.config.MAX_PARTICIPANTS) },
        commitments: [fromHex(groupKey)],
        verifyingShares,
      };
      const list: NonceCommitments[] = v.round_one_outputs.outputs.map((o) => ({
        identifier: idOf(o.identifier),
        hiding: fromHex(o.hiding_nonce_commitment),
        binding: fromHex(o.binding_nonce_commitment),
      }));
      const msg = fromHex(v.inputs.message);
      const shares = Object.fromEntries(v.round_two_outputs.outputs.map((o) => [idOf(o.identifier), fromHex(o.sig_share)]));

      const ctx = contextOf(suite, pub, list, msg);
      for (const o of v.round_one_outputs.outputs) {
        // H1 itself, then the session's ρ_i (which also pins H4, H5 and the list encoding).
        expect(toHex(suite.Fn.toBytes(suite.hashes.H1(fromHex(o.binding_factor_input))))).toBe(o.binding_factor);
        expect(toHex(suite.Fn.toBytes(ctx.signer(idOf(o.identifier))?.bindingFactor as bigint))).toBe(o.binding_factor);
      }
      const scalars = scalarsOf(suite, shares);
      for (const [i, z] of scalars) expect(verifySignatureShare(ctx, i, z)).toBe(true);
      expect(findInvalidShares(ctx, scalars)).toEqual([]);
      expect(batchVerifySignatureShares(ctx, scalars, rng)).toBe(true);
      expect(toHex(aggregateFrost(suite, pub, list, msg, shares))).toBe(v.final_output.sig);
      expect(nobleAggregate(suite, pub, list, msg, shares)).toEqual({ signature: v.final_output.sig });
    });
  }
});

describe('random sessions: the aggregator returns noble’s bytes', HEAVY, () => {
  for (const id of SUITE_IDS) {
    it(`${id}: dealer keys, t = 2, 3, 5, 10 (n = t + 1), through createAggregator`, () => {
      for (const t of [2, 3, 5, 10]) {
        const { suite, names, pkg, secret } = dealerKey(id, t, t + 1);
        const signers = names.slice(0, t).reverse(); // any order: the package sorts
        const msg = rng(33);
        const agg = createAggregator({ key: pkg, requestId: 'r', ...rawSigning(msg) });
        const parties = signers.map((n) => [n, createSigner(makeKeyShare(pkg, n, secret(n).signingShare), rng)] as const);
        for (const [n, s] of parties) agg.addCommitment(n, [commitmentOf(suite, s, n)]);
        const spkg = agg.buildPackage();
        const shares: Record<string, Uint8Array> = {};
        for (const [n, s] of parties) {
          const share = shareOf(s, spkg);
          shares[suite.identifierFor(n)] = share;
          agg.addShare(n, [toHex(share)]);
        }
        const ours = toHex(agg.finish()[0] as Uint8Array);
        const list = spkg.commitments.map((c) => ({
          identifier: suite.identifierFor(c.partyId),
          hiding: fromHex(c.hiding),
          binding: fromHex(c.binding),
        }));
        expect(nobleAggregate(suite, toFrostPublic(pkg), list, msg, shares)).toEqual({ signature: ours });
        expect(suite.verify(fromHex(ours), msg, fromHex(pkg.publicKey))).toBe(true);
      }
    });

    it(`${id}: DKG keys${id === 'secp256k1-tr' ? ' (BIP-341 tweaked)' : ''}, 3-of-4, three signer subsets`, () => {
      const c = cluster(id, 4, 3);
      for (const signers of [c.names.slice(0, 3), c.names.slice(1), [c.names[0], c.names[2], c.names[3]]] as string[][]) {
        const msg = rng(32);
        const s = session(c, signers, msg);
        for (const [n, h] of s.shares) s.addShare(n, h);
        const ours = toHex(s.finish());
        const list = s.pkg.commitments.map((x) => ({
          identifier: c.suite.identifierFor(x.partyId),
          hiding: fromHex(x.hiding),
          binding: fromHex(x.binding),
        }));
        const shares = Object.fromEntries([...s.shares].map(([n, h]) => [c.suite.identifierFor(n), fromHex(h)]));
        expect(nobleAggregate(c.suite, toFrostPublic(c.pub), list, msg, shares)).toEqual({ signature: ours });
      }
    });
  }

  it(`one key past PRECOMPUTE_AFTER sessions (precomputed group-key table) still matches noble`, () => {
    const keys = createKeyCache();
    for (const id of ['ed25519', 'secp256k1-tr'] as const) {
      const { suite, names, pkg, secret } = dealerKey(id, 2, 2);
      const pub = toFrostPublic(pkg);
      const secrets = names.map(secret);
      for (let i = 0; i < PRECOMPUTE_AFTER + 3; i++) {
        const { msg, list, shares } = nobleSession(suite, pub, secrets);
        expect(fastAggregate(suite, keys.get(pkg), list, msg, shares)).toEqual(nobleAggregate(suite, pub, list, msg, shares));
        // The table's c·PK must also reject: a share off by one names its signer.
        const [first] = Object.keys(shares) as [string];
        const bad = { ...shares, [first]: suite.Fn.toBytes(suite.Fn.add(suite.Fn.fromBytes(shares[first] as Uint8Array), 1n)) };
        expect(fastAggregate(suite, keys.get(pkg), list, msg, bad)).toEqual({ cheaters: [first] });
      }
    }
  });

  it('secp256k1-tr: both group-key parities and both group-commitment parities, equal to noble', () => {
    const suite = getSuite('secp256k1-tr');
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 4; i++) {
      const { names, pkg, secret } = dealerKey('secp256k1-tr', 2, 3);
      const pub = toFrostPublic(pkg);
      const { msg, list, shares } = nobleSession(suite, pub, names.slice(0, 2).map(secret));
      const ctx = contextOf(suite, pub, list, msg);
      seen.add(`key ${pkg.groupCommitment[0]?.slice(0, 2)} / R ${toHex(ctx.groupCommitmentBytes).slice(0, 2)}`);
      expect(fastAggregate(suite, pub, list, msg, shares)).toEqual(nobleAggregate(suite, pub, list, msg, shares));
      // A cheater under each parity combination too.
      const [first] = Object.keys(shares) as [string];
      const bad = { ...shares, [first]: suite.Fn.toBytes(suite.Fn.add(suite.Fn.fromBytes(shares[first] as Uint8Array), 1n)) };
      expect(fastAggregate(suite, pub, list, msg, bad)).toEqual({ cheaters: [first] });
    }
    expect([...seen].sort()).toEqual(['key 02 / R 02', 'key 02 / R 03', 'key 03 / R 02', 'key 03 / R 03']);
  });
});

describe('cheaters: exactly the parties with invalid shares are named', HEAVY, () => {
  for (const id of SUITE_IDS) {
    it(`${id}: none, one, two, all cheaters; shares 0, 1, order−1 — same verdict as noble`, () => {
      const { suite, names, pkg, secret } = dealerKey(id, 4, 5);
      const pub = toFrostPublic(pkg);
      const signers = names.slice(1).map(secret);
      const ids = signers.map((s) => s.identifier);
      const q = suite.Fn.ORDER;
      const bump = (b: Uint8Array) => suite.Fn.toBytes(suite.Fn.add(suite.Fn.fromBytes(b), 1n));
      const set = (n: bigint) => () => scalarBytes(suite, n);
      // Which signers (by index) send what instead of their share.
      const cases: [string, Map<number, (share: Uint8Array) => Uint8Array>][] = [
        ['honest', new Map()],
        ['one cheater', new Map([[2, bump]])],
        [
          'two cheaters',
          new Map([
            [0, bump],
            [3, bump],
          ]),
        ],
        ['all cheaters', new Map(ids.map((_, i) => [i, bump]))],
        ['share 0', new Map([[1, set(0n)]])],
        ['share 1', new Map([[1, set(1n)]])],
        ['share order−1', new Map([[0, set(q - 1n)]])],
      ];
      for (const [label, tamper] of cases) {
        const { msg, list, shares } = nobleSession(suite, pub, signers);
        for (const [i, f] of tamper) shares[ids[i] as string] = f(shares[ids[i] as string] as Uint8Array);
        const expected = [...tamper.keys()].map((i) => ids[i] as string).sort();
        const ours = fastAggregate(suite, pub, list, msg, shares);
        expect(ours, label).toEqual(nobleAggregate(suite, pub, list, msg, shares));
        if (expected.length > 0) expect(ours, label).toEqual({ cheaters: expected });
        const ctx = contextOf(suite, pub, list, msg);
        expect(findInvalidShares(ctx, scalarsOf(suite, shares)).sort(), label).toEqual(expected);
        expect(batchVerifySignatureShares(ctx, scalarsOf(suite, shares), rng), label).toBe(expected.length === 0);
      }
    });
  }

  it('through the aggregator: party names, for one, two and all cheaters and a 0 / order−1 share', () => {
    const c = cluster('ed25519', 4, 3);
    const bump = (hex: string) => toHex(c.suite.Fn.toBytes(c.suite.Fn.add(c.suite.Fn.fromBytes(fromHex(hex)), 1n)));
    const q = c.suite.Fn.ORDER;
    const cases: [string, Record<string, (h: string) => string>][] = [
      ['one', { p02: bump }],
      ['two', { p01: bump, p04: bump }],
      ['all', { p01: bump, p02: bump, p04: bump }],
      ['zero and order−1', { p01: () => toHex(scalarBytes(c.suite, 0n)), p02: () => toHex(scalarBytes(c.suite, q - 1n)) }],
    ];
    for (const [label, tamper] of cases) {
      const s = session(c, ['p01', 'p02', 'p04'], utf8(label));
      for (const [n, h] of s.shares) s.addShare(n, tamper[n]?.(h) ?? h);
      expectCode(() => s.finish(), 'invalid_signature_share', Object.keys(tamper));
    }
  });

  it('a malformed share scalar (≥ order, wrong length) is refused at addShare, naming the sender', () => {
    const c = cluster('secp256k1-tr', 3, 2);
    for (const hex of [toHex(scalarBytes(c.suite, c.suite.Fn.ORDER)), 'ff'.repeat(32), '00'.repeat(31), '00'.repeat(33)]) {
      const s = session(c, ['p01', 'p02'], utf8('m'));
      expectCode(() => s.addShare('p02', hex), 'invalid_scalar', ['p02']);
    }
  });
});

describe('attacks on the shortcuts', HEAVY, () => {
  it('share-shifting: +δ on one share and −δ on another leave Σz, hence the signature, valid — as noble has it', () => {
    // RFC 9591 §5.4: a valid aggregate is the result, whichever shares made it. Neither path blames.
    const { suite, names, pkg, secret } = dealerKey('ed25519', 3, 3);
    const pub = toFrostPublic(pkg);
    const { msg, list, shares } = nobleSession(suite, pub, names.map(secret));
    const [a, b] = Object.keys(shares) as [string, string];
    const d = 12345n;
    shares[a] = suite.Fn.toBytes(suite.Fn.add(suite.Fn.fromBytes(shares[a] as Uint8Array), d));
    shares[b] = suite.Fn.toBytes(suite.Fn.sub(suite.Fn.fromBytes(shares[b] as Uint8Array), d));
    const ours = fastAggregate(suite, pub, list, msg, shares);
    expect(ours).toEqual(nobleAggregate(suite, pub, list, msg, shares));
    expect(suite.verify(fromHex(ours.signature as string), msg, fromHex(pkg.publicKey))).toBe(true);
    // The per-share and batch checks still see both bad shares.
    const ctx = contextOf(suite, pub, list, msg);
    expect(findInvalidShares(ctx, scalarsOf(suite, shares)).sort()).toEqual([a, b].sort());
    expect(batchVerifySignatureShares(ctx, scalarsOf(suite, shares), rng)).toBe(false);
  });

  it('batch-cancellation: errors chosen to cancel in an unweighted sum are caught by the random coefficients', () => {
    const { suite, names, pkg, secret } = dealerKey('secp256k1', 3, 3);
    const pub = toFrostPublic(pkg);
    const { msg, list, shares } = nobleSession(suite, pub, names.map(secret));
    const ctx = contextOf(suite, pub, list, msg);
    const scalars = scalarsOf(suite, shares);
    const [a, b] = [...scalars.keys()] as [string, string];
    scalars.set(a, suite.Fn.add(scalars.get(a) as bigint, 7n));
    scalars.set(b, suite.Fn.sub(scalars.get(b) as bigint, 7n));
    const r = countingRng();
    expect(batchVerifySignatureShares(ctx, scalars, r)).toBe(false);
    // One fresh 128-bit coefficient per share, drawn from the injected RNG only.
    expect(r.calls).toEqual([16, 16, 16]);
  });

  it('blame-shifting: an aggregate that fails names nobody honest, even with every other share invalid', () => {
    const { suite, names, pkg, secret } = dealerKey('p256', 5, 5);
    const pub = toFrostPublic(pkg);
    const { msg, list, shares } = nobleSession(suite, pub, names.map(secret));
    const honest = Object.keys(shares)[2] as string;
    for (const i of Object.keys(shares)) if (i !== honest) shares[i] = scalarBytes(suite, 1n);
    const out = aggregateSignatureShares(contextOf(suite, pub, list, msg), scalarsOf(suite, shares));
    expect(out.ok).toBe(false);
    expect(out.ok ? [] : out.cheaters).not.toContain(honest);
    expect(out.ok ? [] : out.cheaters.length).toBe(4);
  });

  it('commitment swapped after validation: the parsed value is frozen and keeps its own copy of the wire form', () => {
    const c = cluster('ed25519', 3, 2);
    const suite = c.suite;
    const wire = createSigner(c.share('p02'), rng).commit();
    const parsed = parseNonceCommitment(suite, wire, 'p02');
    const validated = { ...wire };
    // A point with an 8-torsion component: on the curve, outside the prime-order subgroup.
    const torsion = suite.Point.fromBytes(fromHex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'));
    wire.hiding = toHex(parsed.hiding.add(torsion).toBytes());
    expect(Object.isFrozen(parsed) && Object.isFrozen(parsed.wire)).toBe(true);
    expect(parsed.wire).toEqual(validated);
    // What a package carries is what was validated, whatever happened to the caller's object.
    const agg = createAggregator({ key: c.pub, requestId: 'r', ...rawSigning(utf8('m')) });
    agg.addCommitment('p02', [parsed]);
    agg.addCommitment('p01', [commitmentOf(suite, createSigner(c.share('p01'), rng), 'p01')]);
    expect(agg.buildPackage().commitments.find((x) => x.partyId === 'p02')).toEqual({ partyId: 'p02', ...validated });
    expectCode(() => parseNonceCommitment(suite, wire, 'p02'), 'invalid_point', ['p02']);
  });

  it('a commitment parsed for another suite is refused (wrong_suite), not reinterpreted', () => {
    const c = cluster('ed25519', 3, 2);
    const other = cluster('ristretto255', 3, 2);
    const foreign = commitmentOf(other.suite, createSigner(other.share('p01'), rng), 'p01');
    const agg = createAggregator({ key: c.pub, requestId: 'r', ...rawSigning(utf8('m')) });
    expectCode(() => agg.addCommitment('p01', [foreign]), 'wrong_suite');
  });

  it('key-cache confusion: a package with the same keyId but other contents gets its own decoded points', () => {
    const keys = createKeyCache();
    const { pkg } = dealerKey('secp256k1', 2, 3);
    const other = dealerKey('secp256k1', 2, 3).pkg;
    const forged: PublicKeyPackage = { ...pkg, verifyingShares: { ...pkg.verifyingShares, p02: other.verifyingShares.p02 as string } };
    const a = keys.get(pkg);
    const b = keys.get(forged);
    expect(a).not.toBe(b);
    const id = getSuite('secp256k1').identifierFor('p02');
    expect(toHex(a.verifyingShare(id).toBytes())).toBe(pkg.verifyingShares.p02);
    expect(toHex(b.verifyingShare(id).toBytes())).toBe(other.verifyingShares.p02);
    // Equal contents in a fresh object (as a coordinator rebuilds per request): the cached entry.
    expect(keys.get(structuredClone(pkg))).toBe(a);
    // In-place mutation is a different key, not a stale hit.
    const mutable = structuredClone(pkg);
    const before = keys.get(mutable);
    mutable.verifyingShares.p01 = other.verifyingShares.p01 as string;
    expect(keys.get(mutable)).not.toBe(before);
  });

  it('key-cache flooding: the cache stays bounded (LRU) and evicted keys are simply decoded again', () => {
    const keys = createKeyCache(KEY_CACHE_CAPACITY);
    const { pkg } = dealerKey('secp256k1', 2, 3);
    const first = keys.get(pkg);
    const vs = pkg.verifyingShares.p01 as string;
    for (let i = 0; i < KEY_CACHE_CAPACITY; i++) keys.get({ ...pkg, verifyingShares: { ...pkg.verifyingShares, [`x${i}`]: vs } });
    expect(keys.size).toBe(KEY_CACHE_CAPACITY);
    const again = keys.get(pkg);
    expect(again).not.toBe(first);
    expect(toHex(again.groupKeyBytes)).toBe(toHex(first.groupKeyBytes));
  });

  it('two key caches share nothing: each is an owned object', () => {
    const { pkg } = dealerKey('secp256k1', 2, 3);
    expect(createKeyCache().get(pkg)).not.toBe(createKeyCache().get(pkg));
  });

  it('corrupted key package: an invalid verifying share blames nobody (aggregate_invalid)', () => {
    const c = cluster('ristretto255', 3, 2);
    const key: PublicKeyPackage = { ...c.pub, verifyingShares: { ...c.pub.verifyingShares, p02: 'ff'.repeat(32) } };
    const agg = createAggregator({ key, requestId: 'r', ...rawSigning(utf8('m')) });
    const signers = ['p01', 'p02'].map((n) => [n, createSigner(c.share(n), rng)] as const);
    for (const [n, s] of signers) agg.addCommitment(n, [commitmentOf(c.suite, s, n)]);
    const spkg = agg.buildPackage();
    for (const [n, s] of signers) agg.addShare(n, [n === 'p01' ? toHex(scalarBytes(c.suite, 1n)) : toHex(shareOf(s, spkg))]);
    expectCode(() => agg.finish(), 'aggregate_invalid', []);
  });
});
