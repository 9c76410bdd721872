/**
 * The fast path's signature share (fast/sign-share.ts) against noble's `signShare`: the same bytes
 * from the same nonces in all six suites, with dealer and DKG keys and every secp256k1-tr parity
 * combination; and the signer built on it decodes each commitment of a package exactly once. The
 * RFC 9591 / frost-rs vectors replay the same computation (signing-vector.ts).
 */
import type { FrostPublic, FrostSecret } from '@noble/curves/abstract/frost.js';
import { describe, expect, it } from 'vitest';
import { prepareKey, prepareSession, prepareSignerSecret } from '../src/fast/index.js';
import {
  createSigner,
  fromHex,
  getSuite,
  type MessageBody,
  parseNonceCommitment,
  SUITE_IDS,
  type Suite,
  type SuiteId,
  toFrostPublic,
  toHex,
  utf8,
} from '../src/index.js';
import { countCalls, POINT_DECODES, PRIME_ORDER_CHECK } from './call-counts.js';
import { cluster, expectCode, shareOf } from './harness.js';
import { rng } from './sim.js';

/** A session of `secrets` on a random message: noble's shares and the fast path's, from the same nonces. */
function bothShares(suite: Suite, pub: FrostPublic, secrets: readonly FrostSecret[]) {
  const msg = rng(1 + ((rng(1)[0] as number) % 64));
  const commits = secrets.map((s) => suite.frost.commit(s, rng));
  const list = commits.map((c) => c.commitments);
  const key = prepareKey(suite, pub);
  const session = prepareSession(
    key,
    list.map((c) => ({
      identifier: c.identifier,
      commitment: parseNonceCommitment(suite, { hiding: toHex(c.hiding), binding: toHex(c.binding) }),
    })),
    msg,
  );
  return secrets.map((s, i) => {
    const { nonces } = commits[i] as (typeof commits)[number];
    const ours = session.signShare(prepareSignerSecret(key, s), {
      hiding: suite.Fn.fromBytes(nonces.hiding),
      binding: suite.Fn.fromBytes(nonces.binding),
    });
    // noble zeroes the nonces it used: ours was computed first, from the same values.
    const noble = suite.frost.signShare(s, pub, nonces, list, msg);
    return { ours: toHex(ours), noble: toHex(noble), R: toHex(session.groupCommitmentBytes) };
  });
}

function dealer(id: SuiteId, t: number, n: number) {
  const suite = getSuite(id);
  const ids = Array.from({ length: n }, (_, i) => suite.identifierFor(`p${i + 1}`));
  const deal = suite.frost.trustedDealer({ min: t, max: n }, ids, undefined, rng);
  return { suite, pub: deal.public, secrets: ids.slice(0, t).map((i) => deal.secretShares[i] as FrostSecret) };
}

describe('signShare: byte-identical to noble', () => {
  for (const id of SUITE_IDS) {
    it(`${id}: dealer keys t = 2, 3, 5 and a DKG key, every signer`, () => {
      for (const t of [2, 3, 5]) {
        const { suite, pub, secrets } = dealer(id, t, t + 1);
        for (const s of bothShares(suite, pub, secrets)) expect(s.ours).toBe(s.noble);
      }
      const c = cluster(id, 3, 2);
      const secrets = ['p01', 'p03'].map((p) => c.share(p).frostSecret);
      for (const s of bothShares(c.suite, toFrostPublic(c.pub), secrets)) expect(s.ours).toBe(s.noble);
    });
  }

  it('secp256k1-tr: both group-key parities × both R parities (nonce and share negation)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 4; i++) {
      const { suite, pub, secrets } = dealer('secp256k1-tr', 2, 3);
      for (const s of bothShares(suite, pub, secrets)) {
        expect(s.ours).toBe(s.noble);
        seen.add(`key ${toHex(pub.commitments[0] as Uint8Array).slice(0, 2)} / R ${s.R.slice(0, 2)}`);
      }
    }
    expect([...seen].sort()).toEqual(['key 02 / R 02', 'key 02 / R 03', 'key 03 / R 02', 'key 03 / R 03']);
  });

  it('a zeroed (already used) nonce pair is refused: nonce_reused; a non-signer: missing_own_commitment', () => {
    const { suite, pub, secrets } = dealer('ed25519', 2, 3);
    const key = prepareKey(suite, pub);
    const commits = secrets.map((s) => suite.frost.commit(s, rng));
    const session = prepareSession(
      key,
      commits.map(({ commitments: c }) => ({
        identifier: c.identifier,
        commitment: parseNonceCommitment(suite, { hiding: toHex(c.hiding), binding: toHex(c.binding) }),
      })),
      utf8('m'),
    );
    const secret = prepareSignerSecret(key, secrets[0] as FrostSecret);
    expectCode(() => session.signShare(secret, { hiding: 0n, binding: 5n }), 'nonce_reused');
    const outsider = dealer('ed25519', 2, 3).secrets[0] as FrostSecret;
    expectCode(
      () => session.signShare(prepareSignerSecret(key, { ...outsider, identifier: suite.identifierFor('x') }), { hiding: 1n, binding: 1n }),
      'missing_own_commitment',
    );
  });

  it('a prepared signer secret does not show its scalar in JSON', () => {
    const { suite, pub, secrets } = dealer('ed25519', 2, 3);
    const secret = prepareSignerSecret(prepareKey(suite, pub), secrets[0] as FrostSecret);
    expect(JSON.stringify({ secret })).not.toContain(secret.scalar.toString());
    expect(JSON.stringify({ secret })).toContain('redacted');
  });
});

describe('the signer decodes each point of a package once', () => {
  for (const id of ['ed25519', 'secp256k1-tr', 'ed448'] as const) {
    it(`${id}: 3-of-4, a package of 3 commitments → 4 point decodes and 4 subgroup checks (peers' only), no [L]P`, () => {
      const c = cluster(id, 4, 3);
      const signers = ['p01', 'p02', 'p04'].map((p) => [p, createSigner(c.share(p), rng)] as const);
      const pkg: MessageBody<'signing_package'> = {
        keyId: c.pub.keyId,
        requestId: 'r',
        intent: { type: 'raw', message: toHex(utf8('count me')) },
        approvals: [],
        commitments: signers.map(([p, s]) => ({ partyId: p, ...s.commit() })),
      };
      const [self, own] = signers[0] as (typeof signers)[number];
      let share: Uint8Array = new Uint8Array();
      const [edDecodes, wDecodes, secpDecodes, torsionChecks, halvings] = countCalls(
        [...POINT_DECODES, ['abstract/edwards.js', 'isTorsionFree'], PRIME_ORDER_CHECK],
        () => {
          share = shareOf(own, pkg);
        },
      );
      // The signer's own commitment is one it computed and kept decoded (commitNonces): only the
      // two peers' are decoded and checked.
      expect(edDecodes + wDecodes + secpDecodes).toBe(2 * (pkg.commitments.length - 1));
      expect(torsionChecks).toBe(0);
      expect(halvings).toBe(id === 'secp256k1-tr' ? 0 : 2 * (pkg.commitments.length - 1));
      const list = pkg.commitments.map((x) => ({
        identifier: c.suite.identifierFor(x.partyId),
        hiding: fromHex(x.hiding),
        binding: fromHex(x.binding),
      }));
      expect(c.suite.frost.verifyShare(toFrostPublic(c.pub), list, utf8('count me'), c.suite.identifierFor(self), share)).toBe(true);
    });
  }
});
