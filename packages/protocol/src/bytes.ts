/** Byte helpers. Inside the code bytes are Uint8Array; hex exists only at the wire boundary. */
import { concatBytes, bytesToHex as nobleBytesToHex, hexToBytes as nobleHexToBytes } from '@noble/hashes/utils.js';
import { ProtocolError } from './errors.js';

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return nobleBytesToHex(bytes);
}

/**
 * Parses lowercase, even-length hex. Rejects upper case too: one value has one wire form, so
 * signatures over JSON and idempotency comparisons cannot be bypassed by re-casing.
 */
export function fromHex(hex: string, label = 'value'): Uint8Array<ArrayBuffer> {
  if (typeof hex !== 'string' || !HEX_RE.test(hex)) {
    throw new ProtocolError('invalid_hex', `${label}: not a lowercase even-length hex string`);
  }
  return nobleHexToBytes(hex) as Uint8Array<ArrayBuffer>;
}

/** True when `hex` is lowercase even-length hex. */
export function isHex(hex: string): boolean {
  return HEX_RE.test(hex);
}

/** Constant-time equality for equal-length inputs (length itself is not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

const encoder = new TextEncoder();
/** UTF-8 bytes of `s`. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export { concatBytes };

/** Source of randomness handed to protocol code (never read from the environment here). */
export type Rng = (bytesLength?: number) => Uint8Array<ArrayBuffer>;
