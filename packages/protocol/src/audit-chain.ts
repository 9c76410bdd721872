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

/** A point of a chain: an event's seq and hash. `{seq: 0, hash: GENESIS_HASH}` is the start. */
export interface ChainPoint {
  seq: number;
  hash: string;
}

/** Where every chain starts, before its first event. */
export const CHAIN_START: ChainPoint = Object.freeze({ seq: 0, hash: GENESIS_HASH });

/** SHA-256 over the canonical bytes of everything in the event but its own hash. */
export function auditEventHash(e: Omit<AuditEvent, 'hash'>): string {
  return toHex(
    sha256(canonicalBytes('glacis/audit/v1', { seq: e.seq, at: e.at, type: e.type, data: e.data ?? null, prevHash: e.prevHash })),
  );
}

/** The next event of a chain whose last event is `last` (undefined for an empty chain). */
export function nextAuditEvent(last: ChainPoint | undefined, at: string, type: string, data: unknown): AuditEvent {
  const partial = { seq: last ? last.seq + 1 : 1, at, type, data, prevHash: last ? last.hash : GENESIS_HASH };
  return { ...partial, hash: auditEventHash(partial) };
}

/**
 * The result of a check. `events` counts the events read (up to and including a broken one);
 * `head` and `headSeq` are the last verified event's hash and seq, what to anchor elsewhere or to
 * continue from with the next page.
 */
export type ChainVerdict =
  | { ok: true; events: number; head: string; headSeq: number }
  | { ok: false; events: number; brokenAt: number; reason: string };

/**
 * Checks a run of consecutive events, oldest first. `after` is the event the run continues from:
 * the chain's start by default, or the previous page's head when a long log is read in pages.
 * `brokenAt` is the seq of the first bad event.
 */
export function verifyAuditChain(events: Iterable<AuditEvent>, after: ChainPoint = CHAIN_START): ChainVerdict {
  let prev = after;
  let count = 0;
  for (const e of events) {
    count++;
    const expectedSeq = prev.seq + 1;
    if (e.seq !== expectedSeq)
      return {
        ok: false,
        events: count,
        brokenAt: e.seq,
        reason: `seq ${e.seq} where ${expectedSeq} was expected (event missing or reordered)`,
      };
    if (e.prevHash !== prev.hash)
      return { ok: false, events: count, brokenAt: e.seq, reason: 'prevHash does not match the previous event' };
    if (auditEventHash(e) !== e.hash)
      return { ok: false, events: count, brokenAt: e.seq, reason: 'hash does not match the event (the event was edited)' };
    prev = { seq: e.seq, hash: e.hash };
  }
  return { ok: true, events: count, head: prev.hash, headSeq: prev.seq };
}

/** Checks a chain read in pages, oldest first, holding one page at a time (logs can be long). */
export async function verifyAuditPages(pages: AsyncIterable<readonly AuditEvent[]>): Promise<ChainVerdict> {
  let head = CHAIN_START;
  let events = 0;
  for await (const page of pages) {
    const v = verifyAuditChain(page, head);
    events += v.events;
    if (!v.ok) return { ...v, events };
    head = { seq: v.headSeq, hash: v.head };
  }
  return { ok: true, events, head: head.hash, headSeq: head.seq };
}
