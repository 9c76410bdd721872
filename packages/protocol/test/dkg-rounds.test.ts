/**
 * The DKG rounds Glacis computes itself from once-decoded points (src/dkg/round1-package.ts,
 * proof-of-knowledge.ts, round2-shares.ts, round3-key.ts, taproot-tweak.ts) against the frost-rs
 * DKG vectors and against noble's DKG.round2/round3 byte for byte, and the batch checks' failure
 * paths: every bad proof or share is named, no good one is.
 */
import type { DKG_Round1, DKG_Round2, DKG_Secret } from '@noble/curves/abstract/frost.js';
import { describe, expect, it } from 'vitest';
import { findInvalidProofs, verifyProofOfKnowledge } from '../src/dkg/proof-of-knowledge.js';
import {
  identifierScalar,
  ownVssCommitment,
  parseRound1Package,
  type Round1Package,
  type VssCommitment,
} from '../src/dkg/round1-package.js';
import {
  batchVerifyReceivedShares,
  evaluatePolynomial,
  findInvalidReceivedShares,
  type ReceivedShare,
  verifyReceivedShare,
} from '../src/dkg/round2-shares.js';
import { deriveDkgKeyPackage } from '../src/dkg/round3-key.js';
import {
  type Envelope,
  fromHex,
  getSuite,
  type MessageBody,
  SUITE_IDS,
  type Suite,
  type SuiteId,
  sealBox,
  toHex,
  verifyDkgCertificate,
} from '../src/index.js';
import { catchProtocolError, expectCode, expectError, resign } from './harness.js';
import { CRATES, type DkgVector, dkgParticipants, vectorJson } from './load-vectors.js';
import { makeWorld, rng, runDkg, type SimWorld } from './sim.js';

const wire = (r1: DKG_Round1) => ({
  commitment: r1.commitment.map(toHex),
  proofOfKnowledge: toHex(r1.proofOfKnowledge),
});

const nameOf = (id: string) => `party-${id.slice(0, 8)}`;

function parse(suite: Suite, t: number, r1: DKG_Round1): Round1Package {
  return parseRound1Package(suite, t, nameOf(r1.identifier), r1.identifier, wire(r1));
}

/** A random noble DKG of `n` parties up to (not including) round 3: round-1 output and round-2 shares. */
function nobleDkg(suite: Suite, t: number, n: number) {
  const ids = Array.from({ length: n }, (_, i) => suite.identifierFor(`p${i + 1}`));
  const r1 = ids.map((id) => suite.frost.DKG.round1(id, { min: t, max: n }, undefined, rng));
  const publics = r1.map((r) => r.public);
  const r2 = r1.map((r, i) =>
    suite.frost.DKG.round2(
      r.secret,
      publics.filter((_, j) => j !== i),
    ),
  );
  /** The share party `from` dealt to party `to`. */
  const shareOf = (from: number, to: number) => (r2[from] as Record<string, DKG_Round2>)[ids[to] as string] as DKG_Round2;
  return { ids, r1, publics, shareOf };
}

/** Glacis's round 3 for party `me` of `d`, from the same inputs noble's round 3 gets. */
function glacisRound3(suite: Suite, t: number, d: ReturnType<typeof nobleDkg>, me: number, coefficients: readonly bigint[]) {
  const n = d.ids.length;
  const myId = d.ids[me] as string;
  const myX = identifierScalar(suite, myId);
  const own: VssCommitment = ownVssCommitment(suite, nameOf(myId), myId, d.publics[me]?.commitment as Uint8Array[]);
  const received: ReceivedShare[] = d.ids.flatMap((_, j) =>
    j === me
      ? []
      : [
          {
            dealer: parse(suite, t, d.publics[j] as DKG_Round1),
            share: suite.Fn.fromBytes(d.shareOf(j, me).signingShare),
          },
        ],
  );
  expect(findInvalidReceivedShares(suite, myX, received, rng)).toEqual([]);
  return deriveDkgKeyPackage(suite, {
    own,
    ownShare: evaluatePolynomial(suite, coefficients, myX),
    received,
    members: d.ids.map((identifier) => ({ identifier, x: identifierScalar(suite, identifier) })),
    signers: { min: t, max: n },
  });
}

