/**
 * The desk's trust file: the identity key of every party it trusts, pinned out of band (from each
 * party operator's `glacis-party identity` output, read over the phone or on paper), never taken
 * from the coordinator. The format (docs/api.md "Verifying a key"):
 *
 *   {"parties": {"party-1": "<Ed25519 public key, 64 hex chars>", …},
 *    "retired": {"party-2": ["<an identity key party-2 held before it was re-created>", …]}}
 *
 * `retired` is optional: identity keys a party held before its operator re-created it (a lost
 * disk). They still check what the party signed then (its DKG confirmation, say), never what it
 * signs now: the party's latest signature in a key's history must be under its current key.
 */
import { hexSchema, partyIdSchema } from '@glacis/protocol';
import { z } from 'zod';
import { ClientError } from './errors.js';

/** The trust file's schema; unknown fields are refused so a typo cannot pass unnoticed. */
const identityKey = hexSchema.length(64, 'expected an Ed25519 public key: 64 lowercase hex characters');
export const trustFileSchema = z.strictObject({
  parties: z.record(partyIdSchema, identityKey).refine((p) => Object.keys(p).length > 0, 'no party pinned'),
  retired: z.record(partyIdSchema, z.array(identityKey).max(64)).optional(),
});
/** A parsed trust file. */
export type TrustFile = z.output<typeof trustFileSchema>;

/** Parses the text of a trust file; `source` names it in errors. Throws `invalid_trust_file`. */
export function parseTrustFile(text: string, source: string): TrustFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ClientError('invalid_trust_file', `${source}: not JSON`);
  }
  const parsed = trustFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ClientError('invalid_trust_file', `${source}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}
