/**
 * Preprocessed nonce commitments (RFC 9591 §5.1 allows commitments ahead of the message). The
 * coordinator keeps a few fresh commitments per (key, party), so a request can start its first
 * ROAST session at once and signing needs one round trip instead of two. Entries are parsed
 * (`parseNonceCommitment`, when the party's `commitments` message arrived): a request uses them
 * as they are, without decoding them again.
 *
 * SECURITY: a commitment leaves the pool at most once (take() removes it). Commitments a request
 * took but never put into a signing package go back; any that was sent in a package never does.
 * A party's entries are dropped when it disconnects (it may have restarted and forgotten them).
 */
import type { NonceCommitment } from '@glacis/protocol';

export interface CommitmentPool {
  /** Removes and returns one commitment of `partyId` for `keyId`, if any. */
  take(keyId: string, partyId: string): NonceCommitment | undefined;
  /** Adds commitments (fresh from the party, or never used by a request). */
  put(keyId: string, partyId: string, commitments: readonly NonceCommitment[]): void;
  /** How many more to ask `partyId` for, given those already asked for; 0 when full enough. */
  deficit(keyId: string, partyId: string): number;
  /** Records that `count` were asked for (so concurrent requests do not all ask). */
  asked(keyId: string, partyId: string, count: number): void;
  /** Forgets everything of `partyId`. */
  dropParty(partyId: string): void;
  size(keyId: string, partyId: string): number;
}

export function createCommitmentPool(opts: { target: number; lowWater: number }): CommitmentPool {
  const entries = new Map<string, NonceCommitment[]>();
  const outstanding = new Map<string, number>();
  const k = (keyId: string, partyId: string) => `${keyId}\u0000${partyId}`;

  return {
    take(keyId, partyId) {
      return entries.get(k(keyId, partyId))?.shift();
    },
    put(keyId, partyId, commitments) {
      const key = k(keyId, partyId);
      const q = entries.get(key) ?? [];
      q.push(...commitments);
      // Never hold more than the party keeps nonces for (it bounds its own pool).
      if (q.length > opts.target * 2) q.splice(0, q.length - opts.target * 2);
      entries.set(key, q);
      outstanding.set(key, Math.max(0, (outstanding.get(key) ?? 0) - commitments.length));
    },
    deficit(keyId, partyId) {
      const key = k(keyId, partyId);
      const have = (entries.get(key)?.length ?? 0) + (outstanding.get(key) ?? 0);
      return have <= opts.lowWater ? opts.target - have : 0;
    },
    asked(keyId, partyId, count) {
      const key = k(keyId, partyId);
      outstanding.set(key, (outstanding.get(key) ?? 0) + count);
    },
    dropParty(partyId) {
      for (const key of [...entries.keys()]) if (key.endsWith(`\u0000${partyId}`)) entries.delete(key);
      for (const key of [...outstanding.keys()]) if (key.endsWith(`\u0000${partyId}`)) outstanding.delete(key);
    },
    size(keyId, partyId) {
      return entries.get(k(keyId, partyId))?.length ?? 0;
    },
  };
}
