/**
 * The desk's check of a key: is `publicKey` the key every committee member derived and signed for,
 * by the identity keys the desk pinned itself? The coordinator is not trusted: everything it says
 * beyond the signed confirmations (publicKey, verifyingShares, the identity keys it pins) is
 * compared with them, and the certificate itself is checked by the protocol's own
 * verifyDkgCertificate, the check the coordinator and every party run.
 *
 * The checks, in order (the first failure is the verdict):
 *   1. the key is active and has a certificate;
 *   2. every committee member and every confirming party is in the trust file, and the identity
 *      key the coordinator names for it is the pinned one;
 *   3. verifyDkgCertificate against the pinned keys: each member confirmed exactly once, with a
 *      valid signature, for this keyId, suite, threshold and committee, all agreeing;
 *   4. the served publicKey and verifyingShares are the certificate's.
 */
import {
  canonicalJson,
  certificateEnvelopes,
  fromHex,
  isProtocolError,
  type ProtocolErrorCode,
  verifyDkgCertificate,
} from '@glacis/protocol';
import type { Key } from './schemas.js';
import type { TrustFile } from './trust-file.js';

/** Why a key is refused. docs/errors.md explains each. */
export const KEY_REFUSAL_CODES = [
  'key_not_active',
  'no_certificate',
  'untrusted_party',
  'identity_mismatch',
  'malformed_confirmation',
  'certificate_invalid',
  'public_key_mismatch',
  'verifying_shares_mismatch',
] as const;
/** A stable code for a refused key. */
export type KeyRefusalCode = (typeof KEY_REFUSAL_CODES)[number];

/** The result of verifyKey. */
export type KeyVerdict =
  | { ok: true; keyId: string; suite: Key['suite']; threshold: number; parties: string[]; publicKey: string }
  | {
      ok: false;
      keyId: string;
      code: KeyRefusalCode;
      reason: string;
      /** For `certificate_invalid`: the protocol's code (e.g. `bad_signature`, `unknown_party`). */
      protocolCode?: ProtocolErrorCode;
    };

/** Checks `key` against the parties pinned in `trust`. Never throws for a bad key: it refuses it. */
export function verifyKey(key: Key, trust: TrustFile): KeyVerdict {
  const refuse = (code: KeyRefusalCode, reason: string, protocolCode?: ProtocolErrorCode): KeyVerdict => ({
    ok: false,
    keyId: key.keyId,
    code,
    reason,
    ...(protocolCode === undefined ? {} : { protocolCode }),
  });
  const pinned = (partyId: string) => (Object.hasOwn(trust.parties, partyId) ? trust.parties[partyId] : undefined);

  if (key.status !== 'active') return refuse('key_not_active', `the key is ${key.status}: only an active key has a certificate`);
  if (key.certificate === null || key.publicKey === null)
    return refuse('no_certificate', 'the coordinator serves no certificate for this key');

  for (const member of key.parties) {
    if (pinned(member) === undefined) return refuse('untrusted_party', `committee member ${member} is not in the trust file`);
  }
  for (const c of key.certificate.confirmations) {
    if (c.partyId !== c.from) return refuse('malformed_confirmation', `a confirmation names ${c.partyId} but was sent by ${c.from}`);
    const mine = pinned(c.from);
    if (mine === undefined) return refuse('untrusted_party', `a confirmation comes from ${c.from}, who is not in the trust file`);
    if (c.identityKey !== null && c.identityKey !== mine) {
      return refuse('identity_mismatch', `the coordinator pins ${c.identityKey} for ${c.from}; the trust file pins ${mine}`);
    }
  }

  let certified: ReturnType<typeof verifyDkgCertificate>;
  try {
    certified = verifyDkgCertificate(certificateEnvelopes(key.certificate), {
      keyId: key.keyId,
      suite: key.suite,
      threshold: key.threshold,
      committee: key.parties,
      keyOf: (partyId) => {
        const hex = pinned(partyId);
        return hex === undefined ? undefined : fromHex(hex);
      },
    });
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    return refuse('certificate_invalid', e.message, e.code);
  }

  if (certified.publicKey !== key.publicKey) {
    return refuse(
      'public_key_mismatch',
      `the coordinator serves publicKey ${key.publicKey}, but the committee confirmed ${certified.publicKey}`,
    );
  }
  if (canonicalJson(certified.verifyingShares) !== canonicalJson(key.verifyingShares)) {
    return refuse('verifying_shares_mismatch', 'the served verifyingShares are not the ones the committee confirmed');
  }
  return {
    ok: true,
    keyId: key.keyId,
    suite: key.suite,
    threshold: key.threshold,
    parties: [...key.parties],
    publicKey: certified.publicKey,
  };
}
