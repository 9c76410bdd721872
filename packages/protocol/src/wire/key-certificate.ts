/**
 * A key's DKG success certificate as the coordinator publishes it to desks (`Key.certificate` in
 * the REST API): every committee member's signed `dkg_confirm` envelope, unchanged, each beside
 * the member's id and the identity key the coordinator has pinned for it. Only the envelopes prove
 * anything; `identityKey` is the coordinator's word, which a desk compares with the keys it pinned
 * itself before it trusts the key (`glacis keys verify`, docs/api.md "Verifying a key").
 */
import { z } from 'zod';
import { type Envelope, envelopeSchema } from './messages.js';
import { hexSchema, MAX_PARTIES } from './primitives.js';

/** One member's confirmation: its signed envelope, flattened, plus `partyId` and `identityKey`. */
export const certificateConfirmationSchema = z.object({
  partyId: z.string().max(64).describe("the confirming party (the envelope's `from`)"),
  identityKey: hexSchema
    .length(64)
    .nullable()
    .describe("the party's Ed25519 identity key as the coordinator pins it now; null if it no longer does"),
  ...envelopeSchema.shape,
});
/** One member's confirmation as published. */
export type CertificateConfirmation = z.infer<typeof certificateConfirmationSchema>;

/** `Key.certificate`: the confirmations of every committee member. */
export const keyCertificateSchema = z.object({ confirmations: z.array(certificateConfirmationSchema).max(MAX_PARTIES) });
/** A key's certificate as published. */
export type KeyCertificate = z.infer<typeof keyCertificateSchema>;

/** Publishes stored confirmation envelopes, naming each member's pinned identity key (hex). */
export function publishCertificate(envelopes: readonly Envelope[], identityKeyOf: (partyId: string) => string | undefined): KeyCertificate {
  return { confirmations: envelopes.map((env) => ({ partyId: env.from, identityKey: identityKeyOf(env.from) ?? null, ...env })) };
}

/** The signed envelopes of a published certificate, exactly the fields their signatures cover and the signature. */
export function certificateEnvelopes(cert: KeyCertificate): Envelope[] {
  return cert.confirmations.map(({ v, type, sessionId, from, to, seq, body, signature }) => ({
    v,
    type,
    sessionId,
    from,
    to,
    seq,
    body,
    signature,
  }));
}
