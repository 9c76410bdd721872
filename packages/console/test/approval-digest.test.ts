/**
 * The browser's approval digest against the protocol's (`approvalDigest`, what every party and the
 * coordinator recompute), byte for byte, on generated requests: raw and PSBT intents, contexts of
 * unicode keys and strings and safe integers at their limits, nonces, expiries and policy versions;
 * and the intent digest against `intentDigest`. An intent of a type the console cannot read is
 * refused, never signed over in some other form.
 */
import { approvalDigest as protocolDigest, intentDigest as protocolIntentDigest, toHex } from '@glacis/protocol';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { approvalDigest, intentDigest } from '../src/approval-digest.js';
import { isConsoleError } from '../src/errors.js';

const subtle = globalThis.crypto.subtle;
const runs = Number(process.env.GLACIS_FUZZ_RUNS ?? 1000);

const hex = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('hex'));
const base64 = fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => Buffer.from(b).toString('base64'));
const intent = fc.oneof(
  fc.record({ type: fc.constant('raw' as const), message: hex(1, 64) }),
  fc.record({
    type: fc.constant('bitcoin-psbt' as const),
    psbt: base64,
    inputs: fc.uniqueArray(fc.nat(0xffff), { minLength: 1, maxLength: 6 }).map((xs) => xs.sort((a, b) => a - b)),
  }),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.string({ unit: 'grapheme' }),
    fc.maxSafeInteger(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;
const terms = fc.record({
  keyId: fc.string({ minLength: 1, maxLength: 40 }),
  intent,
  context: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 5 }), { nil: null }),
  policyVersion: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  nonce: hex(16, 32),
  expiresAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
});

describe('the approval digest in the browser', () => {
  test('is byte for byte the protocol’s on generated requests', async () => {
    await fc.assert(
      fc.asyncProperty(terms, async (t) => {
        // As the browser receives the request: JSON text, parsed.
        const received = JSON.parse(JSON.stringify(t));
        expect(toHex(await approvalDigest(subtle, received))).toBe(toHex(protocolDigest(t)));
        expect(toHex(await intentDigest(subtle, received.intent))).toBe(toHex(protocolIntentDigest(t.intent)));
      }),
      { numRuns: runs },
    );
  });

  test('binds only the fields of the intent’s type, as the protocol does: extra fields change nothing', async () => {
    const t = {
      keyId: 'k1',
      intent: { type: 'raw' as const, message: 'ab' },
      context: null,
      policyVersion: 2,
      nonce: '00'.repeat(16),
      expiresAt: '2026-01-01T00:00:00.000Z',
    };
    const padded = { ...t, intent: { ...t.intent, note: 'shown nowhere' } };
    expect(toHex(await approvalDigest(subtle, padded))).toBe(toHex(protocolDigest(t)));
  });

  test('refuses an intent of a type it cannot read, or with a field of the wrong kind', async () => {
    const base = { keyId: 'k1', context: null, policyVersion: 1, nonce: '00'.repeat(16), expiresAt: '2026-01-01T00:00:00.000Z' };
    for (const bad of [
      { type: 'ethereum-tx', tx: '00' },
      { type: 'raw', message: 5 },
      { type: 'bitcoin-psbt', psbt: 'AA==', inputs: [0.5] },
    ]) {
      await expect(approvalDigest(subtle, { ...base, intent: bad })).rejects.toSatisfy((e) => isConsoleError(e, 'invalid_intent'));
    }
  });
});
