/**
 * The two hashes that pin what a DKG session is about. Both the participants and the coordinator
 * compute them, with these functions only, so their bytes cannot drift apart:
 *   - the parameters hash, which each member signs into its round-1 package: members told different
 *     thresholds, committees, suites or key ids find out before they blame anyone;
 *   - the round-1 transcript hash, which each member echoes in round 2: the coordinator, which
 *     relays every round-1 package, recomputes it and names a member that echoes another one.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../bytes.js';
import { canonicalBytes } from '../canonical.js';
import type { MessageBody } from '../wire/messages.js';

/** What a `dkg_start` tells a member, plus the session it opens. */
export interface DkgParams {
  keyId: string;
  sessionId: string;
  suite: string;
  threshold: number;
  committee: readonly string[];
}

function canonicalParams(p: DkgParams) {
  return { keyId: p.keyId, sessionId: p.sessionId, suite: p.suite, threshold: p.threshold, committee: [...p.committee].sort() };
}

/** Hex SHA-256(`glacis/dkg-params/v1` ‖ 0x00 ‖ canonical JSON of {committee (sorted), keyId, sessionId, suite, threshold}). */
export function dkgParamsHash(p: DkgParams): string {
  return toHex(sha256(canonicalBytes('glacis/dkg-params/v1', canonicalParams(p))));
}

/**
 * Hex SHA-256(`glacis/dkg-transcript/v1` ‖ 0x00 ‖ canonical JSON of the parameters and
 * `round1`, every member's round-1 body by party id). `round1` must hold one body per member.
 */
export function dkgTranscriptHash(p: DkgParams, round1: ReadonlyMap<string, MessageBody<'dkg_round1'>>): string {
  const packages: Record<string, MessageBody<'dkg_round1'>> = {};
  for (const m of [...p.committee].sort()) {
    const body = round1.get(m);
    if (body === undefined) throw new Error(`dkgTranscriptHash: no round-1 package from ${m}`);
    packages[m] = body;
  }
  return toHex(sha256(canonicalBytes('glacis/dkg-transcript/v1', { ...canonicalParams(p), round1: packages })));
}
