/**
 * The coordinator's audit log over the protocol's hash chain (the same construction the parties'
 * share logs use; see @glacis/protocol audit-chain):
 *
 *   hash = hex(SHA-256("glacis/audit/v1" ‖ 0x00 ‖ canonicalJson({at, data, prevHash, seq, type})))
 *
 * with the first event's prevHash 64 zeros. Anyone holding an exported log can recompute it with
 * verifyAuditChain; editing, inserting or deleting any row breaks every later link.
 */
import { auditEventHash, GENESIS_HASH } from '@glacis/protocol';
import type { AuditEvent, JsonObject, JsonValue } from './store/types.js';

export { GENESIS_HASH };

const MAX_DEPTH = 16;

/** The hash of an event from its fields (everything but `hash`). */
export function auditHash(e: Omit<AuditEvent, 'hash'>): string {
  return auditEventHash(e);
}

/**
 * Turns arbitrary data into the JSON the chain can hash: drops undefined and functions, renders
 * Dates, bigints and non-integer numbers as strings (canonical JSON has integers only) and cuts
 * nesting below 16 levels. The audit log must never refuse an event because of its payload.
 */
export function normalizeAuditData(data: Record<string, unknown>): JsonObject {
  const out = normalize(data, 0);
  return out !== null && typeof out === 'object' && !Array.isArray(out) ? out : { value: out };
}

function normalize(v: unknown, depth: number): JsonValue {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isSafeInteger(v) ? v : String(v);
    case 'bigint':
      return v.toString();
    case 'object': {
      if (depth >= MAX_DEPTH) return '[nested too deeply]';
      if (v instanceof Date) return v.toISOString();
      if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
      if (Array.isArray(v)) return v.map((x) => normalize(x, depth + 1));
      const o: JsonObject = {};
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
        o[k] = normalize(x, depth + 1);
      }
      return o;
    }
    default:
      return null;
  }
}

/** Where a chain breaks: the first event that does not verify and why. */
export type AuditChainResult =
  | { ok: true; count: number; lastHash: string }
  | { ok: false; seq: number; reason: 'seq_gap' | 'prev_hash_mismatch' | 'hash_mismatch' };

/**
 * Verifies a run of consecutive events, oldest first. `prevHash` is the hash the first event must
 * follow (GENESIS_HASH for a log read from its start; the last hash of the previous page otherwise).
 */
export function verifyAuditChain(events: readonly AuditEvent[], prevHash: string = GENESIS_HASH): AuditChainResult {
  let expectedPrev = prevHash;
  let expectedSeq: number | undefined;
  for (const e of events) {
    if (expectedSeq !== undefined && e.seq !== expectedSeq) return { ok: false, seq: e.seq, reason: 'seq_gap' };
    if (e.prevHash !== expectedPrev) return { ok: false, seq: e.seq, reason: 'prev_hash_mismatch' };
    if (auditHash(e) !== e.hash) return { ok: false, seq: e.seq, reason: 'hash_mismatch' };
    expectedPrev = e.hash;
    expectedSeq = e.seq + 1;
  }
  return { ok: true, count: events.length, lastHash: expectedPrev };
}
