/**
 * The coordinator's one error type and its closed list of codes. Each code has exactly one HTTP
 * status (ERROR_STATUS); docs/errors.md explains every code and what a client should do about it.
 */

/** Every code the coordinator puts in a problem document, with the HTTP status it maps to. */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  invalid_hex: 400,
  unknown_suite: 400,
  invalid_threshold: 400,
  empty_message: 400,
  unknown_party: 400,
  invalid_cursor: 400,
  // A typed intent this key cannot sign (the parties' own codes: protocol `interpretIntent`).
  intent_invalid: 400,
  intent_wrong_suite: 400,
  psbt_invalid: 400,
  psbt_input_out_of_range: 400,
  psbt_missing_witness_utxo: 400,
  psbt_input_not_ours: 400,
  psbt_unsupported_sighash: 400,
  psbt_input_finalized: 400,
  psbt_amounts_invalid: 400,
  approval_invalid: 400,
  policy_invalid: 400,
  // POST /v1/parties/{id}/inbox: the bundle codes of protocol `openBundle`, then the items' own.
  bundle_too_large: 400,
  bundle_truncated: 400,
  bundle_bad_magic: 400,
  bundle_unsupported_version: 400,
  bundle_trailing_bytes: 400,
  bundle_bad_checksum: 400,
  bundle_malformed_header: 400,
  bundle_unknown_sender: 400,
  bundle_bad_signature: 400,
  bundle_wrong_recipient: 400,
  bundle_malformed_item: 400,
  inbox_envelope_invalid: 400,
  inbox_unexpected_message: 400,
  inbox_commitment_invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  request_timeout: 408,
  key_not_active: 409,
  idempotency_conflict: 409,
  operation_in_progress: 409,
  operation_conflict: 409,
  repair_not_needed: 409,
  signature_not_awaiting_approval: 409,
  approval_exists: 409,
  policy_version_conflict: 409,
  party_not_offline: 409,
  bundle_replayed: 409,
  body_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  capacity_exceeded: 429,
  headers_too_large: 431,
  internal_error: 500,
  not_implemented: 501,
  parties_unavailable: 503,
  store_unavailable: 503,
  lease_lost: 503,
} as const satisfies Record<string, number>;

/** A stable, machine-readable error code. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** True when `code` is one of the coordinator's error codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_STATUS, code);
}

/** The one error class of the coordinator: a code, a client-safe detail, and optional headers. */
export class CoordinatorError extends Error {
  override readonly name = 'CoordinatorError';
  /** HTTP status, derived from the code so the two can never disagree. */
  readonly statusCode: number;
  /** Extra response headers (e.g. WWW-Authenticate on 401). */
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    /** Shown to the client for 4xx; replaced by a generic text for 5xx. */
    readonly detail: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(detail, options?.cause === undefined ? undefined : { cause: options.cause });
    this.statusCode = ERROR_STATUS[code];
    this.headers = options?.headers ?? {};
  }
}

/** True when `e` is a CoordinatorError. */
export function isCoordinatorError(e: unknown): e is CoordinatorError {
  return e instanceof CoordinatorError;
}

/** The `404 not_found` for an id that names nothing; the id is not echoed back. */
export function notFound(kind: 'key' | 'signature' | 'operation' | 'party'): CoordinatorError {
  return new CoordinatorError('not_found', `no such ${kind}`);
}
