/** zod schemas for the values that appear on the wire: hex, party ids, suites, thresholds. */
import { z } from 'zod';
import { SUITE_IDS } from '../suites.js';

/** Lowercase, even-length hex. */
export const hexSchema = z.string().regex(/^(?:[0-9a-f]{2})*$/, 'expected lowercase even-length hex');
/** Non-empty lowercase hex. */
export const nonEmptyHexSchema = hexSchema.min(2, 'expected at least one byte of hex');

/**
 * A party's name. It is also the input of `Identifier.derive`, so it is restricted to a small,
 * unambiguous alphabet: no case folding or Unicode normalisation can map two names to one.
 */
export const partyIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'party id: 1-63 chars of a-z 0-9 . _ -, starting with a letter or digit');
export type PartyId = z.infer<typeof partyIdSchema>;

/** The coordinator's name on the wire. No party may take it. */
export const COORDINATOR = 'coordinator';
/**
 * The session id of an offline party's preprocessed commitments (docs/offline.md): not a session
 * the coordinator opened, a standing offer it stores and draws from.
 */
export const OFFLINE_PREPROCESS_SESSION = 'offline-preprocess';
/** Envelope address for "every member of the session". */
export const BROADCAST = '*';

/** An envelope endpoint: a party, the coordinator, or broadcast (recipient only). */
export const endpointSchema = z.union([partyIdSchema, z.literal(BROADCAST)]);

export const suiteIdSchema = z.enum(SUITE_IDS);

/** Session and request identifiers: opaque, URL-safe, bounded. */
export const sessionIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'session id: 1-128 chars of A-Z a-z 0-9 _ -');

/** Committee sizes Glacis accepts: 2 ≤ t ≤ n ≤ 255. */
export const MAX_PARTIES = 255;