describe('frost-rs DKG vectors through Glacis rounds 2 and 3', () => {
  for (const [crate, id] of Object.entries(CRATES)) {
    it(`${crate} vectors_dkg.json → ${id}: proofs, dealt shares, key packages`, () => {
      const suite = getSuite(id);
      const v = vectorJson<DkgVector>(`zcash-frost/${crate}/vectors_dkg.json`);
      const t = v.config.MIN_PARTICIPANTS;
      const parts = dkgParticipants(v);
      const idOf = (k: number) => suite.frost.Identifier.fromNumber(k);
      const pkgs = new Map(
        parts.map((p) => {
          const body = { commitment: p.vss_commitments, proofOfKnowledge: p.proof_of_knowledge };
          return [p.identifier, parseRound1Package(suite, t, `p${p.identifier}`, idOf(p.identifier), body)];
        }),
      );
      for (const pkg of pkgs.values()) expect(verifyProofOfKnowledge(suite, pkg)).toBe(true);
      expect(findInvalidProofs(suite, [...pkgs.values()], rng)).toEqual([]);

      for (const me of parts) {
        const coefficients = [suite.parseScalar(fromHex(me.signing_key), 'k'), suite.parseScalar(fromHex(me.coefficient), 'c')];
        const myId = idOf(me.identifier);
        const myX = identifierScalar(suite, myId);
        // Round 2: what this participant deals to each other one is what the vector says it received.
        for (const other of parts.filter((p) => p !== me)) {
          const dealt = evaluatePolynomial(suite, coefficients, identifierScalar(suite, idOf(other.identifier)));
          expect(toHex(suite.Fn.toBytes(dealt))).toBe(other.signing_shares[String(me.identifier)]);
        }
        const received = parts
          .filter((p) => p !== me)
          .map((p) => ({
            dealer: pkgs.get(p.identifier) as Round1Package,
            share: suite.Fn.fromBytes(fromHex(me.signing_shares[String(p.identifier)] as string)),
          }));
        expect(batchVerifyReceivedShares(suite, myX, received, rng)).toBe(true);
        const key = deriveDkgKeyPackage(suite, {
          own: ownVssCommitment(
            suite,
            `p${me.identifier}`,
            myId,
            me.vss_commitments.map((h) => fromHex(h)),
          ),
          ownShare: evaluatePolynomial(suite, coefficients, myX),
          received,
          members: parts.map((p) => ({ identifier: idOf(p.identifier), x: identifierScalar(suite, idOf(p.identifier)) })),
          signers: { min: t, max: v.config.MAX_PARTICIPANTS },
        });
        // secp256k1-tr: the vector's keys are the BIP-341-tweaked ones (empty merkle root).
        expect(toHex(key.secret.signingShare)).toBe(me.signing_share);
        expect(toHex(key.public.commitments[0] as Uint8Array)).toBe(v.inputs.verifying_key);
        for (const p of parts) expect(toHex(key.public.verifyingShares[idOf(p.identifier)] as Uint8Array)).toBe(p.verifying_share);
      }
    });
  }
});

