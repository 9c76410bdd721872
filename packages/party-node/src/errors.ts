/**
 * The party node's one error type and its closed list of codes (docs/errors.md, "Party node").
 * Messages name the file or field and say what to do; nothing secret ever goes into one.
 */

/** Every code a party node raises. */
export const PARTY_ERROR_CODES = [
  // The command line
  'usage',
  'machine_online',
  'unattended_not_allowed',
  // party.json
  'config_unreadable',
  'config_invalid',
  // The keystore secret (passphrase or key-encryption key)
  'unlock_secret_missing',
  'unlock_secret_unreadable',
  'invalid_kek',
  'demo_secret_refused',
  'wrong_unlock_source',
  'authentication_failed',
  'wrong_passphrase',
  // The keystore
  'not_initialized',
  'already_initialized',
  'identity_missing',
  'identity_exists',
  'corrupt_file',
  'unknown_key',
  'key_exists',
  'successor_staged',
  'no_staged_successor',
  // The signed policy in force (policy.json)
  'policy_unverifiable',
  // Backups
  'backup_corrupt',
  'backup_wrong_passphrase',
  'backup_target_not_empty',
] as const;

/** A stable, machine-readable party node error code. */
export type PartyErrorCode = (typeof PARTY_ERROR_CODES)[number];

/** The one error type of `@glacis/party-node`. */
export class PartyError extends Error {
  override readonly name = 'PartyError';
  constructor(
    readonly code: PartyErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `e` is a PartyError, optionally with the given code. */
export function isPartyError(e: unknown, code?: PartyErrorCode): e is PartyError {
  return e instanceof PartyError && (code === undefined || e.code === code);
}
