/**
 * Typed intents: what a signing request asks a party to sign, in a form the party can read.
 *
 *   {"type":"raw","message":hex}                               today's behaviour: opaque bytes
 *   {"type":"bitcoin-psbt","psbt":base64,"inputs":[n, …]}       a PSBT; sign the listed inputs
 *
 * Every intent has exactly one accepted spelling (lowercase hex, canonical padded base64, input
 * indexes strictly ascending), so the canonical intent an approver signs and the one a party
 * checks cannot differ by re-encoding.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { base64 } from '@scure/base';
import { z } from 'zod';
import { type Canonical, canonicalBytes } from '../canonical.js';
import { ProtocolError } from '../errors.js';
import { nonEmptyHexSchema } from '../wire/primitives.js';

export const INTENT_TYPES = ['raw', 'bitcoin-psbt'] as const;
export type IntentType = (typeof INTENT_TYPES)[number];

/** Ceilings: a raw message of 1 MiB, a PSBT of 1 MiB, 1000 inputs to sign in one request. */
export const INTENT_LIMITS = Object.freeze({ rawMessageBytes: 1 << 20, psbtBytes: 1 << 20, psbtInputs: 1000 });

function isCanonicalBase64(s: string): boolean {
  try {
    return base64.encode(base64.decode(s)) === s;
  } catch {
    return false;
  }
}

const rawIntentSchema = z.strictObject({
  type: z.literal('raw'),
  message: nonEmptyHexSchema.max(2 * INTENT_LIMITS.rawMessageBytes, `message: at most ${INTENT_LIMITS.rawMessageBytes} bytes`),
});

const bitcoinPsbtIntentSchema = z.strictObject({
  type: z.literal('bitcoin-psbt'),
  psbt: z
    .string()
    .min(4)
    .max(4 * Math.ceil(INTENT_LIMITS.psbtBytes / 3), `psbt: at most ${INTENT_LIMITS.psbtBytes} bytes`)
    .refine(isCanonicalBase64, 'psbt: not canonical base64 (standard alphabet, padded)'),
  inputs: z
    .array(z.number().int().min(0).max(0xffff))
    .min(1, 'inputs: list at least one input to sign')
    .max(INTENT_LIMITS.psbtInputs)
    .refine((xs) => xs.every((x, i) => i === 0 || x > (xs[i - 1] as number)), 'inputs: strictly ascending, no repeats'),
});

/** An intent as it travels in a request body and in a signing package. */
export const intentSchema = z.discriminatedUnion('type', [rawIntentSchema, bitcoinPsbtIntentSchema]);
export type Intent = z.infer<typeof intentSchema>;
export type RawIntent = z.infer<typeof rawIntentSchema>;
export type BitcoinPsbtIntent = z.infer<typeof bitcoinPsbtIntentSchema>;

/** Parses an intent from the wire; `intent_invalid` names the field at fault. */
export function parseIntent(raw: unknown): Intent {
  const r = intentSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue?.path.map(String).join('.') ?? '';
    throw new ProtocolError('intent_invalid', `intent${path === '' ? '' : `.${path}`}: ${issue?.message ?? 'malformed'}`);
  }
  return r.data;
}

/** The intent of a legacy request that carries only `message` (hex). */
export function rawIntent(messageHex: string): RawIntent {
  return parseIntent({ type: 'raw', message: messageHex }) as RawIntent;
}

/**
 * The canonical form of an intent: a fresh plain object with exactly the fields of its type, in
 * the one spelling the schema accepts. This object is what an approval binds.
 */
export function canonicalIntent(intent: Intent): Canonical {
  switch (intent.type) {
    case 'raw':
      return { type: 'raw', message: intent.message };
    case 'bitcoin-psbt':
      return { type: 'bitcoin-psbt', psbt: intent.psbt, inputs: [...intent.inputs] };
    default: {
      const never: never = intent;
      throw new ProtocolError('intent_invalid', `unknown intent type ${String((never as { type: unknown }).type)}`);
    }
  }
}

/**
 * What an approval binds for this intent: the value to place under `intent` in the approval
 * digest's canonical JSON (`{keyId, intent, context, policyVersion, nonce, expiresAt}`). For a
 * PSBT that is the PSBT exactly as submitted (not a re-serialisation) and the inputs to sign, so
 * an approval of one PSBT can never be spent on another.
 */
export function intentDigestInput(intent: Intent): Canonical {
  return canonicalIntent(intent);
}

/** SHA-256 of the canonical intent under its own domain: a short, stable name for logs and UIs. */
export function intentDigest(intent: Intent): Uint8Array {
  return sha256(canonicalBytes('glacis/intent/v1', canonicalIntent(intent)));
}
