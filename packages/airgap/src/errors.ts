/**
 * Errors of the air-gap transports, one stable code per defect (docs/errors.md). A transport only
 * moves bundle bytes: whether a bundle is authentic is `openBundle`'s question, with its own codes.
 */

/** The closed list of transport error codes. */
export const AIRGAP_ERROR_CODES = [
  // Files
  'airgap_file_exists',
  'airgap_too_large',
  // QR frames
  'airgap_frame_malformed',
  'airgap_frame_wrong_type',
  'airgap_frame_foreign',
  'airgap_too_many_frames',
  'airgap_transfer_corrupt',
  'airgap_incomplete',
  // Images
  'airgap_image_unreadable',
] as const;

/** A stable, machine-readable transport error code. */
export type AirgapErrorCode = (typeof AIRGAP_ERROR_CODES)[number];

/** The one error type of `@glacis/airgap`. */
export class AirgapError extends Error {
  override readonly name = 'AirgapError';

  constructor(
    readonly code: AirgapErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Plain JSON-able form for logs. */
  toJSON(): { code: AirgapErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** True when `e` is an AirgapError, optionally with the given code. */
export function isAirgapError(e: unknown, code?: AirgapErrorCode): e is AirgapError {
  return e instanceof AirgapError && (code === undefined || e.code === code);
}
