/**
 * The closed sets of codes that end a DKG or refuse a signing package. They travel on the wire
 * (`dkg_abort.code`, `sign_refused.code`) and land in the coordinator's store and API, so they are
 * closed unions here, in the one package both sides share; docs/errors.md explains each.
 */
import { PROTOCOL_ERROR_CODES, type ProtocolErrorCode } from './errors.js';

/** Ways a DKG session ends without a key that are not a protocol error: the session's own conditions. */
export const DKG_SESSION_FAILURE_CODES = ['dkg_timeout', 'party_disconnected', 'parties_unavailable', 'coordinator_restarted'] as const;

/** Every code a failed DKG can carry: a protocol error (with its culprits) or a session condition. */
export const DKG_FAILURE_CODES = [...PROTOCOL_ERROR_CODES, ...DKG_SESSION_FAILURE_CODES] as const;
/** Why a DKG failed. */
export type DkgFailureCode = (typeof DKG_FAILURE_CODES)[number];

/** True when `code` is a DKG failure code. */
export function isDkgFailureCode(code: string): code is DkgFailureCode {
  return (DKG_FAILURE_CODES as readonly string[]).includes(code);
}

/** A party's policy said no (docs/errors.md, "Party refusals"). */
export const POLICY_REFUSAL_CODES = [
  'policy_key_not_allowed',
  'policy_message_too_large',
  'policy_approvals_missing',
  'policy_version_mismatch',
  'policy_approval_expired',
  'policy_approval_reused',
] as const;
/** A policy refusal code. */
export type PolicyRefusalCode = (typeof POLICY_REFUSAL_CODES)[number];

/** Every code a party may give in `sign_refused`: its policy, or a check of the package that failed. */
export const SIGN_REFUSAL_CODES = [...POLICY_REFUSAL_CODES, ...PROTOCOL_ERROR_CODES] as const;
/** Why a party refused a signing package. */
export type SignRefusalCode = PolicyRefusalCode | ProtocolErrorCode;

/**
 * True when a refusal is the party's own decision about this request — its policy, or not holding
 * the key — rather than a package it could not use (a stale or unknown commitment). A decision
 * stands for the whole request; an unusable package only withdraws the party from that session.
 */
export function isPolicyRefusal(code: string): boolean {
  return code === 'wrong_key' || (POLICY_REFUSAL_CODES as readonly string[]).includes(code);
}
