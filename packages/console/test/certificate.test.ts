/**
 * The browser's certificate check (verifyKeyCertificate under Node's WebCrypto) against the desk's
 * (`glacis keys verify`'s verifyKey, through the protocol's verifyDkgCertificate and
 * verifyLifecycleCertificate), on real DKG certificates of every suite, on keys refreshed,
 * reshared and repaired since (their lineage), and on everything a compromised coordinator can
 * serve instead: the same verdict and the same refusal code each time. One documented difference
 * is pinned down too: the browser does not do the curve arithmetic (docs/console.md).
 */
import {
  type Envelope,
  type MessageBody,
  type PendingSuccessor,
  publishCertificate,
  SUITE_IDS,
  type SuiteId,
  toHex,
} from '@glacis/protocol';
import { describe, expect, test } from 'vitest';
import { verifyKey } from '../../client/src/verify-key.js';
import { servedAfter, servedKey } from '../../client/test/fixtures.js';
import { cluster, resign } from '../../protocol/test/harness.js';
import {
  recreatedWorld,
  repairMachines,
  reshareMachines,
  reshareSuccessors,
  runRefresh,
  widenWorld,
} from '../../protocol/test/lifecycle-harness.js';
import { runSession } from '../../protocol/test/lifecycle-sim.js';
import { runDkg } from '../../protocol/test/sim.js';
import type { Key } from '../src/api-types.js';
import { type KeyRefusalCode, verifyKeyCertificate } from '../src/certificate.js';

const subtle = globalThis.crypto.subtle;
type Pins = Record<string, string>;
type Retired = Record<string, string[]>;

/** Both checks on the same key: equal verdicts, and that verdict. */
async function bothSay(key: Key, pins: Pins, expected: true | KeyRefusalCode, retired?: Retired): Promise<string> {
  const desk = verifyKey(key as Parameters<typeof verifyKey>[0], { parties: pins, ...(retired ? { retired } : {}) });
  const browser = await verifyKeyCertificate(subtle, key, pins, retired);
  if (expected === true) {
    expect(desk.ok, JSON.stringify(desk)).toBe(true);
    expect(browser).toEqual({ ok: true, keyId: key.keyId, publicKey: key.publicKey });
    return '';
  }
  expect(desk).toMatchObject({ ok: false, code: expected });
  expect(browser).toMatchObject({ ok: false, code: expected });
  return browser.ok ? '' : browser.reason;
}

const confirmations = (k: Key) => k.certificate?.confirmations ?? [];
const withConfirmations = (k: Key, list: ReturnType<typeof confirmations>): Key => ({ ...k, certificate: { confirmations: list } });

describe('the browser accepts what the committee generated, as the desk does', () => {
  test.each(SUITE_IDS)(
    '%s: 2-of-3, in any order of confirmations, with or without the coordinator’s identityKey',
    async (suite: SuiteId) => {
      const { key, trust } = servedKey(cluster(suite, 3, 2));
      await bothSay(key, trust.parties, true);
      await bothSay(withConfirmations(key, [...confirmations(key)].reverse()), trust.parties, true);
      await bothSay(
        withConfirmations(
          key,
          confirmations(key).map((c) => ({ ...c, identityKey: null })),
        ),
        trust.parties,
        true,
      );
      await bothSay(key, { ...trust.parties, 'p99-other': '11'.repeat(32) }, true);
    },
  );

  test('3-of-5 secp256k1-tr', async () => {
    const { key, trust } = servedKey(cluster('secp256k1-tr', 5, 3));
    await bothSay(key, trust.parties, true);
  });
});

