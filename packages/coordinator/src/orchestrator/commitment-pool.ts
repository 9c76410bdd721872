/**
 * Preprocessed nonce commitments (RFC 9591 §5.1 allows commitments ahead of the message). The
 * coordinator keeps a few fresh commitments per (key, party), so a request can start its first
 * ROAST session at once and signing needs one round trip instead of two.
 *
 * Only parsed commitments enter: checked (RFC 9591 §3.1 DeserializeElement) once, where the
 * party's `commitments` message arrives (protocol's `parseNonceCommitment`), never again on the way
 * to a session: the pool, ROAST and the session's aggregator all hold the same parsed value.
 *
 * SECURITY: a commitment leaves the pool at most once. `take` hands it out and remembers it;
 * only `giveBack` (a request that ended without putting it into a package) returns it, and `put`
 * refuses a commitment the pool holds or has handed out, so a party that sends one twice cannot
 * get it into two packages. Everything of a party is forgotten when it disconnects (it may have
 * restarted and forgotten the nonces); a give-back after that is refused.
 */
import type { NonceCommitment } from '@glacis/protocol';

export interface CommitmentPool {
  /** Removes and returns `partyId`'s oldest commitment for `keyId`, if any. */
  take(keyId: string, partyId: string): NonceCommitment | undefined;
  /**
   * Adds fresh commitments from the party; returns how many were kept. Commitments the pool holds
   * or has handed out are refused; beyond the capacity (max(8 × target, 64)) the oldest are dropped.
   */
  put(keyId: string, partyId: string, commitments: readonly NonceCommitment[]): number;
  /** Returns a commitment a request ended without using (taken from here, or sent along with a share). */
  giveBack(keyId: string, partyId: string, commitment: NonceCommitment): void;
  /** How many more to ask `partyId` for, given those already asked for; 0 when full enough. */
  deficit(keyId: string, partyId: string): number;
  /** Records that `count` were asked for (so concurrent requests do not all ask). */
  asked(keyId: string, partyId: string, count: number): void;
  /** Records that an ask for `count` was answered (or will never be). */
  answered(keyId: string, partyId: string, count: number): void;
  /** Forgets everything of `partyId`. */
  dropParty(partyId: string): void;
  /** Forgets every commitment of `keyId` (its key switched: the parties discarded those nonces). */
  dropKey(keyId: string): void;
  size(keyId: string, partyId: string): number;
}

export interface CommitmentPoolOptions {
  /** Commitments to keep per (key, party); 0 disables preprocessing (answers to a request's own asks still pass through). */
  target: number;
  /** Refill when this many or fewer are held or asked for. */
  lowWater: number;
}

type Slot = {
  held: NonceCommitment[];
  heldKeys: Set<string>;
  /** Handed out and not given back, oldest first; bounded (see OUT_MEMORY). */
  out: Set<string>;
  outstanding: number;
};

/** Handed-out commitments remembered per slot; far more than a party keeps nonces for its coordinator. */
const OUT_MEMORY = 4096;
const keyOf = (c: NonceCommitment) => `${c.wire.hiding}:${c.wire.binding}`;

export function createCommitmentPool(opts: CommitmentPoolOptions): CommitmentPool {
  const slots = new Map<string, Map<string, Slot>>(); // partyId → keyId → slot
  // Room for every commitment a burst of requests brings back: a request draws one set from each
  // member and returns what it did not use when it ends, so after a burst the pool holds about as
  // many as there were requests in flight. Dropping them (at 2 × target) made the parties compute
  // commitments again at the next burst and the coordinator decode them again — some 40 % of the
  // commitments made per signature in the bench's windows of 64 requests. Far below what a party
  // keeps nonces for (protocol `createSigner`'s maxPending, 4096 per key).
  const capacity = Math.max(8 * opts.target, 64);

  function slot(keyId: string, partyId: string): Slot {
    const byKey = slots.get(partyId) ?? new Map<string, Slot>();
    slots.set(partyId, byKey);
    const s = byKey.get(keyId) ?? { held: [], heldKeys: new Set(), out: new Set(), outstanding: 0 };
    byKey.set(keyId, s);
    return s;
  }

  function hold(s: Slot, c: NonceCommitment): void {
    s.held.push(c);
    s.heldKeys.add(keyOf(c));
    while (s.held.length > capacity) s.heldKeys.delete(keyOf(s.held.shift() as NonceCommitment));
  }

  return {
    take(keyId, partyId) {
      const s = slots.get(partyId)?.get(keyId);
      const c = s?.held.shift();
      if (!s || !c) return undefined;
      const k = keyOf(c);
      s.heldKeys.delete(k);
      s.out.add(k);
      if (s.out.size > OUT_MEMORY) s.out.delete(s.out.values().next().value as string);
      return c;
    },
    put(keyId, partyId, commitments) {
      const s = slot(keyId, partyId);
      let kept = 0;
      for (const c of commitments) {
        const k = keyOf(c);
        if (s.heldKeys.has(k) || s.out.has(k)) continue;
        hold(s, c);
        kept++;
      }
      return kept;
    },
    giveBack(keyId, partyId, c) {
      const s = slots.get(partyId)?.get(keyId);
      const k = keyOf(c);
      // Unknown party or key: dropped since (a disconnect), so the nonce may be gone.
      if (!s || s.heldKeys.has(k)) return;
      s.out.delete(k);
      hold(s, c);
    },
    deficit(keyId, partyId) {
      const s = slots.get(partyId)?.get(keyId);
      const have = (s?.held.length ?? 0) + (s?.outstanding ?? 0);
      return have <= opts.lowWater ? Math.max(0, opts.target - have) : 0;
    },
    asked(keyId, partyId, count) {
      slot(keyId, partyId).outstanding += count;
    },
    answered(keyId, partyId, count) {
      const s = slots.get(partyId)?.get(keyId);
      if (s) s.outstanding = Math.max(0, s.outstanding - count);
    },
    dropParty(partyId) {
      slots.delete(partyId);
    },
    dropKey(keyId) {
      for (const byKey of slots.values()) byKey.delete(keyId);
    },
    size(keyId, partyId) {
      return slots.get(partyId)?.get(keyId)?.held.length ?? 0;
    },
  };
}
