/** Types of vendor/psbt.js: the protocol's PSBT reader (packages/protocol/src/intent/bitcoin-psbt.ts). */

export type BitcoinNetwork = 'bitcoin' | 'testnet' | 'signet' | 'regtest';

/** What parseBitcoinPsbt returns; the console only summarises it. */
export interface ParsedBitcoinPsbt {
  readonly network: BitcoinNetwork;
  readonly txid: string;
}

/** A PSBT reading as plain JSON (amounts as decimal strings of satoshis, bytes as hex). */
export interface BitcoinPsbtSummary {
  network: BitcoinNetwork;
  txid: string;
  inputs: { index: number; amount: string; sighash: string }[];
  outputs: { index: number; address: string | null; script: string; amount: string; change: boolean }[];
  totalIn: string;
  totalOut: string;
  fee: string;
}

/** Throws the protocol's ProtocolError (psbt_invalid, psbt_input_not_ours, …) when the key cannot sign it. */
export declare function parseBitcoinPsbt(
  intent: { type: 'bitcoin-psbt'; psbt: string; inputs: readonly number[] },
  xOnlyKey: Uint8Array,
  network: BitcoinNetwork,
): ParsedBitcoinPsbt;
export declare function summarizeBitcoinPsbt(p: ParsedBitcoinPsbt): BitcoinPsbtSummary;
export declare function isProtocolError(e: unknown): e is Error & { readonly code: string };
