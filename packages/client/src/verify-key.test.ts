/**
 * verifyKey against real DKG certificates (the protocol's simulated committee), for every suite,
 * and against what a compromised coordinator can serve a desk instead. Each hostile case asserts
 * the refusal code, so a test passes only when the check it names is the one that refused.
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
import { cluster } from '../../protocol/test/harness.js';
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
import { servedAfter, servedKey } from '../test/fixtures.js';
import type { Key } from './schemas.js';
import { type KeyRefusalCode, type KeyVerdict, verifyKey } from './verify-key.js';

function refused(v: KeyVerdict, code: KeyRefusalCode): Extract<KeyVerdict, { ok: false }> {
  expect(v).toMatchObject({ ok: false, code });
  return v as Extract<KeyVerdict, { ok: false }>;
}

const confirmations = (k: Key) => k.certificate?.confirmations ?? [];
const withConfirmations = (k: Key, list: ReturnType<typeof confirmations>): Key => ({ ...k, certificate: { confirmations: list } });

describe('verifyKey accepts what the committee generated', () => {
  test.each(SUITE_IDS)('%s: 2-of-3, in any order of confirmations', (suite: SuiteId) => {
    const { key, trust } = servedKey(cluster(suite, 3, 2));
    expect(verifyKey(key, trust)).toEqual({
      ok: true,
      keyId: key.keyId,
      suite,
      threshold: 2,
      parties: key.parties,
      publicKey: key.publicKey,
    });
    expect(verifyKey(withConfirmations(key, [...confirmations(key)].reverse()), trust).ok).toBe(true);
  });

  test('a trust file may pin more parties than the committee has', () => {
    const { key, trust } = servedKey(cluster('ed25519', 3, 2));
    expect(verifyKey(key, { parties: { ...trust.parties, 'p99-other': '11'.repeat(32) } }).ok).toBe(true);
  });

  test('an identityKey the coordinator no longer pins (null) is not needed', () => {
    const { key, trust } = servedKey(cluster('ed25519', 3, 2));
    expect(
      verifyKey(
        withConfirmations(
          key,
          confirmations(key).map((c) => ({ ...c, identityKey: null })),
        ),
        trust,
      ).ok,
    ).toBe(true);
  });
});

describe('verifyKey refuses what a compromised coordinator serves instead', () => {
  const c = cluster('ed25519', 3, 2);
  const { key, trust } = servedKey(c);
  const other = servedKey(cluster('ed25519', 3, 2));

  test('a public key that no certificate supports (the coordinator swapped publicKey)', () => {
    const v = refused(verifyKey({ ...key, publicKey: other.key.publicKey }, trust), 'public_key_mismatch');
    expect(v.reason).toContain(key.publicKey as string);
  });

  test('verifying shares other than the confirmed ones', () => {
    const [a, b] = Object.keys(key.verifyingShares ?? {}) as [string, string];
    const shares = { ...key.verifyingShares, [a]: key.verifyingShares?.[b] as string, [b]: key.verifyingShares?.[a] as string };
    refused(verifyKey({ ...key, verifyingShares: shares }, trust), 'verifying_shares_mismatch');
  });

  test('a key the coordinator generated alone, certified by identities it made up', () => {
    // Impostors under the real names: the desk's trust file does not pin their keys.
    const forged = servedKey(cluster('ed25519', 3, 2));
    refused(verifyKey(forged.key, trust), 'identity_mismatch');
    // The same, with the coordinator claiming the genuine identity keys: the signatures give it away.
    const relabelled = withConfirmations(
      forged.key,
      confirmations(forged.key).map((cf) => ({ ...cf, identityKey: trust.parties[cf.from] ?? null })),
    );
    expect(refused(verifyKey(relabelled, trust), 'certificate_invalid').protocolCode).toBe('bad_signature');
  });

  test('a confirmation altered after it was signed (bad signature)', () => {
    const [first, ...rest] = confirmations(key) as [ReturnType<typeof confirmations>[number], ...ReturnType<typeof confirmations>];
    const body = { ...(first.body as MessageBody<'dkg_confirm'>), publicKey: other.key.publicKey as string };
    const v = refused(
      verifyKey(withConfirmations({ ...key, publicKey: other.key.publicKey }, [{ ...first, body }, ...rest]), trust),
      'certificate_invalid',
    );
    expect(v.protocolCode).toBe('bad_signature');
  });

  test('a missing party: a confirmation dropped', () => {
    const v = refused(verifyKey(withConfirmations(key, confirmations(key).slice(1)), trust), 'certificate_invalid');
    expect(v).toMatchObject({ protocolCode: 'dkg_confirmation_mismatch', reason: expect.stringContaining('no confirmation from') });
  });

  test('a missing party: a committee member added who never confirmed', () => {
    const v = refused(
      verifyKey({ ...key, parties: [...key.parties, 'p04'] }, { parties: { ...trust.parties, p04: '22'.repeat(32) } }),
      'certificate_invalid',
    );
    expect(v.reason).toContain('p04');
  });

  test('an extra party: a committee member removed whose confirmation is still there', () => {
    const v = refused(verifyKey({ ...key, parties: key.parties.slice(0, 2), threshold: 2 }, trust), 'certificate_invalid');
    expect(v.protocolCode).toBe('unknown_party');
  });

  test('an extra party: a confirmation counted twice', () => {
    const list = confirmations(key);
    const v = refused(verifyKey(withConfirmations(key, [...list, list[0] as (typeof list)[number]]), trust), 'certificate_invalid');
    expect(v.reason).toContain('twice');
  });

  test('a committee member that is not in the trust file', () => {
    const { p02: _dropped, ...rest } = trust.parties;
    refused(verifyKey(key, { parties: rest }), 'untrusted_party');
  });

  test('a confirmation from a party not in the trust file, outside the committee', () => {
    const stranger = servedKey(cluster('ed25519', 4, 2));
    const extra = confirmations(stranger.key).find((cf) => cf.from === 'p04') as ReturnType<typeof confirmations>[number];
    refused(verifyKey(withConfirmations(key, [...confirmations(key), extra]), trust), 'untrusted_party');
  });

  test('the coordinator names an identity key other than the pinned one', () => {
    const list = confirmations(key).map((cf) => (cf.from === 'p02' ? { ...cf, identityKey: '33'.repeat(32) } : cf));
    expect(refused(verifyKey(withConfirmations(key, list), trust), 'identity_mismatch').reason).toContain('p02');
  });

  test('a confirmation published under another party id than its sender', () => {
    const list = confirmations(key).map((cf) => (cf.from === 'p02' ? { ...cf, partyId: 'p03' } : cf));
    refused(verifyKey(withConfirmations(key, list), trust), 'malformed_confirmation');
  });

  test('a certificate for another key by the same parties (replayed from a key the desk trusts)', () => {
    const run = runDkg(c.world, c.suite, c.names, 2);
    const replay = publishCertificate(run.confirmations, (p) => trust.parties[p]);
    const otherKey = run.shares.get('p01')?.public.publicKey as string;
    for (const publicKey of [key.publicKey, otherKey]) {
      const v = refused(verifyKey({ ...key, publicKey, certificate: replay }, trust), 'certificate_invalid');
      expect(v.reason).toContain('another key');
    }
  });

  test('a certificate for another suite or threshold', () => {
    expect(refused(verifyKey({ ...key, threshold: 3 }, trust), 'certificate_invalid').reason).toContain('another key, suite or threshold');
    refused(verifyKey({ ...key, suite: 'ristretto255' }, trust), 'certificate_invalid');
  });

  test('a pending or failed key, or an active one without a certificate', () => {
    refused(verifyKey({ ...key, status: 'pending', publicKey: null, certificate: null }, trust), 'key_not_active');
    refused(verifyKey({ ...key, status: 'failed', publicKey: null, certificate: null }, trust), 'key_not_active');
    refused(verifyKey({ ...key, certificate: null }, trust), 'no_certificate');
  });
});

describe('verifyKey follows the lineage of a refreshed, repaired or reshared key back to its DKG', () => {
  const after = servedAfter;
  const confirmsOf = (run: { toCoordinator: Envelope[] }) => run.toCoordinator.filter((e) => e.type === 'lifecycle_confirm');

  test('a refreshed key verifies against the same committee; the old verifying shares do not', () => {
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
    expect(verifyKey(key, trust)).toMatchObject({ ok: true, threshold: 2, parties: ['p01', 'p02', 'p03'] });
    refused(verifyKey({ ...key, verifyingShares: c.pub.verifyingShares }, trust), 'verifying_shares_mismatch');
    refused(verifyKey({ ...key, certificate: { ...key.certificate!, lineage: [] } }, trust), 'verifying_shares_mismatch');
  });

  test('a key reshared 2-of-3 → 3-of-4 verifies against the new committee; a swapped link or a lying committee is refused', () => {
    const c = cluster('ed25519', 3, 2);
    const world = widenWorld(c, ['p04']);
    const identity = (p: string) => toHex(world.keyOf(p) as Uint8Array);
    const trust = { parties: Object.fromEntries(['p01', 'p02', 'p03', 'p04'].map((p) => [p, identity(p)])) };
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
    expect(verifyKey(key, trust)).toMatchObject({ ok: true, threshold: 3, parties: ['p01', 'p02', 'p03', 'p04'] });
    refused(verifyKey({ ...key, parties: ['p01', 'p02', 'p03'] }, trust), 'committee_mismatch');
    const wrongSession = {
      ...key,
      certificate: { ...key.certificate!, lineage: key.certificate!.lineage!.map((l) => ({ ...l, sessionId: 'reshare-s2' })) },
    };
    expect(refused(verifyKey(wrongSession, trust), 'certificate_invalid').protocolCode).toBe('lifecycle_confirmation_mismatch');
  });

  test('a party re-created with a new identity and repaired verifies with its old key retired; without the repair link it is stale', () => {
    const c = cluster('ed25519', 3, 2);
    const world = recreatedWorld(c, 'p02');
    const run = runSession(world, repairMachines(c, { target: 'p02', helpers: ['p01', 'p03'], sessionId: 'repair-s1' }, world));
    const confirm = run.toCoordinator.filter((e) => e.type === 'repair_confirm');
    const oldKey = toHex(c.world.keyOf('p02') as Uint8Array);
    const identity = (p: string) => toHex(world.keyOf(p) as Uint8Array);
    const trust = { parties: Object.fromEntries(c.names.map((p) => [p, identity(p)])), retired: { p02: [oldKey] } };
    const key = after(c, [{ operation: 'repair', sessionId: 'repair-s1', confirmations: confirm }], c.pub, identity);
    expect(verifyKey(key, trust)).toMatchObject({ ok: true });
    // The DKG confirmation of p02 is under its old key: only the retired entry checks it.
    expect(refused(verifyKey(key, { parties: trust.parties }), 'certificate_invalid').protocolCode).toBe('bad_signature');
    // Without the repair, p02's latest signature is the old identity's: the party was not re-enrolled in this key.
    refused(verifyKey({ ...key, certificate: { ...key.certificate!, lineage: [] } }, trust), 'stale_identity');
    // A repair proof of another session does not verify.
    const moved = {
      ...key,
      certificate: { ...key.certificate!, lineage: key.certificate!.lineage!.map((l) => ({ ...l, sessionId: 'repair-s2' })) },
    };
    refused(verifyKey(moved, trust), 'certificate_invalid');
  });
});
