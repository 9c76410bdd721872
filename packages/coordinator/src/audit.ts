/**
 * The coordinator's audit log is the protocol's hash chain (`nextAuditEvent` / `verifyAuditChain`
 * of @glacis/protocol, the construction the parties' share logs use too):
 *
 *   hash = hex(SHA-256("glacis/audit/v1" ‖ 0x00 ‖ canonicalJson({at, data, prevHash, seq, type})))
 *
 * with the first event's prevHash 64 zeros. What this module adds is the coordinator's side of
 * the boundary: event data comes from anywhere in the coordinator and must always be hashable.
 */
import type { JsonObject, JsonValue } from './store/types.js';

const MAX_DEPTH = 16;

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
