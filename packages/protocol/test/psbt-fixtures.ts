/**
 * Real Taproot spends for tests (regtest-style): a made-up funding transaction pays a key's
 * Taproot output, and a PSBT spends those coins to the outputs a test names. Shared by the
 * protocol, party-node and multi-process tests so they all sign the same kind of transaction.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { base64, bech32, bech32m } from '@scure/base';
import { OutScript, Transaction } from '@scure/btc-signer';
import { type BitcoinPsbtIntent, fromHex, parseIntent, taprootOutputScript } from '../src/index.js';

/** An output: its script and amount (satoshis). */
export interface TxOut {
  script: Uint8Array;
  amount: bigint;
}

/** A P2WPKH output of someone else's, with its regtest address (`bcrt1q…`). */
export function p2wpkhDestination(seed: number): { script: Uint8Array; address: string } {
  const hash = sha256(Uint8Array.of(seed)).subarray(0, 20);
  return { script: OutScript.encode({ type: 'wpkh', hash }), address: bech32.encode('bcrt', [0, ...bech32.toWords(hash)]) };
}

/** A P2TR output of someone else's, with its regtest address (`bcrt1p…`). */
export function p2trDestination(xOnlyHex: string): { script: Uint8Array; address: string } {
  const key = fromHex(xOnlyHex);
  return { script: OutScript.encode({ type: 'tr', pubkey: key }), address: bech32m.encode('bcrt', [1, ...bech32m.toWords(key)]) };
}

/**
 * A PSBT spending `coins` (amounts, satoshis) that a funding transaction paid to `xOnlyKey`'s
 * Taproot output, to `outputs`; every input is listed for signing. `tag` makes the funding
 * transaction (and so every txid) unique.
 */
export function taprootSpend(
  xOnlyKey: Uint8Array,
  coins: readonly bigint[],
  outputs: readonly TxOut[],
  tag = 0,
): { intent: BitcoinPsbtIntent; prevouts: TxOut[] } {
  const ours = taprootOutputScript(xOnlyKey);
  const funding = new Transaction({ allowUnknownOutputs: true });
  funding.addInput({ txid: new Uint8Array(32).fill(0x11), index: tag });
  for (const amount of coins) funding.addOutput({ script: ours, amount });
  const fundingId = fromHex(funding.id);
  const prevouts = coins.map((amount) => ({ script: ours, amount }));
  const spend = new Transaction({ allowUnknownOutputs: true });
  // Outputs first: scure refuses to add outputs once an input is final.
  for (const o of outputs) spend.addOutput(o);
  prevouts.forEach((p, index) => {
    spend.addInput({ txid: fundingId, index, witnessUtxo: p });
  });
  const intent = parseIntent({ type: 'bitcoin-psbt', psbt: base64.encode(spend.toPSBT()), inputs: coins.map((_, i) => i) });
  return { intent: intent as BitcoinPsbtIntent, prevouts };
}
