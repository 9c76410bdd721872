/**
 * The console's one error type. Codes are stable: tests match on them, pages word them for people.
 * `http` carries the coordinator's own problem code (docs/errors.md) in `problemCode`.
 */

/**
 * Why something the console did failed (docs/errors.md, "The console"): `http`, the coordinator
 * answered with a problem document (`status`, `problemCode`); `unreachable`, no answer at all;
 * `bad_response`, an answer that is not what the API documents; `invalid_encoding`, a value with
 * no canonical JSON form; `invalid_trust_file`, a trust file or pin that is not
 * `{"parties":{id: hex}}`; `invalid_anchor`, an anchor that is not `SEQ:HASH`;
 * `unsupported_browser`, no WebCrypto or no Ed25519 in it; `invalid_intent`, a request whose
 * intent the console cannot read or this key cannot sign (nothing to approve); `invalid_key_file`,
 * a signer key file that is not the documented format, or holds another role's key;
 * `wrong_passphrase`, the passphrase does not open the key file (or the file was altered);
 * `invalid_bundle`, a file or scan that is not a bundle, or QR frames the transfer refuses.
 */
export const CONSOLE_ERROR_CODES = [
  'http',
  'unreachable',
  'bad_response',
  'invalid_encoding',
  'invalid_trust_file',
  'invalid_anchor',
  'unsupported_browser',
  'invalid_intent',
  'invalid_key_file',
  'wrong_passphrase',
  'invalid_bundle',
] as const;
/** One of CONSOLE_ERROR_CODES. */
export type ConsoleErrorCode = (typeof CONSOLE_ERROR_CODES)[number];

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
