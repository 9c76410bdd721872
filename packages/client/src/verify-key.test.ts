/**
 * verifyKey against real DKG certificates (the protocol's simulated committee), for every suite,
 * and against what a compromised coordinator can serve a desk instead. Each hostile case asserts
 * the refusal code, so a test passes only when the check it names is the one that refused.
 */
import { type MessageBody, publishCertificate, SUITE_IDS, type SuiteId } from '@glacis/protocol';
import { describe, expect, test } from 'vitest';
import { cluster } from '../../protocol/test/harness.js';
import { runDkg } from '../../protocol/test/sim.js';
import { servedKey } from '../test/fixtures.js';
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
