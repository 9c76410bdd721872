/**
 * Canonical JSON, the browser's copy of `packages/protocol/src/canonical.ts` (which the browser
 * cannot import: the protocol package uses node:crypto). Object keys sorted by UTF-16 code unit
 * (`Array.prototype.sort`), no whitespace, strings as `JSON.stringify` writes them, safe integers
 * only, undefined members left out, nesting at most 32 deep. `test/canonical.test.ts` holds it
 * against the protocol's encoder on generated values and real audit events.
 */
import { ConsoleError } from './errors.js';

const MAX_DEPTH = 32;

/** The canonical JSON text of `value`. */
export function canonicalJson(value: unknown): string {
  return encode(value, 0);
}

function encode(v: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new ConsoleError('invalid_encoding', 'value nested too deeply');
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(v)) throw new ConsoleError('invalid_encoding', 'only safe integers have a canonical form');
      return String(v);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x) => encode(x, depth + 1)).join(',')}]`;
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${encode(o[k], depth + 1)}`).join(',')}}`;
    }
    default:
      throw new ConsoleError('invalid_encoding', `no canonical form for ${typeof v}`);
  }
}

const encoder = new TextEncoder();

/** Domain-separated canonical bytes: `domain ‖ 0x00 ‖ canonicalJson(value)`. */
export function canonicalBytes(domain: string, value: unknown): Uint8Array {
  return encoder.encode(`${domain}\u0000${canonicalJson(value)}`);
}
