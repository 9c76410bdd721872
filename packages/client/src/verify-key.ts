/**
 * The desk's check of a key: is `publicKey` the key every committee member derived and signed for,
 * by the identity keys the desk pinned itself? The coordinator is not trusted: everything it says
 * beyond the signed confirmations (publicKey, verifyingShares, the committee, the identity keys it
 * pins) is compared with them, and every certificate is checked by the protocol's own functions,
 * the checks the coordinator and every party run.
 *
 * A key that went through lifecycle operations carries their lineage after its DKG certificate:
 * the chain is followed from the DKG, each successor certificate checked against the generation
 * before it (`verifyLifecycleCertificate`), each repair by its party's proof of knowledge
 * (`verifyShareDrill`), and the last generation must be the key served.
 *
 * The checks, in order (the first failure is the verdict):
 *   1. the key is active and has a certificate;
 *   2. every committee member and every confirming party is in the trust file, and the identity
 *      key the coordinator names for it is the pinned one;
 *   3. the DKG certificate: each member confirmed exactly once, with a valid signature, for this
 *      keyId and suite, all agreeing (for a key without lineage: for its threshold and committee);
 *   4. each link of the lineage, in order, against the generation before it;
 *   5. the served publicKey, verifyingShares, committee and threshold are the last generation's;
 *   6. each member's latest signature in the history is under its current identity key (a key
 *      listed as retired in the trust file only checks what was signed before the party was
 *      re-created).
 */
import {
  type CertificateLink,
  canonicalJson,
  certificateEnvelopes,
  type Envelope,
  envelopeSigningBytes,
  fromHex,
  isProtocolError,
  keyPackageHash,
  messageBodySchemas,
  openEnvelope,
  ProtocolError,
  type ProtocolErrorCode,
  type PublicKeyPackage,
  verifyDkgCertificate,
  verifyIdentitySignature,
  verifyLifecycleCertificate,
  verifyShareDrill,
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
  'committee_mismatch',
  'stale_identity',
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

/** Which of a party's pinned keys signed an envelope: its current one, a retired one, or none. */
type Signer = { key: Uint8Array; current: boolean } | undefined;

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
  const retired = (partyId: string) => (trust.retired && Object.hasOwn(trust.retired, partyId) ? (trust.retired[partyId] ?? []) : []);

  if (key.status !== 'active') return refuse('key_not_active', `the key is ${key.status}: only an active key has a certificate`);
  if (key.certificate === null || key.publicKey === null)
    return refuse('no_certificate', 'the coordinator serves no certificate for this key');
  const lineage: CertificateLink[] = key.certificate.lineage ?? [];

  for (const member of key.parties) {
    if (pinned(member) === undefined) return refuse('untrusted_party', `committee member ${member} is not in the trust file`);
  }
  for (const c of [...key.certificate.confirmations, ...lineage.flatMap((l) => l.confirmations)]) {
    if (c.partyId !== c.from) return refuse('malformed_confirmation', `a confirmation names ${c.partyId} but was sent by ${c.from}`);
    const mine = pinned(c.from);
    if (mine === undefined && retired(c.from).length === 0) {
      return refuse('untrusted_party', `a confirmation comes from ${c.from}, who is not in the trust file`);
    }
    if (c.identityKey !== null && c.identityKey !== mine) {
      return refuse('identity_mismatch', `the coordinator pins ${c.identityKey} for ${c.from}; the trust file pins ${mine}`);
    }
  }

  /** The pinned key (current first, then retired) whose signature an envelope carries. */
  const signerOf = (env: Envelope): Signer => {
    const candidates = [pinned(env.from), ...retired(env.from)].filter((k): k is string => k !== undefined);
    const bytes = envelopeSigningBytes(env);
    for (const [i, hex] of candidates.entries()) {
      const k = fromHex(hex);
      if (verifyIdentitySignature(fromHex(env.signature), bytes, k)) return { key: k, current: i === 0 && hex === pinned(env.from) };
    }
    return undefined;
  };
  /** The latest signature of each party in the history: under its current key or not. */
  const latest = new Map<string, boolean>();
  /** keyOf for one certificate: each sender's key that signed it (the current pin when none did, which then fails). */
  const keyOfFor = (envs: readonly Envelope[]) => {
    const found = new Map<string, Uint8Array>();
    for (const env of envs) {
      const signer = signerOf(env);
      if (signer) {
        found.set(env.from, signer.key);
        latest.set(env.from, signer.current);
      }
    }
    return (partyId: string) => {
      const k = found.get(partyId) ?? pinned(partyId);
      return k === undefined ? undefined : typeof k === 'string' ? fromHex(k) : k;
    };
  };

  let current: PublicKeyPackage;
  try {
    const dkg = certificateEnvelopes(key.certificate);
    // Without lineage the DKG made the key as served; with one, the DKG's own committee is its.
    const origin = lineage.length === 0 ? undefined : messageBodySchemas.dkg_confirm.safeParse(dkg[0]?.body);
    if (origin !== undefined && !origin.success)
      throw new ProtocolError('dkg_confirmation_mismatch', 'the DKG certificate holds no dkg_confirm');
    current = verifyDkgCertificate(dkg, {
      keyId: key.keyId,
      suite: key.suite,
      threshold: origin?.data.threshold ?? key.threshold,
      committee: origin ? Object.keys(origin.data.verifyingShares).sort() : key.parties,
      keyOf: keyOfFor(dkg),
    });
    for (const link of lineage) current = followLink(current, link, keyOfFor);
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    return refuse('certificate_invalid', e.message, e.code);
  }

  if (current.publicKey !== key.publicKey) {
    return refuse(
      'public_key_mismatch',
      `the coordinator serves publicKey ${key.publicKey}, but the committee confirmed ${current.publicKey}`,
    );
  }
  if (canonicalJson(current.verifyingShares) !== canonicalJson(key.verifyingShares)) {
    return refuse('verifying_shares_mismatch', 'the served verifyingShares are not the ones the committee confirmed');
  }
  if (current.threshold !== key.threshold || canonicalJson(current.committee) !== canonicalJson([...key.parties].sort())) {
    return refuse('committee_mismatch', `the served committee or threshold is not the one the key's last certificate confirmed`);
  }
  const stale = current.committee.filter((m) => latest.get(m) === false);
  if (stale.length > 0) {
    return refuse('stale_identity', `the latest signature of ${stale.join(', ')} in this key's history is under a retired identity key`);
  }
  return {
    ok: true,
    keyId: key.keyId,
    suite: key.suite,
    threshold: current.threshold,
    parties: [...current.committee],
    publicKey: current.publicKey,
  };
}

