/**
 * The policy in force at this party and its activation. Until a quorum-signed policy is
 * activated, the static `party.json` policy is in force (static-policy.ts); once one is, signed
 * policies replace each other and the static one never comes back.
 *
 * A signed policy is activated only after `verifySignedPolicy` against the administrator keys
 * this party pinned and with a version newer than the one in force (the static policy's version
 * counts: approvals given under it can never be counted under a signed one). `policy.json` is
 * written atomically (temp, fsync, rename, fsync of the directory) before the policy is used, so
 * after a crash the party runs under either the old or the new policy, never a mix, and a restart
 * never falls back to an older one. It is verified again at every start: a file that does not
 * verify under the pinned administrators stops the party rather than weakening its policy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isProtocolError, type Policy, ProtocolError, policyDigest, type SignedPolicy, verifySignedPolicy } from '@glacis/protocol';
import type { PartyConfig } from '../config.js';
import { PartyError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { staticPolicyDocument } from './static-policy.js';

export const POLICY_FILE = 'policy.json';

/** The policy this party decides with. */
export interface ActivePolicy {
  source: 'static' | 'signed';
  version: number;
  /** `policyDigest` of a signed policy; null for the static one. */
  digest: string | null;
  /** The rules (for the static policy, its equivalent document). */
  document: Policy;
  /** The signed envelope, as activated (null for the static policy). */
  signed: SignedPolicy | null;
  /** When it was activated (RFC 3339), null for the static policy. */
  activatedAt: string | null;
  /** Pinned administrators whose signatures verified, sorted (empty for the static policy). */
  signers: string[];
}

/** What an offer did. */
export type Activation = { changed: true; policy: ActivePolicy } | { changed: false; policy: ActivePolicy };

export interface PolicyStore {
  active(): ActivePolicy;
  /**
   * Verifies `signed` (untrusted) and makes it the policy in force, on disk first. The policy in
   * force again (same digest) changes nothing. Throws the ProtocolError of `verifySignedPolicy`,
   * or `policy_admins_not_pinned` when this party pinned no administrators.
   */
  activate(signed: unknown, now: number): Activation;
}

interface PolicyFile {
  signed: SignedPolicy;
  activatedAt: string;
}

function verifyWith(config: Pick<PartyConfig, 'policyAdmins'>, signed: unknown, activeVersion: number | null) {
  const admins = config.policyAdmins;
  if (!admins) {
    throw new ProtocolError('policy_admins_not_pinned', 'this party pinned no policy administrators (glacis-party pin --policy-admin)');
  }
  return verifySignedPolicy(signed, admins.keys, admins.quorum, activeVersion);
}

/** Opens the policy state of `dataDir` under `config`'s static policy and pinned administrators. */
export function openPolicyStore(dataDir: string, config: Pick<PartyConfig, 'policy' | 'policyAdmins'>): PolicyStore {
  const path = join(dataDir, POLICY_FILE);
  const fallback: ActivePolicy = {
    source: 'static',
    version: config.policy.version,
    digest: null,
    document: staticPolicyDocument(config.policy),
    signed: null,
    activatedAt: null,
    signers: [],
  };
  let current = fallback;
  if (existsSync(path)) {
    let file: PolicyFile;
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as PolicyFile;
      const verified = verifyWith(config, file.signed, null);
      current = {
        source: 'signed',
        version: verified.policy.version,
        digest: verified.digest,
        document: verified.policy,
        signed: { policy: verified.policy, signatures: file.signed.signatures },
        activatedAt: String(file.activatedAt),
        signers: verified.signers,
      };
    } catch (e) {
      const why = isProtocolError(e) ? `${e.code}: ${e.message}` : (e as Error).message;
      throw new PartyError(
        'policy_unverifiable',
        `${path}: the active policy does not verify under the pinned policy administrators (${why}); restore the pins it was activated under, or remove the file to fall back to the static policy`,
        { cause: e },
      );
    }
  }

  return {
    active: () => current,
    activate(signed, now) {
      if (current.signed !== null && typeof signed === 'object' && signed !== null) {
        // The policy in force, delivered again (a reconnect, a retried PUT): not a replay to refuse.
        const again = (signed as { policy?: unknown }).policy;
        try {
          if (policyDigest(again as Policy) === current.digest) return { changed: false, policy: current };
        } catch {
          // Not a policy at all: verification below says why.
        }
      }
      const verified = verifyWith(config, signed, current.version);
      const activatedAt = new Date(now).toISOString();
      const envelope: SignedPolicy = { policy: verified.policy, signatures: (signed as SignedPolicy).signatures };
      const next: ActivePolicy = {
        source: 'signed',
        version: verified.policy.version,
        digest: verified.digest,
        document: verified.policy,
        signed: envelope,
        activatedAt,
        signers: verified.signers,
      };
      // SECURITY: on disk before it decides anything, so no restart can bring the older policy back.
      writeFileAtomic(path, `${JSON.stringify({ signed: envelope, activatedAt } satisfies PolicyFile)}\n`);
      current = next;
      return { changed: true, policy: current };
    },
  };
}
