/**
 * From an intent to what a party signs and the facts its policy reads. This is the only producer
 * of `PolicyFacts`: everything comes from the intent, parsed here, and from the party's own record
 * of the key — nothing from the coordinator's metadata (invariant 7).
 */
import { fromHex } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import type { PolicyFacts } from '../policy/facts.js';
import type { SuiteId } from '../suites.js';
import { type BitcoinNetwork, type ParsedBitcoinPsbt, parseBitcoinPsbt } from './bitcoin-psbt.js';
import type { Intent } from './schema.js';

/** The party's own record of the key a request names. */
export interface IntentKey {
  keyId: string;
  suite: SuiteId;
  /** The key's public key in its suite's encoding (x-only, 32 bytes, for secp256k1-tr). */
  publicKey: Uint8Array;
  /** The label this party holds for the key, null when none. */
  label: string | null;
}

export interface IntentOptions {
  /** The chain this party renders Bitcoin addresses for (its configuration). */
  bitcoinNetwork: BitcoinNetwork;
}

/** An intent as the party understood it. */
export type InterpretedIntent =
  | { type: 'raw'; messages: [Uint8Array]; facts: PolicyFacts }
  | {
      type: 'bitcoin-psbt';
      /** One message per listed input, in `inputs` order: each input's BIP-341 sighash. */
      messages: Uint8Array[];
      facts: PolicyFacts;
      psbt: ParsedBitcoinPsbt;
    };

/** Parses `intent` for `key`: the messages to sign and the policy facts. */
export function interpretIntent(intent: Intent, key: IntentKey, opts: IntentOptions): InterpretedIntent {
  const base = { keyId: key.keyId, keyLabel: key.label };
  switch (intent.type) {
    case 'raw':
      return { type: 'raw', messages: [fromHex(intent.message, 'intent.message')], facts: { ...base, intentType: 'raw' } };
    case 'bitcoin-psbt': {
      if (key.suite !== 'secp256k1-tr') {
        throw new ProtocolError('intent_wrong_suite', `a bitcoin-psbt intent needs a secp256k1-tr key; ${key.keyId} is ${key.suite}`);
      }
      const psbt = parseBitcoinPsbt(intent, key.publicKey, opts.bitcoinNetwork);
      const destinations = psbt.outputs.filter((o) => !o.change).map((o) => ({ address: o.address, amount: o.amount }));
      const facts: PolicyFacts = {
        ...base,
        intentType: 'bitcoin-psbt',
        destinations,
        amount: destinations.reduce((sum, d) => sum + d.amount, 0n),
        fee: psbt.fee,
      };
      return { type: 'bitcoin-psbt', messages: psbt.inputs.map((i) => i.sighash), facts, psbt };
    }
    default: {
      const never: never = intent;
      throw new ProtocolError('intent_invalid', `unknown intent type ${String((never as { type: unknown }).type)}`);
    }
  }
}

/**
 * The messages `intent` asks `key` to sign (one per listed PSBT input, else the raw bytes): what
 * the coordinator aggregates against. They do not depend on the Bitcoin network (only addresses
 * do), so no network is needed; a party derives the same ones with `interpretIntent`.
 */
export function signingMessages(intent: Intent, key: Omit<IntentKey, 'label'>): Uint8Array[] {
  return interpretIntent(intent, { ...key, label: null }, { bitcoinNetwork: 'bitcoin' }).messages;
}
