/**
 * Errors of the bundle codec, one stable code per defect. A bundle is the unit an air-gapped party
 * exchanges, so the code must tell an operator what to do: re-scan (`bundle_truncated`,
 * `bundle_bad_checksum`), ask for a fresh bundle (`bundle_replayed`), or raise the alarm
 * (`bundle_bad_signature`). Blame is data: `culprits` names the sender only once its signature
 * verified.
 */

/** The closed list of bundle error codes, in the order `openBundle` checks them. docs/errors.md explains each one. */
export const BUNDLE_ERROR_CODES = [
  'bundle_too_large',
  'bundle_truncated',
  'bundle_bad_magic',
  'bundle_unsupported_version',
  'bundle_trailing_bytes',
  'bundle_bad_checksum',
  'bundle_malformed_header',
  'bundle_unknown_sender',
  'bundle_bad_signature',
  'bundle_wrong_recipient',
  'bundle_malformed_item',
  'bundle_replayed',
] as const;

/** A stable, machine-readable bundle error code. */
export type BundleErrorCode = (typeof BUNDLE_ERROR_CODES)[number];

/** The one error type of the bundle codec. */
export class BundleError extends Error {
  override readonly name = 'BundleError';
  /** Parties provably at fault: the sender, and only after its signature verified. */
  readonly culprits: readonly string[];

  constructor(
    readonly code: BundleErrorCode,
    message: string,
    culprits: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.culprits = culprits;
  }

  /** Plain JSON-able form for logs and wire messages. */
  toJSON(): { code: BundleErrorCode; message: string; culprits: readonly string[] } {
    return { code: this.code, message: this.message, culprits: this.culprits };
  }
}

/** True when `e` is a BundleError, optionally with the given code. */
export function isBundleError(e: unknown, code?: BundleErrorCode): e is BundleError {
  return e instanceof BundleError && (code === undefined || e.code === code);
}
