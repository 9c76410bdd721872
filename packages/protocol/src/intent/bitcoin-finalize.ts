/**
 * The way back: the group's BIP-340 signatures for the listed inputs go into the PSBT as key-path
 * witnesses (a single 64-byte signature each: SIGHASH_DEFAULT adds no hash-type byte). When every
 * input of the transaction is then final, the network-ready transaction comes out too; a PSBT
 * that still has inputs of other owners stays a PSBT.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { base64 } from '@scure/base';
import { toHex } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import { type BitcoinNetwork, decodePsbt, parseBitcoinPsbt } from './bitcoin-psbt.js';
import type { BitcoinPsbtIntent } from './schema.js';

/** A PSBT with this key's inputs signed and finalized. */
export interface FinalizedPsbt {
  /** The updated PSBT, base64. */
  psbt: string;
  /** The signed transaction (hex, with witnesses) when every input is final, else null. */
  transactionHex: string | null;
  /** Transaction id (display byte order). */
  txid: string;
}

/**
 * Finalizes the listed inputs of `intent` with `signatures` (one per listed input, in the order
 * of `intent.inputs`). Each signature is checked against the sighash recomputed here first, so a
 * wrong or misplaced signature is `psbt_signature_invalid`, never a transaction the network rejects.
 */
export function finalizeBitcoinPsbt(
  intent: BitcoinPsbtIntent,
  xOnlyKey: Uint8Array,
  network: BitcoinNetwork,
  signatures: readonly Uint8Array[],
): FinalizedPsbt {
  const parsed = parseBitcoinPsbt(intent, xOnlyKey, network);
  if (signatures.length !== parsed.inputs.length) {
    throw new ProtocolError(
      'psbt_signature_invalid',
      `psbt: ${signatures.length} signature(s) for ${parsed.inputs.length} listed input(s)`,
    );
  }
  const tx = decodePsbt(intent);
  for (const [k, input] of parsed.inputs.entries()) {
    const sig = signatures[k] as Uint8Array;
    if (sig.length !== 64 || !schnorr.verify(sig, input.sighash, xOnlyKey)) {
      throw new ProtocolError(
        'psbt_signature_invalid',
        `psbt input ${input.index}: signature does not verify under the key for its sighash`,
      );
    }
    tx.updateInput(input.index, { tapKeySig: sig }, true);
    tx.finalizeIdx(input.index);
  }
  return { psbt: base64.encode(tx.toPSBT()), transactionHex: tx.isFinal ? toHex(tx.extract()) : null, txid: tx.id };
}
