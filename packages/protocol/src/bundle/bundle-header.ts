/**
 * The bundle header: who sends, to whom, which bundle of their conversation, when, how many items.
 * Names are party ids (the coordinator's name is one too), so they are short printable ASCII and
 * one byte is one character: an auditor reads them straight from the hex.
 */
import { partyIdSchema } from '../wire/primitives.js';
import { BundleError } from './bundle-error.js';
import { BUNDLE_ID_BYTES, type ByteReader, type ByteWriter, MAX_BUNDLE_ITEMS } from './layout.js';

/** The header fields a sender chooses (its own name aside). */
export interface BundleAddress {
  /** The one party (or the coordinator) this bundle is for. */
  readonly recipient: string;
  /**
   * Strictly increasing per (sender, recipient); gaps are allowed. The recipient refuses any
   * sequence at or below the last it accepted from this sender (`bundle_replayed`).
   */
  readonly sequence: number;
  /** Creation time, ms since the Unix epoch, as the sender's clock saw it (informative: air-gapped clocks drift). */
  readonly createdAt: number;
}

/** Everything the header says, plus the frame facts `readBundleHeader` derived. */
export interface BundleHeader extends BundleAddress {
  readonly version: number;
  readonly sender: string;
  /** 16 random bytes naming this bundle in receipts and logs. */
  readonly bundleId: Uint8Array;
  readonly itemCount: number;
  /** Total length in bytes, as declared and as received. */
  readonly length: number;
  /** The SHA-256 checksum field (it verified). */
  readonly checksum: Uint8Array;
}

/** The header fields after the preamble, in wire order. */
export interface HeaderFields extends BundleAddress {
  readonly sender: string;
  readonly bundleId: Uint8Array;
  readonly itemCount: number;
}

function checkName(name: string, label: string): void {
  if (!partyIdSchema.safeParse(name).success)
    throw new BundleError('bundle_malformed_header', `${label}: not a party id (${JSON.stringify(name.slice(0, 64))})`);
}

function checkCounter(v: number, label: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new BundleError('bundle_malformed_header', `${label}: expected an integer in [0, 2^53)`);
}

/** Writes the header fields; refuses values the reader would refuse. */
export function writeHeaderFields(w: ByteWriter, h: HeaderFields): void {
  checkName(h.sender, 'sender');
  checkName(h.recipient, 'recipient');
  checkCounter(h.sequence, 'sequence');
  checkCounter(h.createdAt, 'createdAt');
  if (h.bundleId.length !== BUNDLE_ID_BYTES)
    throw new BundleError('bundle_malformed_header', `bundle id: expected ${BUNDLE_ID_BYTES} bytes`);
  if (!Number.isInteger(h.itemCount) || h.itemCount < 1 || h.itemCount > MAX_BUNDLE_ITEMS) {
    throw new BundleError('bundle_malformed_header', `item count ${h.itemCount}: expected 1 to ${MAX_BUNDLE_ITEMS}`);
  }
  // Names are ASCII (checked above), so their UTF-16 code units are their bytes.
  w.u8(h.sender.length).bytes(Uint8Array.from(h.sender, (c) => c.charCodeAt(0)));
  w.u8(h.recipient.length).bytes(Uint8Array.from(h.recipient, (c) => c.charCodeAt(0)));
  w.u53(h.sequence).bytes(h.bundleId).u53(h.createdAt).u16(h.itemCount);
}

function readName(r: ByteReader, label: string): string {
  const n = r.u8(`${label} length`);
  const name = String.fromCharCode(...r.bytes(n, label));
  if (!partyIdSchema.safeParse(name).success)
    throw new BundleError('bundle_malformed_header', `${label}: not a party id (1-63 chars of a-z 0-9 . _ -)`);
  return name;
}

/** Reads the header fields (the reader's code is `bundle_malformed_header`). */
export function readHeaderFields(r: ByteReader): HeaderFields {
  const sender = readName(r, 'sender');
  const recipient = readName(r, 'recipient');
  const sequence = r.u53('sequence');
  const bundleId = r.bytes(BUNDLE_ID_BYTES, 'bundle id');
  const createdAt = r.u53('created at');
  const itemCount = r.u16('item count');
  if (itemCount < 1 || itemCount > MAX_BUNDLE_ITEMS) {
    throw new BundleError('bundle_malformed_header', `item count ${itemCount}: expected 1 to ${MAX_BUNDLE_ITEMS}`);
  }
  return { sender, recipient, sequence, bundleId, createdAt, itemCount };
}
