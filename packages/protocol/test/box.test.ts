/**
 * End-to-end boxes carry DKG shares through the coordinator. A box must open only in the exact
 * context it was sealed for, so a relay cannot move a share to another session, round, sender or
 * recipient; any failure blames the claimed sender (whose signed envelope carried the box).
 */
import { describe, expect, it } from 'vitest';
import { type BoxContext, generateIdentity, openBox, sealBox, toHex } from '../src/index.js';
import { expectCode } from './harness.js';
import { rng } from './sim.js';

const alice = generateIdentity(rng);
const bob = generateIdentity(rng);
const ctx: BoxContext = { suite: 'ed25519', sessionId: 'dkg-k1', round: 'dkg_round2', from: 'alice', to: 'bob' };
const secret = new Uint8Array(32).map((_, i) => i + 1);

describe('sealBox / openBox', () => {
  it('opens for the recipient in the sealed context', () => {
    const box = sealBox(secret, bob.publicKey, ctx, rng);
    expect(toHex(openBox(box, bob, ctx))).toBe(toHex(secret));
    expect(toHex(box.ciphertext)).not.toContain(toHex(secret));
  });

  for (const field of ['suite', 'sessionId', 'round', 'from', 'to'] as const) {
    it(`a box moved to another ${field} fails, blaming the claimed sender`, () => {
      const box = sealBox(secret, bob.publicKey, ctx, rng);
      const moved = { ...ctx, [field]: `${ctx[field]}x` };
      expectCode(() => openBox(box, bob, moved), 'decryption_failed', [moved.from]);
    });
  }

  it('any flipped ciphertext byte (body or tag) fails', () => {
    const box = sealBox(secret, bob.publicKey, ctx, rng);
    for (let i = 0; i < box.ciphertext.length; i++) {
      const ciphertext = box.ciphertext.slice();
      ciphertext[i] = (ciphertext[i] as number) ^ 0x01;
      expectCode(() => openBox({ ...box, ciphertext }, bob, ctx), 'decryption_failed', ['alice']);
    }
  });

  it('a flipped nonce or ephemeral key byte fails', () => {
    const box = sealBox(secret, bob.publicKey, ctx, rng);
    const nonce = box.nonce.slice();
    nonce[0] = (nonce[0] as number) ^ 0x80;
    expectCode(() => openBox({ ...box, nonce }, bob, ctx), 'decryption_failed', ['alice']);
    const epk = box.epk.slice();
    epk[5] = (epk[5] as number) ^ 0x01;
    expectCode(() => openBox({ ...box, epk }, bob, ctx), 'decryption_failed', ['alice']);
  });

  it('only the recipient can open it', () => {
    const box = sealBox(secret, bob.publicKey, ctx, rng);
    expectCode(() => openBox(box, alice, ctx), 'decryption_failed', ['alice']);
  });

  it('malformed boxes fail without throwing anything else', () => {
    const box = sealBox(secret, bob.publicKey, ctx, rng);
    expectCode(() => openBox({ ...box, epk: box.epk.subarray(1) }, bob, ctx), 'decryption_failed', ['alice']);
    expectCode(() => openBox({ ...box, nonce: box.nonce.subarray(1) }, bob, ctx), 'decryption_failed', ['alice']);
    expectCode(() => openBox({ ...box, ciphertext: box.ciphertext.subarray(0, 15) }, bob, ctx), 'decryption_failed', ['alice']);
    // A low-order ephemeral key would make the shared secret all zeros.
    expectCode(() => openBox({ ...box, epk: new Uint8Array(32) }, bob, ctx), 'decryption_failed', ['alice']);
  });
});
