import { describe, expect, it } from 'vitest';
import { cluster } from '../../protocol/test/harness.js';
import type { Keystore, StoredShare } from '../src/keystore/keystore.js';
import { drillLocally } from '../src/lifecycle/local-drill.js';

const c = cluster('ed25519', 3, 2);
const fakeKeystore = (shares: StoredShare[]) =>
  ({ list: () => shares, get: (id: string) => shares.find((s) => s.share.keyId === id) }) as unknown as Keystore;

describe('glacis-party drill (drillLocally)', () => {
  it('an intact share proves itself against its certified verifying share', () => {
    const stored: StoredShare = { share: c.share('p01'), status: 'active', certificate: [], generation: 2 };
    expect(drillLocally(fakeKeystore([stored]), 'p01')).toEqual({
      ok: true,
      partyId: 'p01',
      keys: [{ keyId: c.pub.keyId, generation: 2, ok: true }],
    });
  });

  it('a damaged share (one bit of its secret flipped in memory, as a bad disk would leave it) fails with drill_share_mismatch', () => {
    const share = c.share('p02');
    const secret = share.frostSecret.signingShare.slice();
    secret[0] = (secret[0] as number) ^ 1;
    const damaged = { ...share, frostSecret: { ...share.frostSecret, signingShare: secret } };
    const result = drillLocally(fakeKeystore([{ share: damaged, status: 'active', certificate: [], generation: 0 }]), 'p02');
    expect(result.ok).toBe(false);
    expect(result.keys[0]).toMatchObject({ ok: false, code: 'drill_share_mismatch' });
  });

  it('a key held under another party id, or not held, fails', () => {
    const stored: StoredShare = { share: c.share('p01'), status: 'active', certificate: [], generation: 0 };
    expect(drillLocally(fakeKeystore([stored]), 'p03').keys[0]).toMatchObject({ ok: false, code: 'wrong_key' });
    expect(drillLocally(fakeKeystore([stored]), 'p01', 'key_nope').keys[0]).toMatchObject({ ok: false, code: 'unknown_key' });
  });
});
