/**
 * The console's one error type. Codes are stable: tests match on them, pages word them for people.
 * `http` carries the coordinator's own problem code (docs/errors.md) in `problemCode`.
 */

/** Why something the console did failed. */
export type ConsoleErrorCode =
  /** The coordinator answered with a problem document (`status`, `problemCode`). */
  | 'http'
  /** No answer at all (network, TLS, the coordinator down). */
  | 'unreachable'
  /** An answer that is not what the API documents: the console refuses to read it. */
  | 'bad_response'
  /** A value with no canonical JSON form (floats, nesting too deep, undefined). */
  | 'invalid_encoding'
  /** A trust file or pinned identity that is not `{"parties":{id: hex}}`. */
  | 'invalid_trust_file'
  /** An anchor that is not `SEQ:HASH`. */
  | 'invalid_anchor'
  /** The browser lacks what the console needs (WebCrypto Ed25519 outside a secure context). */
  | 'unsupported_browser';

/** A failure with a stable code. */
export class ConsoleError extends Error {
  constructor(
    readonly code: ConsoleErrorCode,
    message: string,
    readonly status?: number,
    readonly problemCode?: string,
  ) {
    super(message);
    this.name = 'ConsoleError';
  }
}

/** True for a ConsoleError (of `code`, when given). */
export function isConsoleError(e: unknown, code?: ConsoleErrorCode): e is ConsoleError {
  return e instanceof ConsoleError && (code === undefined || e.code === code);
}