describe('Glacis round 3 is byte-identical to noble DKG.round3', () => {
  for (const id of SUITE_IDS) {
    it(`${id}: every party of a 2-of-3, two parties of a 4-of-6`, { timeout: 60_000 }, () => {
      const suite = getSuite(id);
      for (const [t, n, parties] of [
        [2, 3, 3],
        [4, 6, 2],
      ] as const) {
        const d = nobleDkg(suite, t, n);
        for (let me = 0; me < parties; me++) {
          const secret = d.r1[me]?.secret as DKG_Secret;
          const ours = glacisRound3(suite, t, d, me, [...(secret.coefficients as bigint[])]);
          const others = d.publics.filter((_, j) => j !== me);
          const received = d.ids.flatMap((_, j) => (j === me ? [] : [d.shareOf(j, me)]));
          const noble = suite.frost.DKG.round3(secret, others, received);
          expect(toHex(ours.secret.signingShare)).toBe(toHex(noble.secret.signingShare));
          expect(ours.secret.identifier).toBe(noble.secret.identifier);
          expect(ours.public.commitments.map(toHex)).toEqual(noble.public.commitments.map(toHex));
          const hexRecord = (r: Record<string, Uint8Array>) => Object.fromEntries(Object.entries(r).map(([k, b]) => [k, toHex(b)]));
          expect(hexRecord(ours.public.verifyingShares)).toEqual(hexRecord(noble.public.verifyingShares));
          expect(ours.public.signers).toEqual(noble.public.signers);
        }
      }
    });
  }

  it('secp256k1-tr: group keys of both Y parities are normalized and tweaked as noble does', { timeout: 60_000 }, () => {
    const suite = getSuite('secp256k1-tr');
    const seen = new Set<number>();
    for (let i = 0; i < 64 && seen.size < 2; i++) {
      const d = nobleDkg(suite, 2, 3);
      const secret = d.r1[0]?.secret as DKG_Secret;
      // Parity of the untweaked group key Σ φ_{j,0}.
      const sum = d.publics.reduce((acc, p) => acc.add(suite.Point.fromBytes(p.commitment[0] as Uint8Array)), suite.Point.ZERO);
      seen.add(sum.toBytes()[0] as number);
      const ours = glacisRound3(suite, 2, d, 0, [...(secret.coefficients as bigint[])]);
      const noble = suite.frost.DKG.round3(secret, d.publics.slice(1), [d.shareOf(1, 0), d.shareOf(2, 0)]);
      expect(toHex(ours.secret.signingShare)).toBe(toHex(noble.secret.signingShare));
      expect(ours.public.commitments.map(toHex)).toEqual(noble.public.commitments.map(toHex));
    }
    expect([...seen].sort()).toEqual([2, 3]);
  });
});

