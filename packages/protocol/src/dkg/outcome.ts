/**
 * The closed set of codes that end a DKG. They travel on the wire (`dkg_abort.code`) and land in
 * the coordinator's store and API, so they are a closed union here, in the one package both sides
 * share; docs/errors.md explains each. (Signing refusals and blame: signing/outcome.ts.)
 */
import { PROTOCOL_ERROR_CODES } from '../errors.js';

/** Ways a DKG session ends without a key that are not a protocol error: the session's own conditions. */
export const DKG_SESSION_FAILURE_CODES = [
  'dkg_timeout',
  'party_disconnected',
  'parties_unavailable',
  'coordinator_restarted',
  // An offline party's operator was shown the key to be made and said no.
  'dkg_declined',
] as const;

/** Every code a failed DKG can carry: a protocol error (with its culprits) or a session condition. */
export const DKG_FAILURE_CODES = [...PROTOCOL_ERROR_CODES, ...DKG_SESSION_FAILURE_CODES] as const;
/** Why a DKG failed. */
export type DkgFailureCode = (typeof DKG_FAILURE_CODES)[number];

/** True when `code` is a DKG failure code. */
export function isDkgFailureCode(code: string): code is DkgFailureCode {
  return (DKG_FAILURE_CODES as readonly string[]).includes(code);
}