describe('the browser refuses what a compromised coordinator serves, with the desk’s code', () => {
  const c = cluster('ed25519', 3, 2);
  const { key, trust } = servedKey(c);
  const pins = trust.parties;
  const other = servedKey(cluster('ed25519', 3, 2));
  type Confirmation = ReturnType<typeof confirmations>[number];

  test('a public key swapped for one no certificate supports', async () => {
    expect(await bothSay({ ...key, publicKey: other.key.publicKey }, pins, 'public_key_mismatch')).toContain(key.publicKey as string);
  });

  test('verifying shares other than the confirmed ones', async () => {
    const [a, b] = Object.keys(key.verifyingShares ?? {}) as [string, string];
    const shares = { ...key.verifyingShares, [a]: key.verifyingShares?.[b] as string, [b]: key.verifyingShares?.[a] as string };
    await bothSay({ ...key, verifyingShares: shares }, pins, 'verifying_shares_mismatch');
  });

  test('a key the coordinator generated alone, under identities it made up or relabelled as the pinned ones', async () => {
    await bothSay(other.key, pins, 'identity_mismatch');
    const relabelled = withConfirmations(
      other.key,
      confirmations(other.key).map((cf) => ({ ...cf, identityKey: pins[cf.from] ?? null })),
    );
    expect(await bothSay(relabelled, pins, 'certificate_invalid')).toContain('signature does not verify');
  });

  test('a confirmation altered after it was signed', async () => {
    const [first, ...rest] = confirmations(key) as [Confirmation, ...Confirmation[]];
    const body = { ...(first.body as MessageBody<'dkg_confirm'>), publicKey: other.key.publicKey as string };
    const forged = withConfirmations({ ...key, publicKey: other.key.publicKey }, [{ ...first, body }, ...rest]);
    expect(await bothSay(forged, pins, 'certificate_invalid')).toContain('signature does not verify');
    // Any field the signature covers: seq, sessionId, to.
    for (const edit of [{ seq: first.seq + 1 }, { sessionId: 'dkg-other' }, { to: 'p02' }]) {
      await bothSay(withConfirmations(key, [{ ...first, ...edit }, ...rest]), pins, 'certificate_invalid');
    }
  });

  test('a signature that is not 64 bytes of hex', async () => {
    const [first, ...rest] = confirmations(key) as [Confirmation, ...Confirmation[]];
    await bothSay(withConfirmations(key, [{ ...first, signature: first.signature.slice(2) }, ...rest]), pins, 'certificate_invalid');
  });

  test('a confirmation dropped, or a committee member added who never confirmed', async () => {
    expect(await bothSay(withConfirmations(key, confirmations(key).slice(1)), pins, 'certificate_invalid')).toContain(
      'no confirmation from',
    );
    expect(await bothSay({ ...key, parties: [...key.parties, 'p04'] }, { ...pins, p04: '22'.repeat(32) }, 'certificate_invalid')).toContain(
      'p04',
    );
  });

  test('a committee member removed whose confirmation is still there, or a confirmation counted twice', async () => {
    await bothSay({ ...key, parties: key.parties.slice(0, 2), threshold: 2 }, pins, 'certificate_invalid');
    const list = confirmations(key);
    expect(await bothSay(withConfirmations(key, [...list, list[0] as Confirmation]), pins, 'certificate_invalid')).toContain('twice');
  });

  test('a committee member, or a confirming stranger, that the user did not pin', async () => {
    const { p02: _dropped, ...rest } = pins;
    await bothSay(key, rest, 'untrusted_party');
    const stranger = servedKey(cluster('ed25519', 4, 2));
    const extra = confirmations(stranger.key).find((cf) => cf.from === 'p04') as Confirmation;
    await bothSay(withConfirmations(key, [...confirmations(key), extra]), pins, 'untrusted_party');
  });

  test('the coordinator names another identity key, or publishes a confirmation under another id', async () => {
    const other33 = confirmations(key).map((cf) => (cf.from === 'p02' ? { ...cf, identityKey: '33'.repeat(32) } : cf));
    expect(await bothSay(withConfirmations(key, other33), pins, 'identity_mismatch')).toContain('p02');
    const renamed = confirmations(key).map((cf) => (cf.from === 'p02' ? { ...cf, partyId: 'p03' } : cf));
    await bothSay(withConfirmations(key, renamed), pins, 'malformed_confirmation');
  });

  test('a certificate replayed from another key of the same parties', async () => {
    const run = runDkg(c.world, c.suite, c.names, 2);
    const replay = publishCertificate(run.confirmations, (p) => pins[p]);
    const otherKey = run.shares.get('p01')?.public.publicKey as string;
    for (const publicKey of [key.publicKey, otherKey]) {
      expect(await bothSay({ ...key, publicKey, certificate: replay }, pins, 'certificate_invalid')).toContain('another key');
    }
  });

  test('a certificate for another suite or threshold', async () => {
    expect(await bothSay({ ...key, threshold: 3 }, pins, 'certificate_invalid')).toContain('another key, suite or threshold');
    await bothSay({ ...key, suite: 'ristretto255' }, pins, 'certificate_invalid');
  });

  test('a pending or failed key, or an active one without a certificate', async () => {
    await bothSay({ ...key, status: 'pending', publicKey: null, certificate: null }, pins, 'key_not_active');
    await bothSay({ ...key, status: 'failed', publicKey: null, certificate: null }, pins, 'key_not_active');
    await bothSay({ ...key, certificate: null }, pins, 'no_certificate');
  });

  test('confirmations that disagree, each validly signed by its member', async () => {
    const list = confirmations(key).map((cf) => {
      if (cf.from !== 'p02') return cf;
      const { partyId, identityKey, ...envelope } = cf;
      const body = { ...(envelope.body as MessageBody<'dkg_confirm'>), transcriptHash: 'ab'.repeat(32) };
      const p02 = c.world.parties.get('p02')?.identity;
      if (p02 === undefined) throw new Error('no p02');
      return { partyId, identityKey, ...resign({ ...envelope, body } as Envelope, p02) };
    });
    expect(await bothSay(withConfirmations(key, list), pins, 'certificate_invalid')).toContain('disagree');
  });
});

