/**
 * Canonical byte encoding of JSON-like values, for signatures and transcript hashes: object keys
 * sorted by UTF-16 code units, no whitespace, integers only. Two parties that hold equal values get
 * equal bytes, whatever order the keys arrived in (an RFC 8785 subset: Glacis puts no floats on the
 * wire).
 */
import { ProtocolError } from './errors.js';

/** A value that has exactly one canonical encoding. */
export type Canonical = string | number | boolean | null | readonly Canonical[] | { readonly [k: string]: Canonical };

/** The canonical JSON text of `value`. */
export function canonicalJson(value: unknown): string {
  return encode(value, 0);
}

function encode(v: unknown, depth: number): string {
  if (depth > 32) throw new ProtocolError('invalid_encoding', 'value nested too deeply');
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(v)) throw new ProtocolError('invalid_encoding', 'only safe integers have a canonical form');
      return String(v);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x) => encode(x, depth + 1)).join(',')}]`;
      const keys = Object.keys(v as object)
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${encode((v as Record<string, unknown>)[k], depth + 1)}`).join(',')}}`;
    }
    default:
      throw new ProtocolError('invalid_encoding', `no canonical form for ${typeof v}`);
  }
}

const encoder = new TextEncoder();
/** Domain-separated canonical bytes: `domain || 0x00 || canonicalJson(value)`. */
export function canonicalBytes(domain: string, value: unknown): Uint8Array {
  return encoder.encode(`${domain}\u0000${canonicalJson(value)}`);
}
