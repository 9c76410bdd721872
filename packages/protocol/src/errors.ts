/**
 * Every error the protocol layer raises, with a stable code. Blame is data (`culprits`), never
 * only message text: a driver can exclude the named parties without parsing strings.
 */

/** The closed list of protocol error codes. docs/errors.md explains each one. */
export const PROTOCOL_ERROR_CODES = [
  // Encoding and input validation
  'invalid_hex',
  'invalid_encoding',
  'invalid_scalar',
  'invalid_point',
  'invalid_identifier',
  'duplicate_identifier',
  'invalid_threshold',
  'unknown_suite',
  'wrong_suite',
  'empty_message',
  // Envelopes
  'invalid_envelope',
  'unsupported_version',
  'unknown_message_type',
  'invalid_message',
  'bad_signature',
  'unknown_party',
  'wrong_recipient',
  'wrong_session',
  'replayed_message',
  'decryption_failed',
  // DKG
  'dkg_unexpected_message',
  'dkg_equivocation',
  'dkg_invalid_round1',
  'dkg_invalid_secret_share',
  'dkg_transcript_mismatch',
  'dkg_confirmation_mismatch',
  'dkg_parameter_mismatch',
  'dkg_key_reserved',
  'dkg_failed',
  // Signing
  'wrong_key',
  'not_in_committee',
  'too_few_signers',
  'too_many_signers',
  'missing_own_commitment',
  'commitment_count_mismatch',
  'unknown_commitment',
  'nonce_reused',
  'invalid_signature_share',
  'missing_signature_share',
  'unexpected_signature_share',
  'aggregate_invalid',
  'session_closed',
  // ROAST
  'insufficient_parties',
  // Key lifecycle: refresh, repair, reshare (src/lifecycle/)
  'lifecycle_unexpected_message',
  'lifecycle_equivocation',
  'lifecycle_transcript_mismatch',
  'lifecycle_invalid_commitment',
  'lifecycle_invalid_share',
  'lifecycle_key_mismatch',
  'lifecycle_confirmation_mismatch',
  'lifecycle_failed',
  // Key lifecycle: what a party's driver refuses before any machine runs (party-node lifecycle/)
  'lifecycle_busy',
  'lifecycle_refused',
  'lifecycle_wrong_generation',
  'lifecycle_timeout',
  'lifecycle_test_invalid',
  // Share drills
  'drill_share_mismatch',
  'drill_invalid_proof',
  // Policy documents (policy/)
  'policy_invalid',
  'policy_bad_signature',
  'policy_quorum_not_met',
  'policy_downgrade',
  'policy_version_replayed',
  'policy_admins_not_pinned',
  // Policy decisions: why a party refuses to sign (policy/)
  'policy_denied',
  'policy_no_matching_rule',
  'policy_velocity_exceeded',
  'policy_approvals_missing',
  // Typed intents (intent/)
  'intent_invalid',
  'intent_wrong_suite',
  'psbt_invalid',
  'psbt_input_out_of_range',
  'psbt_missing_witness_utxo',
  'psbt_input_not_ours',
  'psbt_unsupported_sighash',
  'psbt_input_finalized',
  'psbt_amounts_invalid',
  'psbt_signature_invalid',
  // Signer key files (signer-key-file.ts): an approver's or a policy administrator's key on a desk
  'keyfile_invalid',
  'keyfile_wrong_passphrase',
] as const;

/** A stable, machine-readable protocol error code. */
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

/** The one error type of `@glacis/protocol`. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /** Parties provably at fault (empty when the fault cannot be attributed). */
  readonly culprits: readonly string[];

  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    culprits: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.culprits = culprits;
  }

  /** Plain JSON-able form for logs and wire messages. */
  toJSON(): { code: ProtocolErrorCode; message: string; culprits: readonly string[] } {
    return { code: this.code, message: this.message, culprits: this.culprits };
  }
}

/** True when `e` is a ProtocolError, optionally with the given code. */
export function isProtocolError(e: unknown, code?: ProtocolErrorCode): e is ProtocolError {
  return e instanceof ProtocolError && (code === undefined || e.code === code);
}
