/**
 * The browser's Ed25519 verification (structural checks, then WebCrypto) against the protocol's
 * verifyIdentitySignature: the same verdict on valid signatures, on every small-order public key,
 * on non-canonical encodings, on S ≥ L, and on randomly mutated keys, signatures and messages.
 */
import { randomBytes } from 'node:crypto';
import { generateIdentity, verifyIdentitySignature } from '@glacis/protocol';
import { ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { passesStructuralChecks, verifyEd25519 } from '../src/ed25519.js';
import { fromHex } from '../src/hex.js';

const subtle = globalThis.crypto.subtle;
const rng = (n = 32) => new Uint8Array(randomBytes(n));
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const P = (1n << 255n) - 19n;

const le = (n: bigint) => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
};
const toNumber = (b: Uint8Array) => b.reduceRight((n, x) => (n << 8n) | BigInt(x), 0n);

async function sameVerdict(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): Promise<boolean> {
  const browser = await verifyEd25519(subtle, sig, msg, pub);
  expect(browser).toBe(verifyIdentitySignature(sig, msg, pub));
  return browser;
}

describe('Ed25519 in the browser', () => {
  const id = generateIdentity(rng);
  const msg = new TextEncoder().encode('glacis/envelope/v1\0{"v":1}');
  const sig = id.sign(msg);

  test('accepts a valid signature and refuses another message, key or signature', async () => {
    expect(await sameVerdict(sig, msg, id.publicKey)).toBe(true);
    expect(await sameVerdict(sig, new Uint8Array([...msg, 0]), id.publicKey)).toBe(false);
    expect(await sameVerdict(sig, msg, generateIdentity(rng).publicKey)).toBe(false);
    expect(await sameVerdict(new Uint8Array(64), msg, id.publicKey)).toBe(false);
    expect(await sameVerdict(sig.subarray(0, 63), msg, id.publicKey)).toBe(false);
  });

  test('refuses every small-order public key, in either sign, with the R = S·B forgery that fools a lax verifier', async () => {
    for (const hex of ED25519_TORSION_SUBGROUP) {
      for (const flip of [0, 0x80]) {
        const pub = fromHex(hex, 'torsion');
        pub[31] = (pub[31] as number) ^ flip;
        expect(passesStructuralChecks(sig, pub)).toBe(false);
        // Any message "verifies" under a small-order key for a signature (R, S) with R = S·B; a strict verifier refuses the key.
        const forged = new Uint8Array(64);
        forged.set(fromHex('5866666666666666666666666666666666666666666666666666666666666666', 'B'), 0);
        forged[32] = 1;
        expect(await sameVerdict(forged, msg, pub)).toBe(false);
      }
    }
  });

  test('refuses S ≥ L (the malleated twin S + L of a valid signature) and a non-canonical R or key', async () => {
    const malleated = sig.slice();
    malleated.set(le(toNumber(sig.subarray(32)) + L), 32);
    expect(await sameVerdict(malleated, msg, id.publicKey)).toBe(false);
    const nonCanonicalR = sig.slice();
    nonCanonicalR.set(le(P + 1n), 0); // y = p + 1 ≡ 1: the encoding of the identity, written long
    expect(await sameVerdict(nonCanonicalR, msg, id.publicKey)).toBe(false);
    expect(await sameVerdict(sig, msg, le(P + 2n))).toBe(false);
  });

  test('agrees with the protocol on randomly mutated signatures, keys and messages', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 127 }), fc.integer({ min: 1, max: 255 }), async (at, mask) => {
        const s = sig.slice();
        const k = id.publicKey.slice();
        if (at < 64) s[at] = (s[at] as number) ^ mask;
        else if (at < 96) k[at - 64] = (k[at - 64] as number) ^ mask;
        const m =
          at >= 96 ? new Uint8Array([...msg.subarray(0, at - 96), ((msg[at - 96] ?? 0) as number) ^ mask, ...msg.subarray(at - 95)]) : msg;
        expect(await sameVerdict(s, m, k)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
