/**
 * What an approver signs, the browser's copy of `packages/protocol/src/signing/approval-digest.ts`
 * (docs/api.md gives the bytes): SHA-256 of `glacis/approval/v1` ‖ 0x00 ‖ canonical JSON of
 * {context, expiresAt, intent, keyId, nonce, policyVersion}, the intent in its canonical form (the
 * fields of its type and nothing else). The intent's short name for people, `intentDigest`, is
 * SHA-256 of `glacis/intent/v1` ‖ 0x00 ‖ the canonical intent. `test/approval-digest.test.ts`
 * holds both byte for byte against the protocol on generated requests.
 */
import type { Intent } from './api-types.js';
import { canonicalBytes } from './canonical.js';
import { type Subtle, sha256 } from './ed25519.js';
import { ConsoleError } from './errors.js';

/** Everything an approval binds. */
export interface ApprovalTerms {
  keyId: string;
  intent: Intent;
  /** The request's context as the coordinator serves it, or null. */
  context: unknown;
  policyVersion: number;
  /** Hex, 16–32 bytes, fresh for each approval. */
  nonce: string;
  /** RFC 3339, exactly as it is sent. */
  expiresAt: string;
}

/** The intent types an approval can be made for: the ones the protocol's schema knows. */
export type KnownIntent = { type: 'raw'; message: string } | { type: 'bitcoin-psbt'; psbt: string; inputs: number[] };

/**
 * The canonical form of an intent: exactly the fields of its type (the protocol's
 * `canonicalIntent`). An intent of a type the console does not know is refused (`invalid_intent`):
 * nobody should approve what the page cannot show.
 */
export function canonicalIntent(intent: Intent): KnownIntent {
  switch (intent.type) {
    case 'raw':
      if (typeof intent.message !== 'string') break;
      return { type: 'raw', message: intent.message };
    case 'bitcoin-psbt': {
      const { psbt, inputs } = intent;
      if (typeof psbt !== 'string' || !Array.isArray(inputs) || !inputs.every((i) => Number.isSafeInteger(i))) break;
      return { type: 'bitcoin-psbt', psbt, inputs: [...(inputs as number[])] };
    }
  }
  throw new ConsoleError('invalid_intent', `an intent of type "${intent.type}" that this console cannot read`);
}

/** The 32 bytes an approval signs. */
export async function approvalDigest(subtle: Subtle, t: ApprovalTerms): Promise<Uint8Array> {
  return sha256(
    subtle,
    canonicalBytes('glacis/approval/v1', {
      keyId: t.keyId,
      intent: canonicalIntent(t.intent),
      context: t.context ?? null,
      policyVersion: t.policyVersion,
      nonce: t.nonce,
      expiresAt: t.expiresAt,
    }),
  );
}

/** The intent's digest: what `glacis signatures approve --intent-digest` pins. */
export async function intentDigest(subtle: Subtle, intent: Intent): Promise<Uint8Array> {
  return sha256(subtle, canonicalBytes('glacis/intent/v1', canonicalIntent(intent)));
}
