/**
 * The vendored modules (packages/console/vendor/*.js) are what scripts/console-vendor.mjs builds
 * from this tree, byte for byte, and they behave as the code they were built from: the PSBT
 * reading the console shows is the client's `viewIntent` (the parties' reader), for every network
 * and for a PSBT the key cannot sign; QR frames the console encodes are reassembled by
 * packages/airgap, and the other way round.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFrameAssembler as airgapAssembler, encodeBundleFrames as airgapEncode } from '@glacis/airgap';
import { toHex } from '@glacis/protocol';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, test } from 'vitest';
// @ts-expect-error plain ESM module without types
import { buildConsoleVendor, VENDOR_ENTRIES } from '../../../scripts/console-vendor.mjs';
import { viewIntent as clientView } from '../../client/src/intent-view.js';
import { p2trDestination, p2wpkhDestination, taprootSpend } from '../../protocol/test/psbt-fixtures.js';
import { isConsoleError } from '../src/errors.js';
import { BITCOIN_NETWORKS, viewIntent } from '../src/intent-view.js';
import { createFrameAssembler, encodeBundleFrames } from '../vendor/airgap.js';

const subtle = globalThis.crypto.subtle;

describe('the vendored modules', () => {
  test('are exactly what scripts/console-vendor.mjs builds from this tree', async () => {
    const out = join(tmpdir(), `glacis-console-vendor-${process.pid}`);
    try {
      await buildConsoleVendor(out);
      for (const name of VENDOR_ENTRIES as string[]) {
        const committed = readFileSync(new URL(`../vendor/${name}.js`, import.meta.url), 'utf8');
        expect(
          readFileSync(join(out, `${name}.js`), 'utf8') === committed,
          `vendor/${name}.js is stale: run node scripts/console-vendor.mjs`,
        ).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);

  test('read a PSBT exactly as the client and the parties do, on every network', async () => {
    const xOnly = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true).subarray(1);
    const key = { keyId: 'k1', suite: 'secp256k1-tr' as const, publicKey: toHex(xOnly) };
    const shop = p2wpkhDestination(21);
    const other = p2trDestination('79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
    const { intent } = taprootSpend(
      xOnly,
      [40_000n, 60_000n],
      [
        { script: shop.script, amount: 70_000n },
        { script: other.script, amount: 1_000n },
        { script: Uint8Array.of(0x51, 0x20, ...xOnly), amount: 25_000n },
        { script: Uint8Array.of(0x6a, 0x02, 0xca, 0xfe), amount: 0n },
      ],
      7,
    );
    for (const network of BITCOIN_NETWORKS) {
      const ours = await viewIntent(subtle, JSON.parse(JSON.stringify(intent)), key, network);
      expect(ours).toEqual(clientView(intent, key, network));
    }
    const view = await viewIntent(subtle, intent, key, 'regtest');
    expect(view.type === 'bitcoin-psbt' && view.psbt.outputs.map((o) => [o.address, o.amount, o.change])).toEqual([
      [shop.address, '70000', false],
      [other.address, '1000', false],
      [expect.stringMatching(/^bcrt1p/), '25000', true],
      [null, '0', false],
    ]);
    expect(view.type === 'bitcoin-psbt' && view.psbt.fee).toBe('4000');
  });

  test('refuse a PSBT the key cannot sign, with the parties’ code', async () => {
    const xOnly = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true).subarray(1);
    const stranger = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true).subarray(1);
    const { intent } = taprootSpend(stranger, [10_000n], [{ script: p2wpkhDestination(1).script, amount: 9_000n }]);
    const key = { keyId: 'k1', suite: 'secp256k1-tr', publicKey: toHex(xOnly) };
    expect(() => clientView(intent, { ...key, suite: 'secp256k1-tr' }, 'regtest')).toThrow(/does not spend this key/);
    await expect(viewIntent(subtle, intent, key, 'regtest')).rejects.toSatisfy(
      (e) => isConsoleError(e, 'invalid_intent') && e.message.startsWith('psbt_input_not_ours: '),
    );
    await expect(viewIntent(subtle, intent, { ...key, suite: 'ed25519' }, 'regtest')).rejects.toSatisfy(
      (e) => isConsoleError(e, 'invalid_intent') && e.message.startsWith('intent_wrong_suite: '),
    );
  });

  test('encode QR frames packages/airgap reassembles, and reassemble packages/airgap’s', () => {
    const bundle = new Uint8Array(3000).map((_, i) => (i * 31) % 251);
    for (const density of ['low', 'medium', 'high'] as const) {
      const frames = encodeBundleFrames(bundle, { density });
      expect(frames).toEqual(airgapEncode(bundle, { density }));
      const theirs = airgapAssembler();
      let done: Uint8Array | undefined;
      for (const f of frames.slice().reverse()) {
        const p = theirs.push(f);
        if (p.state === 'complete') done = p.bundle;
      }
      expect(done).toEqual(bundle);
      const ours = createFrameAssembler();
      for (const f of airgapEncode(bundle, { density })) ours.push(f);
      expect(ours.result()).toEqual(bundle);
    }
  });
});
