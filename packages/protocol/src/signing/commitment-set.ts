/**
 * A signer's part in one session, per message. An intent may yield several messages (a PSBT with
 * k listed inputs: one BIP-341 sighash each); they are signed in one session, each message with
 * its own nonce, so on the wire a signer's commitments, shares and next commitments are a list:
 * the first message's in the usual fields, the following ones in `more` (absent for one message).
 * These helpers convert between the two forms, in this one place.
 */
import { ProtocolError } from '../errors.js';
import type { CommitmentSetWire, NonceCommitmentWire } from '../wire/messages.js';

/** The commitments of a set, one per message, in message order. */
export function commitmentsOf(set: CommitmentSetWire): NonceCommitmentWire[] {
  return [{ hiding: set.hiding, binding: set.binding }, ...(set.more ?? []).map((c) => ({ hiding: c.hiding, binding: c.binding }))];
}

/** The wire form of one commitment per message (at least one). */
export function commitmentSet(list: readonly NonceCommitmentWire[]): CommitmentSetWire {
  const [first, ...rest] = list;
  if (first === undefined) throw new ProtocolError('commitment_count_mismatch', 'a commitment set holds at least one commitment');
  const set: CommitmentSetWire = { hiding: first.hiding, binding: first.binding };
  if (rest.length > 0) set.more = rest.map((c) => ({ hiding: c.hiding, binding: c.binding }));
  return set;
}

/** The shares of a `signature_share` body, one per message, in message order. */
export function sharesOf(body: { share: string; more?: readonly string[] | undefined }): string[] {
  return [body.share, ...(body.more ?? [])];
}

/** The `share` / `more` fields for one share per message (at least one). */
export function shareFields(shares: readonly string[]): { share: string; more?: string[] } {
  const [first, ...rest] = shares;
  if (first === undefined) throw new ProtocolError('commitment_count_mismatch', 'a signature share message holds at least one share');
  return rest.length > 0 ? { share: first, more: rest } : { share: first };
}