/** The generation after `pkg` that `link` certifies (throws a ProtocolError when it does not). */
function followLink(
  pkg: PublicKeyPackage,
  link: CertificateLink,
  keyOfFor: (envs: readonly Envelope[]) => (partyId: string) => Uint8Array | undefined,
): PublicKeyPackage {
  const envs = certificateEnvelopes(link);
  const keyOf = keyOfFor(envs);
  if (link.operation === 'repair') {
    const [env] = envs;
    if (envs.length !== 1 || env === undefined)
      throw new ProtocolError('lifecycle_confirmation_mismatch', 'a repair link holds one confirmation');
    const msg = openEnvelope(env, {
      self: 'coordinator',
      keyOf: (p) => (pkg.committee.includes(p) ? keyOf(p) : undefined),
      anyRecipient: true,
    });
    if (msg.type !== 'repair_confirm' || msg.sessionId !== link.sessionId) {
      throw new ProtocolError(
        'lifecycle_confirmation_mismatch',
        `repair link ${link.sessionId} holds a ${msg.type} of session ${msg.sessionId}`,
      );
    }
    const challenge = { keyId: pkg.keyId, partyId: msg.from, drillId: link.sessionId, nonce: keyPackageHash(pkg) };
    verifyShareDrill(pkg, challenge, { ...msg.body, drillId: link.sessionId });
    return pkg;
  }
  const first = messageBodySchemas.lifecycle_confirm.safeParse(envs[0]?.body);
  if (!first.success)
    throw new ProtocolError('lifecycle_confirmation_mismatch', `${link.operation} link ${link.sessionId} holds no lifecycle_confirm`);
  return verifyLifecycleCertificate(envs, {
    predecessor: pkg,
    operation: link.operation,
    sessionId: link.sessionId,
    committee: Object.keys(first.data.verifyingShares).sort(),
    threshold: first.data.threshold,
    keyOf,
  });
}
