/**
 * A `bitcoin-psbt` intent as a party reads it (with @scure/btc-signer): which inputs it signs and
 * the BIP-341 key-path sighash of each, computed here from the PSBT, and where the money goes.
 *
 * Checks, in order, each with its own code:
 *   1. the PSBT decodes                                                       psbt_invalid
 *   2. the transaction has outputs; each listed input exists                  psbt_invalid / psbt_input_out_of_range
 *   3. every input states the output it spends (amount and script): BIP-341's
 *      SIGHASH_DEFAULT commits to all of them; listed inputs by witness UTXO   psbt_missing_witness_utxo
 *   4. each listed input spends this key's Taproot output, OP_1 <x-only key>  psbt_input_not_ours
 *   5. each listed input asks for SIGHASH_DEFAULT (or states none)            psbt_unsupported_sighash
 *   6. no listed input is finalized already                                   psbt_input_finalized
 *   7. amounts are within 21 M BTC and outputs do not exceed inputs           psbt_amounts_invalid
 *
 * SECURITY: because the sighash commits to every input's amount and script (BIP-341), a PSBT that
 * lies about any input's amount only yields signatures the network rejects; the amounts and fee
 * read here are therefore the ones the signature is actually bound to.
 */

import { base64 } from '@scure/base';
import { Address, NETWORK, OutScript, SigHash, TEST_NETWORK, Transaction } from '@scure/btc-signer';
import { getPrevOut } from '@scure/btc-signer/transaction.js';
import { concatBytes, equalBytes, toHex } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import type { BitcoinPsbtIntent } from './schema.js';

export const BITCOIN_NETWORKS = ['bitcoin', 'testnet', 'signet', 'regtest'] as const;
/** The chain a party renders addresses for (party configuration, never the request's word). */
export type BitcoinNetwork = (typeof BITCOIN_NETWORKS)[number];

const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const ADDRESS_FORMATS = { bitcoin: NETWORK, testnet: TEST_NETWORK, signet: TEST_NETWORK, regtest: REGTEST } as const;

/** 21 million BTC in satoshis: no amount on the chain can exceed it. */
export const MAX_MONEY = 21_000_000n * 100_000_000n;

/** One input this party is asked to sign. */
export interface PsbtInputToSign {
  index: number;
  /** Satoshis the input spends. */
  amount: bigint;
  /** BIP-341 key-path signature hash (SIGHASH_DEFAULT): the 32-byte message the key signs. */
  sighash: Uint8Array;
}

/** One output of the transaction. */
export interface PsbtOutput {
  index: number;
  /** Address on the party's network; null for a script with no address form (OP_RETURN, bare). */
  address: string | null;
  /** scriptPubKey, hex. */
  script: string;
  amount: bigint;
  /** Pays back to this key's own output script. */
  change: boolean;
}

/** What a party computed from a PSBT. */
export interface ParsedBitcoinPsbt {
  network: BitcoinNetwork;
  /** Transaction id (display byte order), fixed by the unsigned transaction. */
  txid: string;
  inputs: PsbtInputToSign[];
  outputs: PsbtOutput[];
  totalIn: bigint;
  totalOut: bigint;
  fee: bigint;
}

/** The Taproot output script of an x-only key: OP_1 OP_PUSHBYTES_32 <key>. */
export function taprootOutputScript(xOnlyKey: Uint8Array): Uint8Array {
  if (xOnlyKey.length !== 32) throw new ProtocolError('wrong_suite', 'taproot output key: expected a 32-byte x-only key');
  return concatBytes(Uint8Array.of(0x51, 0x20), xOnlyKey);
}

/** Decodes the PSBT of an intent into scure's Transaction (scure's errors become psbt_invalid). */
export function decodePsbt(intent: BitcoinPsbtIntent): Transaction {
  try {
    // Unknown output scripts (OP_RETURN, future versions) are the policy's business, not a parse error.
    return Transaction.fromPSBT(base64.decode(intent.psbt), { allowUnknownOutputs: true });
  } catch (e) {
    throw new ProtocolError('psbt_invalid', `psbt: ${e instanceof Error ? e.message : 'does not decode'}`, [], { cause: e });
  }
}

function prevOutOf(tx: Transaction, i: number): { script: Uint8Array; amount: bigint } {
  try {
    return getPrevOut(tx.getInput(i));
  } catch (e) {
    throw new ProtocolError('psbt_missing_witness_utxo', `psbt input ${i}: states no witness UTXO or previous transaction`, [], {
      cause: e,
    });
  }
}

/**
 * The output's address, or null when it has none: unknown scripts (OP_RETURN) and recognised
 * ones without an address form (bare multisig, P2PK). Null is on no allowlist and no denylist,
 * so a script this cannot render can only make a policy stricter.
 */
function addressOf(script: Uint8Array, network: BitcoinNetwork): string | null {
  try {
    const decoded = OutScript.decode(script);
    return decoded.type === 'unknown' ? null : Address(ADDRESS_FORMATS[network]).encode(decoded);
  } catch {
    return null;
  }
}

