/**
 * Append-only, hash-chained audit logs (the coordinator's and each party's). Every event's hash
 * covers the previous event's hash, so editing, removing or reordering any event breaks every
 * link after it, and `verifyAuditChain` names the first broken one.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from './bytes.js';
import { canonicalBytes } from './canonical.js';

/** The `prevHash` of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEvent {
  seq: number;
  /** RFC 3339 time. */
  at: string;
  type: string;
  data: unknown;
  prevHash: string;
  hash: string;
}

/** SHA-256 over the canonical bytes of everything in the event but its own hash. */
export function auditEventHash(e: Omit<AuditEvent, 'hash'>): string {
  return toHex(
    sha256(canonicalBytes('glacis/audit/v1', { seq: e.seq, at: e.at, type: e.type, data: e.data ?? null, prevHash: e.prevHash })),
  );
}

/** The next event of a chain whose last event is `last` (undefined for an empty chain). */
export function nextAuditEvent(last: Pick<AuditEvent, 'seq' | 'hash'> | undefined, at: string, type: string, data: unknown): AuditEvent {
  const partial = { seq: last ? last.seq + 1 : 1, at, type, data, prevHash: last ? last.hash : GENESIS_HASH };
  return { ...partial, hash: auditEventHash(partial) };
}

export type ChainVerdict = { ok: true; events: number; head: string } | { ok: false; events: number; brokenAt: number; reason: string };

/** Checks a whole chain, oldest first. `brokenAt` is the seq of the first bad event. */
export function verifyAuditChain(events: Iterable<AuditEvent>): ChainVerdict {
  let prev: AuditEvent | undefined;
  let count = 0;
  for (const e of events) {
    count++;
    const expectedSeq = prev ? prev.seq + 1 : 1;
    const expectedPrev = prev ? prev.hash : GENESIS_HASH;
    if (e.seq !== expectedSeq)
      return {
        ok: false,
        events: count,
        brokenAt: e.seq,
        reason: `seq ${e.seq} where ${expectedSeq} was expected (event missing or reordered)`,
      };
    if (e.prevHash !== expectedPrev)
      return { ok: false, events: count, brokenAt: e.seq, reason: 'prevHash does not match the previous event' };
    if (auditEventHash(e) !== e.hash)
      return { ok: false, events: count, brokenAt: e.seq, reason: 'hash does not match the event (the event was edited)' };
    prev = e;
  }
  return { ok: true, events: count, head: prev ? prev.hash : GENESIS_HASH };
}
