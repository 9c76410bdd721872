/**
 * How a signing request ends and why a party leaves it, as closed unions. ROAST's decisions, the
 * coordinator's audit event types and the API's `error.code` / `excluded[].reason` all come from
 * these lists, so a code cannot be classified one way for the decision and another for the audit.
 */
import { PROTOCOL_ERROR_CODES, type ProtocolErrorCode } from '../errors.js';

/** A party's policy verdicts (party-node `policy/policy.ts` returns exactly these). */
export const POLICY_CODES = [
  'policy_key_not_allowed',
  'policy_message_too_large',
  'policy_approvals_missing',
  'policy_version_mismatch',
  'policy_approval_expired',
  'policy_approval_reused',
  // The signed policy's rule engine (policy/evaluate.ts).
  'policy_denied',
  'policy_no_matching_rule',
  'policy_velocity_exceeded',
] as const;
/** A policy verdict code. */
export type PolicyCode = (typeof POLICY_CODES)[number];

/**
 * `sign_refused` codes that are the party's own decision about the request: its policy said no,
 * or it holds no share of the key. A refusal excludes the party from the request without blame;
 * refusals that leave fewer than t parties make the request `rejected`. Any other `sign_refused`
 * code is a *withdrawal* from one session (see roast.ts): the party could not use the commitment
 * it was given, and that says nothing about the request.
 */
export const POLICY_REFUSAL_CODES = [...POLICY_CODES, 'wrong_key'] as const;
/** A refusal code (see POLICY_REFUSAL_CODES). */
export type PolicyRefusalCode = (typeof POLICY_REFUSAL_CODES)[number];

/**
 * Every code a party may give in `sign_refused` (the wire schema is this closed enum): a refusal
 * (above), or a protocol check of the package that failed — a withdrawal.
 */
export const SIGN_REFUSAL_CODES = [...POLICY_CODES, ...PROTOCOL_ERROR_CODES] as const;
/** Why a party answered a signing package with `sign_refused`. */
export type SignRefusalCode = PolicyCode | ProtocolErrorCode;

/** True when a party's `sign_refused` code is a refusal of the request, false for a withdrawal. */
export function isPolicyRefusal(code: string): code is PolicyRefusalCode {
  return (POLICY_REFUSAL_CODES as readonly string[]).includes(code);
}

/**
 * Provable misbehaviour in a request, the only blame there is: the evidence is the party's own
 * signed message (a share that fails RFC 9591 §5.4 verification, a commitment that is not a valid
 * group element). Silence, slowness, a lost connection or a withdrawal are never blame.
 */
export const BLAME_CODES = ['invalid_signature_share', 'invalid_point'] as const;
/** A blame code (see BLAME_CODES). */
export type BlameCode = (typeof BLAME_CODES)[number];

/** Why a party was excluded from a request: blame, or its own refusal. */
export type ExclusionCode = BlameCode | PolicyRefusalCode;

/** The audit event type an exclusion is recorded as. */
export function exclusionAuditEvent(code: ExclusionCode): 'party_excluded' | 'policy_refusal' {
  return isPolicyRefusal(code) ? 'policy_refusal' : 'party_excluded';
}

/**
 * `error.code` of a request that did not complete (`rejected` is also its status):
 * `approval_timeout` — it waited for approvals past its approval deadline; `intent_invalid` — its
 * intent yields nothing this key can sign (the API checks this before accepting a request).
 */
export type SigningFailureCode = 'insufficient_parties' | 'rejected' | 'key_not_active' | 'approval_timeout' | 'intent_invalid';

/** How a signing request settled. */
export type SigningOutcome =
  /** One signature per message of the intent, in order (one for a raw intent). */
  | { status: 'completed'; signatures: readonly Uint8Array[]; signers: readonly string[] }
  | { status: 'failed'; code: Exclude<SigningFailureCode, 'rejected'>; message: string }
  | { status: 'rejected'; code: 'rejected'; message: string };

/** The audit event type of each way a request settles. */
export const SIGNING_OUTCOME_AUDIT_EVENT = {
  completed: 'signature_completed',
  failed: 'signature_failed',
  rejected: 'signature_rejected',
} as const satisfies Record<SigningOutcome['status'], string>;
