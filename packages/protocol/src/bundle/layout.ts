/**
 * The fixed facts of bundle format v1 (docs/bundles.md draws them byte by byte) and the two
 * primitives every field goes through: a bounds-checked big-endian reader and a writer. All
 * integers are unsigned big-endian; 64-bit fields must stay below 2^53 so they are exact numbers.
 */
import { concatBytes } from '../bytes.js';
import { BundleError, type BundleErrorCode } from './bundle-error.js';

/**
 * `89 47 4C 42`, "\x89GLB". The high first byte (PNG's trick) makes a 7-bit or text-mode transfer
 * that mangles the file fail on the first byte instead of deep inside.
 */
export const BUNDLE_MAGIC: Uint8Array = Uint8Array.of(0x89, 0x47, 0x4c, 0x42);
/** The only format version this code reads and writes. */
export const BUNDLE_VERSION = 1;
/** Prefix of the bytes the sender signs, so a bundle signature can never pass for an envelope's or a handshake's. */
export const BUNDLE_SIGNATURE_DOMAIN = 'glacis/bundle/v1';

/** Whole bundle, header to signature. Files and QR transfers are bounded by it too. */
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;
/** Items in one bundle: a batch of a hundred signing requests fits ten times over. */
export const MAX_BUNDLE_ITEMS = 1000;
/** One item's payload. */
export const MAX_ITEM_BYTES = 1024 * 1024;

export const BUNDLE_ID_BYTES = 16;
export const CHECKSUM_BYTES = 32;
export const SIGNATURE_BYTES = 64;
/** Checksum then signature, after the items. */
export const TRAILER_BYTES = CHECKSUM_BYTES + SIGNATURE_BYTES;
/** Magic, version, total length: what must be read before anything else can be located. */
export const PREAMBLE_BYTES = BUNDLE_MAGIC.length + 1 + 4;
/** Header after the preamble without its two names: name lengths, sequence, id, time, item count. */
const FIXED_HEADER_BYTES = 1 + 1 + 8 + BUNDLE_ID_BYTES + 8 + 2;
/** The smallest declared length that can hold a header (one-character names) and the trailer. */
export const MIN_BUNDLE_BYTES = PREAMBLE_BYTES + FIXED_HEADER_BYTES + 2 + TRAILER_BYTES;
/** Item header: kind (1) and payload length (4). */
export const ITEM_HEADER_BYTES = 5;

/** Reads fields from `bytes[start, end)`; running past `end` throws a BundleError with `code`. */
export class ByteReader {
  private readonly view: DataView;
  pos: number;

  constructor(
    private readonly src: Uint8Array,
    start: number,
    readonly end: number,
    private readonly code: BundleErrorCode,
    private readonly culprits: readonly string[] = [],
  ) {
    this.view = new DataView(src.buffer, src.byteOffset, src.byteLength);
    this.pos = start;
  }

  /** Bytes left before `end`. */
  get remaining(): number {
    return this.end - this.pos;
  }

  private take(n: number, label: string): number {
    if (n > this.remaining) {
      throw new BundleError(this.code, `${label}: needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`, this.culprits);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(label: string): number {
    return this.view.getUint8(this.take(1, label));
  }

  u16(label: string): number {
    return this.view.getUint16(this.take(2, label));
  }

  u32(label: string): number {
    return this.view.getUint32(this.take(4, label));
  }

  /** A u64 that must be an exact JS number (< 2^53). */
  u53(label: string): number {
    const v = this.view.getBigUint64(this.take(8, label));
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new BundleError(this.code, `${label}: ${v} exceeds 2^53 - 1`, this.culprits);
    return Number(v);
  }

  bytes(n: number, label: string): Uint8Array {
    const at = this.take(n, label);
    return this.src.slice(at, at + n);
  }
}

/** Appends big-endian fields; `finish` returns them as one array. */
export class ByteWriter {
  private readonly parts: Uint8Array[] = [];
  length = 0;

  private push(b: Uint8Array): this {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  private fixed(n: number, set: (v: DataView) => void): this {
    const b = new Uint8Array(n);
    set(new DataView(b.buffer));
    return this.push(b);
  }

  u8(v: number): this {
    return this.fixed(1, (d) => d.setUint8(0, v));
  }

  u16(v: number): this {
    return this.fixed(2, (d) => d.setUint16(0, v));
  }

  u32(v: number): this {
    return this.fixed(4, (d) => d.setUint32(0, v));
  }

  u53(v: number): this {
    return this.fixed(8, (d) => d.setBigUint64(0, BigInt(v)));
  }

  bytes(b: Uint8Array): this {
    return this.push(b);
  }

  finish(): Uint8Array {
    return concatBytes(...this.parts);
  }
}
