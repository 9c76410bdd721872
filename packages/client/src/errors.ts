/**
 * The client's one error type and its closed list of codes: what went wrong between the desk and
 * the coordinator (or with the desk's own trust file). A key or audit chain that fails its check
 * is not an error but a verdict (verify-key.ts, audit-log.ts). docs/errors.md lists every code.
 */
import type { Problem } from './schemas.js';

/** Every code a ClientError carries. */
export const CLIENT_ERROR_CODES = [
  /** No HTTP answer: connection refused, DNS, TLS, or the request timed out. */
  'unreachable',
  /** The coordinator answered with a problem document (RFC 9457); `problem` holds it. */
  'api_problem',
  /** A status the route does not define, without a problem document. */
  'unexpected_status',
  /** A body that does not match the route's schema (e.g. a Key without its fields). */
  'invalid_response',
  /** The trust file is missing, not JSON, or not of the documented shape. */
  'invalid_trust_file',
  /** A signer key file (approver or policy administrator) is missing, not one, or cannot be written. */
  'invalid_key_file',
  /** The passphrase does not open the signer key file (or the file was altered). */
  'wrong_passphrase',
  /** A policy document given to `glacis policy sign` does not parse (docs/policy.md). */
  'invalid_policy',
  /** A bundle for or from an offline party cannot be read or written (file, QR frames, header). */
  'invalid_bundle',
] as const;

/** A stable, machine-readable client error code. */
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/** The one error class of `@glacis/client`. */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  /** HTTP status, when there was an answer. */
  readonly status: number | undefined;
  /** The problem document of an `api_problem`. */
  readonly problem: Problem | undefined;

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    details: { status?: number; problem?: Problem; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.problem = details.problem;
  }
}

/** True when `e` is a ClientError, optionally with the given code. */
export function isClientError(e: unknown, code?: ClientErrorCode): e is ClientError {
  return e instanceof ClientError && (code === undefined || e.code === code);
}
