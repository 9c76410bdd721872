/**
 * Signed policies: `{policy, signatures: [{adminKey, signature}]}`. A policy takes effect at a
 * party only when a quorum of the administrator keys that party pinned at `init` signed its
 * canonical bytes; the coordinator merely carries it. Versions only move forward.
 *
 * Checks, in this order (cheap structure first, then authenticity, then freshness, so that a
 * forgery is reported as a forgery whatever version it claims):
 *   1. pinned keys are lowercase hex; the quorum is possible     → invalid_hex / invalid_threshold (local config)
 *   2. envelope and document match their schemas                 → policy_invalid
 *   3. every signature by a pinned key verifies                  → policy_bad_signature
 *   4. at least `quorum` distinct pinned keys signed             → policy_quorum_not_met
 *   5. version > active version                                  → policy_downgrade / policy_version_replayed
 * Signatures by keys the party did not pin are ignored (another party may pin a different set);
 * they neither count nor fail the document.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { fromHex, toHex } from '../bytes.js';
import { canonicalBytes } from '../canonical.js';
import { ProtocolError } from '../errors.js';
import { type IdentityKey, verifyIdentitySignature } from '../identity.js';
import { hexSchema } from '../wire/primitives.js';
import { ed25519KeySchema, firstIssue, type Policy, parsePolicy } from './schema.js';

const DOMAIN = 'glacis/policy/v1';

const policySignatureSchema = z.strictObject({ adminKey: ed25519KeySchema, signature: hexSchema.length(128) });
export type PolicySignature = z.infer<typeof policySignatureSchema>;

/** The signed envelope as it travels (`PUT /v1/policy`) and as parties store it. */
export const signedPolicySchema = z.strictObject({
  policy: z.unknown(),
  signatures: z
    .array(policySignatureSchema)
    .min(1)
    .max(64)
    .refine((s) => new Set(s.map((x) => x.adminKey)).size === s.length, 'signatures: an admin key appears twice'),
});
export interface SignedPolicy {
  policy: Policy;
  signatures: PolicySignature[];
}

/** The exact bytes administrators sign: `glacis/policy/v1` ‖ 0x00 ‖ canonical JSON of the document. */
export function policySigningBytes(policy: Policy): Uint8Array {
  return canonicalBytes(DOMAIN, policy);
}

/** SHA-256 of the signing bytes: names one document exactly (logs, `GET /v1/policy`, idempotent re-delivery). */
export function policyDigest(policy: Policy): string {
  return toHex(sha256(policySigningBytes(policy)));
}

/** One administrator's signature over `policy`. */
export function signPolicy(policy: Policy, admin: IdentityKey): PolicySignature {
  return { adminKey: toHex(admin.publicKey), signature: toHex(admin.sign(policySigningBytes(policy))) };
}

/** A verified policy, ready to activate. */
export interface VerifiedPolicy {
  policy: Policy;
  /** `policyDigest(policy)`. */
  digest: string;
  /** Pinned administrators whose signatures verified (hex), sorted. */
  signers: string[];
}

/**
 * Verifies `signed` (untrusted input) against this party's pinned administrator keys (lowercase hex) and
 * `quorum`, and refuses anything not newer than `activeVersion` (null: no policy active yet).
 */
export function verifySignedPolicy(
  signed: unknown,
  pinnedAdmins: readonly string[],
  quorum: number,
  activeVersion: number | null,
): VerifiedPolicy {
  for (const k of pinnedAdmins) {
    if (!ed25519KeySchema.safeParse(k).success)
      throw new ProtocolError('invalid_hex', 'pinned admin key: expected 64 lowercase hex characters');
  }
  const pinned = new Set(pinnedAdmins);
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > pinned.size) {
    throw new ProtocolError('invalid_threshold', `policy quorum ${quorum} is impossible with ${pinned.size} pinned admin key(s)`);
  }
  const envelope = signedPolicySchema.safeParse(signed);
  if (!envelope.success) throw new ProtocolError('policy_invalid', `signed policy: ${firstIssue(envelope.error)}`);
  const policy = parsePolicy(envelope.data.policy);
  const bytes = policySigningBytes(policy);
  const signers: string[] = [];
  for (const s of envelope.data.signatures) {
    if (!pinned.has(s.adminKey)) continue;
    if (!verifyIdentitySignature(fromHex(s.signature), bytes, fromHex(s.adminKey))) {
      throw new ProtocolError('policy_bad_signature', `policy v${policy.version}: signature of admin ${s.adminKey} does not verify`);
    }
    signers.push(s.adminKey);
  }
  if (signers.length < quorum) {
    throw new ProtocolError(
      'policy_quorum_not_met',
      `policy v${policy.version}: ${signers.length} pinned admin signature(s), ${quorum} required`,
    );
  }
  if (activeVersion !== null && policy.version < activeVersion) {
    throw new ProtocolError('policy_downgrade', `policy v${policy.version} is older than the active v${activeVersion}`);
  }
  if (activeVersion !== null && policy.version === activeVersion) {
    throw new ProtocolError('policy_version_replayed', `policy v${policy.version} is already active; a new policy needs a new version`);
  }
  return { policy, digest: policyDigest(policy), signers: signers.sort() };
}