describe('a refreshed, reshared or repaired key: the lineage followed back to its DKG, as the desk does', () => {
  const after = (...args: Parameters<typeof servedAfter>): Key => servedAfter(...args) as Key;
  const confirmsOf = (run: { toCoordinator: Envelope[] }) => run.toCoordinator.filter((e) => e.type === 'lifecycle_confirm');
  const lineageOf = (k: Key) => k.certificate?.lineage ?? [];
  const withLineage = (k: Key, lineage: ReturnType<typeof lineageOf>): Key => ({
    ...k,
    certificate: { confirmations: k.certificate?.confirmations ?? [], lineage },
  });

  test('refreshed: verified against the same committee; the DKG’s verifying shares or a dropped link are not', async () => {
    const c = cluster('ed25519', 3, 2);
    const { trust } = servedKey(c);
    const run = runRefresh(c, { sessionId: 'refresh-s1' });
    const successor = (run.results.get('p01') as PendingSuccessor).public;
    const key = after(
      c,
      [{ operation: 'refresh', sessionId: 'refresh-s1', confirmations: confirmsOf(run) }],
      successor,
      (p) => trust.parties[p] as string,
    );
    await bothSay(key, trust.parties, true);
    await bothSay({ ...key, verifyingShares: c.pub.verifyingShares }, trust.parties, 'verifying_shares_mismatch');
    await bothSay(withLineage(key, []), trust.parties, 'verifying_shares_mismatch');
    // A link moved to another session, or a confirmation of it dropped.
    await bothSay(
      withLineage(
        key,
        lineageOf(key).map((l) => ({ ...l, sessionId: 'refresh-s2' })),
      ),
      trust.parties,
      'certificate_invalid',
    );
    const [first] = lineageOf(key);
    if (first === undefined) throw new Error('no link');
    await bothSay(withLineage(key, [{ ...first, confirmations: first.confirmations.slice(1) }]), trust.parties, 'certificate_invalid');
    // The same link twice: the second succeeds another generation than the one it was made for.
    expect(await bothSay(withLineage(key, [first, first]), trust.parties, 'certificate_invalid')).toContain('another generation');
  });

  test('reshared 2-of-3 → 3-of-4: verified against the new committee; a served committee or threshold it did not confirm is refused', async () => {
    const c = cluster('ed25519', 3, 2);
    const world = widenWorld(c, ['p04']);
    const identity = (p: string) => toHex(world.keyOf(p) as Uint8Array);
    const pins = Object.fromEntries(['p01', 'p02', 'p03', 'p04'].map((p) => [p, identity(p)]));
    const run = runSession(
      world,
      reshareMachines(c, world, {
        dealers: ['p01', 'p02'],
        committee: ['p01', 'p02', 'p03', 'p04'],
        threshold: 3,
        sessionId: 'reshare-s1',
      }),
    );
    const successor = (reshareSuccessors(run).get('p04') as PendingSuccessor).public;
    const key = after(c, [{ operation: 'reshare', sessionId: 'reshare-s1', confirmations: confirmsOf(run) }], successor, identity);
    await bothSay(key, pins, true);
    await bothSay({ ...key, threshold: 2 }, pins, 'committee_mismatch');
    const { p04: _new, ...oldPins } = pins;
    await bothSay(key, oldPins, 'untrusted_party');
    // Served as a refresh: a refresh keeps its committee.
    await bothSay(
      withLineage(
        key,
        lineageOf(key).map((l) => ({ ...l, operation: 'refresh' })),
      ),
      pins,
      'certificate_invalid',
    );
  });

  test('a party re-created with a new identity and repaired: verified with its old key retired; without the repair link it is stale', async () => {
    const c = cluster('ed25519', 3, 2);
    const world = recreatedWorld(c, 'p02');
    const run = runSession(world, repairMachines(c, { target: 'p02', helpers: ['p01', 'p03'], sessionId: 'repair-s1' }, world));
    const confirm = run.toCoordinator.filter((e) => e.type === 'repair_confirm');
    const identity = (p: string) => toHex(world.keyOf(p) as Uint8Array);
    const pins = Object.fromEntries(c.names.map((p) => [p, identity(p)]));
    const retired = { p02: [toHex(c.world.keyOf('p02') as Uint8Array)] };
    const key = after(c, [{ operation: 'repair', sessionId: 'repair-s1', confirmations: confirm }], c.pub, identity);
    await bothSay(key, pins, true, retired);
    // p02's DKG confirmation is under its old key: only the retired entry checks it.
    await bothSay(key, pins, 'certificate_invalid');
    await bothSay(withLineage(key, []), pins, 'stale_identity', retired);
    await bothSay(
      withLineage(
        key,
        lineageOf(key).map((l) => ({ ...l, sessionId: 'repair-s2' })),
      ),
      pins,
      'certificate_invalid',
      retired,
    );
  });
});

describe('what the browser does not check (docs/console.md)', () => {
  test('a verifying share every member signed but that the group commitment does not give: the desk refuses, the browser does not', async () => {
    const c = cluster('ed25519', 3, 2);
    const { key, trust } = servedKey(c);
    const shares = { ...(key.verifyingShares as Record<string, string>) };
    shares.p03 = shares.p01 as string; // a valid point, but not p03's image of the polynomial
    const list = confirmations(key).map(({ partyId, identityKey, ...envelope }) => {
      const body = { ...(envelope.body as MessageBody<'dkg_confirm'>), verifyingShares: shares };
      const identity = c.world.parties.get(envelope.from)?.identity;
      if (identity === undefined) throw new Error(`no ${envelope.from}`);
      return { partyId, identityKey, ...resign({ ...envelope, body } as Envelope, identity) };
    });
    const wholeCommitteeLies = { ...withConfirmations(key, list), verifyingShares: shares };
    expect(verifyKey(wholeCommitteeLies as Parameters<typeof verifyKey>[0], trust)).toMatchObject({
      ok: false,
      code: 'certificate_invalid',
    });
    expect(await verifyKeyCertificate(subtle, wholeCommitteeLies, trust.parties)).toMatchObject({ ok: true });
  });
});
