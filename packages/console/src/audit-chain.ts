/**
 * The coordinator's audit chain, checked in the browser: each event's hash is
 * SHA-256("glacis/audit/v1" ‖ 0x00 ‖ canonical JSON of {at, data, prevHash, seq, type}) and each
 * prevHash the previous event's hash (64 zeros first), as `packages/protocol/src/audit-chain.ts`
 * builds it. Same verdicts and wording as the protocol's verifyAuditChain, so the console and
 * `glacis audit verify` name the same first broken event; anchors are heads the user recorded earlier
 * (`SEQ:HASH`, `glacis audit verify --anchor`) that must still be in the chain.
 */
import type { AuditEvent } from './api-types.js';
import { canonicalBytes } from './canonical.js';
import { type Subtle, sha256 } from './ed25519.js';
import { ConsoleError } from './errors.js';
import { toHex } from './hex.js';

/** The `prevHash` of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** A point of a chain: an event's seq and hash. */
export interface ChainPoint {
  seq: number;
  hash: string;
}

/** Where every chain starts. */
export const CHAIN_START: ChainPoint = Object.freeze({ seq: 0, hash: GENESIS_HASH });

/** The protocol's ChainVerdict. */
export type ChainVerdict =
  | { ok: true; events: number; head: string; headSeq: number }
  | { ok: false; events: number; brokenAt: number; reason: string };

/** The hash an event must carry. */
export async function auditEventHash(subtle: Subtle, e: Omit<AuditEvent, 'hash'>): Promise<string> {
  const bytes = canonicalBytes('glacis/audit/v1', { seq: e.seq, at: e.at, type: e.type, data: e.data ?? null, prevHash: e.prevHash });
  return toHex(await sha256(subtle, bytes));
}

/** Checks consecutive events, oldest first, continuing from `after`. `brokenAt` is the first bad event's seq. */
export async function verifyAuditChain(
  subtle: Subtle,
  events: Iterable<AuditEvent>,
  after: ChainPoint = CHAIN_START,
): Promise<ChainVerdict> {
  let prev = after;
  let count = 0;
  for (const e of events) {
    count++;
    const expectedSeq = prev.seq + 1;
    if (e.seq !== expectedSeq) {
      return {
        ok: false,
        events: count,
        brokenAt: e.seq,
        reason: `seq ${e.seq} where ${expectedSeq} was expected (event missing or reordered)`,
      };
    }
    if (e.prevHash !== prev.hash)
      return { ok: false, events: count, brokenAt: e.seq, reason: 'prevHash does not match the previous event' };
    let hash: string;
    try {
      hash = await auditEventHash(subtle, e);
    } catch (err) {
      if (!(err instanceof ConsoleError)) throw err;
      return { ok: false, events: count, brokenAt: e.seq, reason: `the event has no canonical form (${err.message})` };
    }
    if (hash !== e.hash)
      return { ok: false, events: count, brokenAt: e.seq, reason: 'hash does not match the event (the event was edited)' };
    prev = { seq: e.seq, hash: e.hash };
  }
  return { ok: true, events: count, head: prev.hash, headSeq: prev.seq };
}

/** `SEQ:HASH`, as `glacis audit verify --anchor` takes it. Throws `invalid_anchor`. */
export function parseAnchor(text: string): ChainPoint {
  const m = /^([1-9]\d{0,14}):([0-9a-f]{64})$/.exec(text.trim());
  if (m === null) throw new ConsoleError('invalid_anchor', 'an anchor is SEQ:HASH (a positive seq, a colon, 64 lowercase hex characters)');
  return { seq: Number(m[1]), hash: m[2] as string };
}

/**
 * A verified chain's verdict once the anchors are checked: the first anchor whose event is gone or
 * has another hash breaks it (the messages of packages/client/src/audit-log.ts).
 */
export function checkAnchors(
  verdict: ChainVerdict,
  hashAt: (seq: number) => string | undefined,
  anchors: readonly ChainPoint[],
): ChainVerdict {
  if (!verdict.ok) return verdict;
  for (const a of [...anchors].sort((x, y) => x.seq - y.seq)) {
    const hash = hashAt(a.seq);
    if (hash === undefined) {
      return {
        ok: false,
        events: verdict.events,
        brokenAt: a.seq,
        reason: `the log ends at seq ${verdict.headSeq}, before the anchor at ${a.seq}`,
      };
    }
    if (hash !== a.hash) {
      return { ok: false, events: verdict.events, brokenAt: a.seq, reason: `event ${a.seq} has hash ${hash}, not the anchored ${a.hash}` };
    }
  }
  return verdict;
}