describe('batch checks name exactly the bad parties', () => {
  const cases: [SuiteId, number, number][] = [
    ['ed25519', 3, 6],
    ['secp256k1-tr', 3, 6],
    ['ristretto255', 2, 5],
  ];
  for (const [id, t, n] of cases) {
    it(`${id}: proofs of knowledge — none, one and two bad among ${n - 1}`, () => {
      const suite = getSuite(id);
      const d = nobleDkg(suite, t, n);
      const pkgs = d.publics.slice(1).map((p) => parse(suite, t, p));
      expect(findInvalidProofs(suite, pkgs, rng)).toEqual([]);
      const bump = (p: Round1Package): Round1Package => ({ ...p, proofZ: suite.Fn.add(p.proofZ, 1n) });
      // Proofs swapped between two dealers: each valid for someone, neither for its package.
      const swapped = {
        ...(pkgs[1] as Round1Package),
        proofR: (pkgs[2] as Round1Package).proofR,
        proofZ: (pkgs[2] as Round1Package).proofZ,
      };
      const swappedBytes = { ...swapped, proofRBytes: (pkgs[2] as Round1Package).proofRBytes };
      const one = [bump(pkgs[0] as Round1Package), ...pkgs.slice(1)];
      expect(findInvalidProofs(suite, one, rng).map((p) => p.from)).toEqual([pkgs[0]?.from]);
      const two = [pkgs[0], swappedBytes, ...pkgs.slice(2, -1), bump(pkgs.at(-1) as Round1Package)] as Round1Package[];
      expect(findInvalidProofs(suite, two, rng).map((p) => p.from)).toEqual([pkgs[1]?.from, pkgs.at(-1)?.from]);
    });

    it(`${id}: round-2 shares — wrong, zero, swapped and mutually cancelling shares are all named`, () => {
      const suite = getSuite(id);
      const { Fn } = suite;
      const d = nobleDkg(suite, t, n);
      const myX = identifierScalar(suite, d.ids[0] as string);
      const honest: ReceivedShare[] = d.ids.slice(1).map((_, k) => ({
        dealer: parse(suite, t, d.publics[k + 1] as DKG_Round1),
        share: Fn.fromBytes(d.shareOf(k + 1, 0).signingShare),
      }));
      expect(findInvalidReceivedShares(suite, myX, honest, rng)).toEqual([]);
      const names = (rs: ReceivedShare[]) => rs.map((r) => r.dealer.from);
      const withShares = (shares: Map<number, bigint>) =>
        honest.map((r, k) => (shares.has(k) ? { ...r, share: shares.get(k) as bigint } : r));
      const share = (k: number) => (honest[k] as ReceivedShare).share;

      const wrong = withShares(new Map([[1, Fn.add(share(1), 1n)]]));
      expect(verifyReceivedShare(suite, myX, wrong[1] as ReceivedShare)).toBe(false);
      expect(names(findInvalidReceivedShares(suite, myX, wrong, rng))).toEqual(names([honest[1] as ReceivedShare]));

      const zero = withShares(new Map([[0, 0n]]));
      expect(names(findInvalidReceivedShares(suite, myX, zero, rng))).toEqual(names([honest[0] as ReceivedShare]));

      const swapped = withShares(
        new Map([
          [0, share(2)],
          [2, share(0)],
        ]),
      );
      expect(names(findInvalidReceivedShares(suite, myX, swapped, rng))).toEqual(names([honest[0], honest[2]] as ReceivedShare[]));

      // +δ and −δ leave Σ shares — hence the derived key share — unchanged: a plain sum check
      // would pass them; the random linear combination does not.
      const delta = Fn.create(12345n);
      const cancelling = withShares(
        new Map([
          [1, Fn.add(share(1), delta)],
          [3, Fn.sub(share(3), delta)],
        ]),
      );
      expect(batchVerifyReceivedShares(suite, myX, cancelling, rng)).toBe(false);
      expect(names(findInvalidReceivedShares(suite, myX, cancelling, rng))).toEqual(names([honest[1], honest[3]] as ReceivedShare[]));
    });
  }

  it('a proof whose R is not a group element: dkg_invalid_round1 naming the sender', () => {
    const suite = getSuite('ed25519');
    const d = nobleDkg(suite, 2, 3);
    const body = wire(d.publics[1] as DKG_Round1);
    // A point of order 2 (y = −1): on the curve, not in the prime-order subgroup.
    const small = `ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f`;
    const forged = { ...body, proofOfKnowledge: small + body.proofOfKnowledge.slice(64) };
    expectCode(() => parseRound1Package(suite, 2, 'mallory', d.ids[1] as string, forged), 'dkg_invalid_round1', ['mallory']);
    expect(catchProtocolError(() => parseRound1Package(suite, 2, 'mallory', d.ids[1] as string, forged)).message).toMatch(/invalid R/);
  });
});

