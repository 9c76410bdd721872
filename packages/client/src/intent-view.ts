/**
 * What a signing request asks to sign, read on the desk's side from its intent and the key's
 * public key — never from the coordinator's description of it. For a PSBT: the inputs this key
 * signs, every output with its address on the desk's network, the fee and the txid, read with the
 * same code each party reads it with (protocol `interpretIntent`). An approver approves this.
 */
import {
  type BitcoinNetwork,
  type BitcoinPsbtSummary,
  fromHex,
  type Intent,
  intentDigest,
  interpretIntent,
  type SuiteId,
  summarizeBitcoinPsbt,
  toHex,
} from '@glacis/protocol';

/** The key a request names, as the desk holds it (ideally checked with `verifyKey` first). */
export interface ViewKey {
  keyId: string;
  suite: SuiteId;
  publicKey: string;
}

/** The desk's reading of an intent. */
export type IntentView =
  | { type: 'raw'; intentDigest: string; bytes: number; message: string }
  | { type: 'bitcoin-psbt'; intentDigest: string; psbt: BitcoinPsbtSummary };

/**
 * Reads `intent` for `key` on `network`. Throws the intent's ProtocolError (`psbt_input_not_ours`,
 * `intent_wrong_suite`, …) when the key cannot sign it: an approver must not approve that.
 */
export function viewIntent(intent: Intent, key: ViewKey, network: BitcoinNetwork): IntentView {
  const read = interpretIntent(intent, { ...key, publicKey: fromHex(key.publicKey), label: null }, { bitcoinNetwork: network });
  const digest = toHex(intentDigest(intent));
  if (read.type === 'bitcoin-psbt') return { type: 'bitcoin-psbt', intentDigest: digest, psbt: summarizeBitcoinPsbt(read.psbt) };
  return { type: 'raw', intentDigest: digest, bytes: read.messages[0].length, message: toHex(read.messages[0]) };
}
