/**
 * What a request asks to sign, read in the browser from its intent and the key's public key — the
 * console's copy of the client's `intent-view.ts`. A PSBT is read with the parties' own reader
 * (protocol `intent/bitcoin-psbt.ts`, served as vendor/psbt.js): the inputs this key signs, every
 * output with its address on the network the user chose (never the coordinator's word), the fee
 * and the txid. An intent this key cannot sign is refused with the protocol's code, as each party
 * would refuse it: an approver must not approve that.
 */

import type { BitcoinNetwork, BitcoinPsbtSummary } from '../vendor/psbt.js';
import type { Intent } from './api-types.js';
import { canonicalIntent, intentDigest } from './approval-digest.js';
import type { Subtle } from './ed25519.js';
import { ConsoleError } from './errors.js';
import { fromHex, toHex } from './hex.js';

export type { BitcoinNetwork, BitcoinPsbtSummary };
export const BITCOIN_NETWORKS: readonly BitcoinNetwork[] = ['bitcoin', 'testnet', 'signet', 'regtest'];

/** The key a request names, as the coordinator serves it (its certificate is checked separately). */
export interface ViewKey {
  keyId: string;
  suite: string;
  publicKey: string;
}

/** The browser's reading of an intent. */
export type IntentView =
  | { type: 'raw'; intentDigest: string; bytes: number; message: string }
  | { type: 'bitcoin-psbt'; intentDigest: string; psbt: BitcoinPsbtSummary };

/**
 * Reads `intent` for `key` on `network`. Throws `invalid_intent` with the protocol's code
 * (`psbt_input_not_ours`, `intent_wrong_suite`, …) when the key cannot sign it.
 */
export async function viewIntent(subtle: Subtle, intent: Intent, key: ViewKey, network: BitcoinNetwork): Promise<IntentView> {
  const canonical = canonicalIntent(intent);
  const digest = toHex(await intentDigest(subtle, canonical));
  if (canonical.type === 'raw') {
    const bytes = fromHex(canonical.message, 'intent.message');
    return { type: 'raw', intentDigest: digest, bytes: bytes.length, message: canonical.message };
  }
  if (key.suite !== 'secp256k1-tr') {
    throw new ConsoleError(
      'invalid_intent',
      `intent_wrong_suite: a bitcoin-psbt intent needs a secp256k1-tr key; ${key.keyId} is ${key.suite}`,
    );
  }
  const { parseBitcoinPsbt, summarizeBitcoinPsbt, isProtocolError } = await import('../vendor/psbt.js');
  try {
    return {
      type: 'bitcoin-psbt',
      intentDigest: digest,
      psbt: summarizeBitcoinPsbt(parseBitcoinPsbt(canonical, fromHex(key.publicKey, 'publicKey'), network)),
    };
  } catch (e) {
    if (isProtocolError(e)) throw new ConsoleError('invalid_intent', `${e.code}: ${e.message}`);
    throw e;
  }
}

/** Satoshis as bitcoin, `0.00070000 BTC`, without floating point. */
export function btc(sats: string): string {
  const padded = sats.padStart(9, '0');
  return `${padded.slice(0, -8)}.${padded.slice(-8)} BTC`;
}