describe('the participant names every cheater of a 3-of-5 DKG', () => {
  const names = ['p01', 'p02', 'p03', 'p04', 'p05'];
  const reseal = (world: SimWorld, env: Envelope, body: unknown) =>
    world.parties.get(env.from)!.sealer.seal({ type: env.type, sessionId: env.sessionId, to: env.to, body } as never);

  for (const id of ['ed25519', 'secp256k1-tr'] as const) {
    it(`${id}: two dealers with wrong shares for p01 → p01 names both; the others finish`, () => {
      const suite = getSuite(id);
      const world = makeWorld(names);
      const run = runDkg(world, suite, names, 3, {
        tamper: (env, to) => {
          if (env.type !== 'dkg_round2' || to !== 'p01' || (env.from !== 'p02' && env.from !== 'p04')) return env;
          const body = env.body as MessageBody<'dkg_round2'>;
          const ctx = { suite: id, sessionId: env.sessionId, round: 'dkg_round2', from: env.from, to };
          const box = sealBox(suite.frost.utils.randomScalar(rng), world.keyOf(to)!, ctx, rng);
          return reseal(world, env, { ...body, box: { epk: toHex(box.epk), nonce: toHex(box.nonce), ciphertext: toHex(box.ciphertext) } });
        },
      });
      expectError(run.errors.get('p01'), 'dkg_invalid_secret_share', ['p02', 'p04']);
      expect([...run.shares.keys()].sort()).toEqual(['p02', 'p03', 'p04', 'p05']);
    });

    it(`${id}: two forged proofs of knowledge → every honest party names both authors`, () => {
      const suite = getSuite(id);
      const world = makeWorld(names);
      const forged = new Map<string, Envelope>();
      const run = runDkg(world, suite, names, 3, {
        tamper: (env) => {
          if (env.type !== 'dkg_round1' || (env.from !== 'p03' && env.from !== 'p05')) return env;
          if (!forged.has(env.from)) {
            const body = env.body as MessageBody<'dkg_round1'>;
            const pok = fromHex(body.proofOfKnowledge);
            const at = pok.length - suite.scalarLength;
            pok.set(suite.Fn.toBytes(suite.Fn.add(suite.Fn.fromBytes(pok.subarray(at)), 1n)), at);
            forged.set(env.from, reseal(world, env, { ...body, proofOfKnowledge: toHex(pok) }));
          }
          return forged.get(env.from) as Envelope;
        },
      });
      expect(run.shares.size).toBe(0);
      for (const p of ['p01', 'p02', 'p04']) expectError(run.errors.get(p), 'dkg_invalid_round1', ['p03', 'p05']);
    });
  }
});

describe('DKG certificate: verifying shares checked in one batch, the inconsistent member still named', () => {
  const names = ['p01', 'p02', 'p03', 'p04', 'p05'];
  for (const id of ['ed25519', 'secp256k1-tr', 'p256'] as const) {
    it(`${id}: a 3-of-5 certificate passes; swapped or shifted verifying shares fail naming the first bad member`, () => {
      const suite = getSuite(id);
      const world = makeWorld(names);
      const run = runDkg(world, suite, names, 3, { keyId: 'cert' });
      const exp = { keyId: 'cert', suite: id, threshold: 3, committee: names, keyOf: world.keyOf };
      const pub = verifyDkgCertificate(run.confirmations, exp);
      expect(pub).toEqual(run.shares.get('p01')?.public);
      // Every member signs the same wrong body: only the consistency check can catch it.
      const everyoneSigns = (edit: (vs: Record<string, string>) => Record<string, string>) =>
        run.confirmations.map((env) => {
          const body = env.body as MessageBody<'dkg_confirm'>;
          return resign(
            { ...env, body: { ...body, verifyingShares: edit({ ...body.verifyingShares }) } },
            world.parties.get(env.from)!.identity,
          );
        });
      const swapped = everyoneSigns((vs) => ({ ...vs, p02: vs.p04 as string, p04: vs.p02 as string }));
      expect(catchProtocolError(() => verifyDkgCertificate(swapped, exp)).message).toMatch(/verifying share of p02 is inconsistent/);
      // +G on one share and −G on another: a plain sum of the checks would balance out.
      const G = suite.Point.BASE;
      const shift = (hex: string, by: typeof G) => toHex(suite.Point.fromBytes(fromHex(hex)).add(by).toBytes());
      const shifted = everyoneSigns((vs) => ({ ...vs, p03: shift(vs.p03 as string, G), p05: shift(vs.p05 as string, G.negate()) }));
      expectCode(() => verifyDkgCertificate(shifted, exp), 'dkg_confirmation_mismatch');
      expect(catchProtocolError(() => verifyDkgCertificate(shifted, exp)).message).toMatch(/verifying share of p03 is inconsistent/);
    });
  }
});