/** Reads a `bitcoin-psbt` intent for the key `xOnlyKey` (its 32-byte `publicKey`) on `network`. */
export function parseBitcoinPsbt(intent: BitcoinPsbtIntent, xOnlyKey: Uint8Array, network: BitcoinNetwork): ParsedBitcoinPsbt {
  const ours = taprootOutputScript(xOnlyKey);
  const tx = decodePsbt(intent);
  if (tx.outputsLength === 0) throw new ProtocolError('psbt_invalid', 'psbt: the transaction has no outputs');
  for (const i of intent.inputs) {
    if (i >= tx.inputsLength) {
      throw new ProtocolError('psbt_input_out_of_range', `psbt input ${i}: the transaction has ${tx.inputsLength} input(s)`);
    }
  }
  const listed = new Set(intent.inputs);
  const prevOuts = Array.from({ length: tx.inputsLength }, (_, i) => {
    if (listed.has(i) && tx.getInput(i).witnessUtxo === undefined) {
      throw new ProtocolError('psbt_missing_witness_utxo', `psbt input ${i}: no witness UTXO (a Taproot input must state it)`);
    }
    return prevOutOf(tx, i);
  });
  for (const i of intent.inputs) {
    const input = tx.getInput(i);
    if (!equalBytes((prevOuts[i] as { script: Uint8Array }).script, ours)) {
      throw new ProtocolError('psbt_input_not_ours', `psbt input ${i}: does not spend this key's Taproot output (OP_1 <key>)`);
    }
    if (input.sighashType !== undefined && input.sighashType !== SigHash.DEFAULT) {
      throw new ProtocolError(
        'psbt_unsupported_sighash',
        `psbt input ${i}: sighash type ${input.sighashType}; only SIGHASH_DEFAULT (0) is signed`,
      );
    }
    if ((input.finalScriptWitness?.length ?? 0) > 0 || (input.finalScriptSig?.length ?? 0) > 0) {
      throw new ProtocolError('psbt_input_finalized', `psbt input ${i}: already finalized`);
    }
  }
  const outputs: PsbtOutput[] = [];
  for (let i = 0; i < tx.outputsLength; i++) {
    const o = tx.getOutput(i);
    if (o.script === undefined || o.amount === undefined) throw new ProtocolError('psbt_invalid', `psbt output ${i}: no script or amount`);
    outputs.push({
      index: i,
      address: addressOf(o.script, network),
      script: toHex(o.script),
      amount: o.amount,
      change: equalBytes(o.script, ours),
    });
  }
  const totalIn = sumWithinMoney(
    prevOuts.map((p) => p.amount),
    'inputs',
  );
  const totalOut = sumWithinMoney(
    outputs.map((o) => o.amount),
    'outputs',
  );
  if (totalOut > totalIn) throw new ProtocolError('psbt_amounts_invalid', `psbt: outputs (${totalOut}) exceed inputs (${totalIn})`);
  const scripts = prevOuts.map((p) => p.script);
  const amounts = prevOuts.map((p) => p.amount);
  const inputs = intent.inputs.map((index) => ({
    index,
    amount: amounts[index] as bigint,
    // BIP-341 SigMsg(hash_type 0x00, ext_flag 0) for a key-path spend: commits to every input's
    // outpoint, amount, script and sequence, and to every output.
    sighash: tx.preimageWitnessV1(index, scripts, SigHash.DEFAULT, amounts),
  }));
  return { network, txid: tx.id, inputs, outputs, totalIn, totalOut, fee: totalIn - totalOut };
}

function sumWithinMoney(values: readonly bigint[], what: string): bigint {
  let total = 0n;
  for (const v of values) {
    if (v < 0n || v > MAX_MONEY) throw new ProtocolError('psbt_amounts_invalid', `psbt ${what}: amount ${v} outside 0..21e14 sat`);
    total += v;
  }
  if (total > MAX_MONEY) throw new ProtocolError('psbt_amounts_invalid', `psbt ${what}: total ${total} exceeds 21e14 sat`);
  return total;
}

/** A PSBT reading as plain JSON (amounts as decimal strings, bytes as hex): what approvers and logs show. */
export interface BitcoinPsbtSummary {
  network: BitcoinNetwork;
  txid: string;
  inputs: { index: number; amount: string; sighash: string }[];
  outputs: { index: number; address: string | null; script: string; amount: string; change: boolean }[];
  totalIn: string;
  totalOut: string;
  fee: string;
}

/** The JSON form of a parsed PSBT. */
export function summarizeBitcoinPsbt(p: ParsedBitcoinPsbt): BitcoinPsbtSummary {
  return {
    network: p.network,
    txid: p.txid,
    inputs: p.inputs.map((i) => ({ index: i.index, amount: i.amount.toString(), sighash: toHex(i.sighash) })),
    outputs: p.outputs.map((o) => ({ ...o, amount: o.amount.toString() })),
    totalIn: p.totalIn.toString(),
    totalOut: p.totalOut.toString(),
    fee: p.fee.toString(),
  };
}
