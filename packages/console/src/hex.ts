/** Lowercase hex, as the API writes bytes. */
import { ConsoleError } from './errors.js';

const HEX = /^(?:[0-9a-f]{2})*$/;

/** True for lowercase, even-length hex (the API's only form). */
export function isHex(s: string, bytes?: number): boolean {
  return HEX.test(s) && (bytes === undefined || s.length === bytes * 2);
}

/** The bytes of lowercase hex; `what` names the value in the error. */
export function fromHex(s: string, what: string): Uint8Array {
  if (!HEX.test(s)) throw new ConsoleError('bad_response', `${what}: expected lowercase even-length hex`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
