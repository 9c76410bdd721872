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

const confirmationsSchema = z.array(certificateConfirmationSchema).max(MAX_PARTIES);

/** The operations that add a link to a key's lineage. */
export const LINEAGE_OPERATIONS = ['refresh', 'repair', 'reshare'] as const;
export type LineageOperation = (typeof LINEAGE_OPERATIONS)[number];

/**
 * One completed lifecycle operation, as it is linked to the key's history. Refresh and reshare:
 * every new holder's signed `lifecycle_confirm` (the successor's certificate, chained to the
 * generation before by its `predecessor` hash). Repair: the repaired party's signed
 * `repair_confirm` (a proof that it holds the share behind its certified verifying share, bound to
 * the session and to the generation it was repaired in).
 */
export const certificateLinkSchema = z.object({
  operation: z.enum(LINEAGE_OPERATIONS),
  sessionId: z.string().max(128),
  confirmations: confirmationsSchema,
});
/** One link as published. */
export type CertificateLink = z.infer<typeof certificateLinkSchema>;

/**
 * `Key.certificate`: the DKG's confirmations of every committee member, and the lineage of every
 * lifecycle operation since, oldest first. A desk checks the DKG certificate, then each link in
 * turn; the last successor certificate is the key's current committee, threshold and verifying
 * shares (`glacis keys verify`).
 */
export const keyCertificateSchema = z.object({
  confirmations: confirmationsSchema,
  lineage: z.array(certificateLinkSchema).max(100_000).optional().describe('lifecycle operations since the DKG, oldest first'),
});
/** A key's certificate as published. */
export type KeyCertificate = z.infer<typeof keyCertificateSchema>;

/** A link as the coordinator stores it: the signed envelopes only. */
export interface StoredLink {
  operation: LineageOperation;
  sessionId: string;
  confirmations: Envelope[];
}

/** Publishes stored confirmation envelopes (and links), naming each member's pinned identity key (hex). */
export function publishCertificate(
  envelopes: readonly Envelope[],
  identityKeyOf: (partyId: string) => string | undefined,
  lineage: readonly StoredLink[] = [],
): KeyCertificate {
  const publish = (list: readonly Envelope[]) =>
    list.map((env) => ({ partyId: env.from, identityKey: identityKeyOf(env.from) ?? null, ...env }));
  return {
    confirmations: publish(envelopes),
    lineage: lineage.map((l) => ({ operation: l.operation, sessionId: l.sessionId, confirmations: publish(l.confirmations) })),
  };
}

/**
 * The signed envelopes of a published certificate (or link), exactly the fields their signatures
 * cover and the signature.
 */
export function certificateEnvelopes(cert: { confirmations: readonly CertificateConfirmation[] }): Envelope[] {
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
