/**
 * Reading a bundle. The checks run in a deliberate order, cheapest and least trusting first, and
 * each defect has its own code (docs/bundles.md, "Checks"):
 *
 *   size → magic → version → declared length → truncated / trailing → checksum → header fields
 *   → sender known → signature → recipient → items → replay
 *
 * Nothing past the checksum is parsed from bytes that may be accidentally damaged, nothing past the
 * signature from bytes the sender did not sign, and the sender is named as culprit only for
 * defects under its verified signature. The replay check comes last so that a broken bundle never
 * tells its prober whether its sequence was fresh.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes } from '../bytes.js';
import { verifyIdentitySignature } from '../identity.js';
import { BundleError } from './bundle-error.js';
import { type BundleHeader, readHeaderFields } from './bundle-header.js';
import { type BundleItem, type BundleReceipt, decodeItems } from './bundle-items.js';
import type { BundleLedger } from './bundle-ledger.js';
import {
  BUNDLE_MAGIC,
  BUNDLE_VERSION,
  ByteReader,
  CHECKSUM_BYTES,
  MAX_BUNDLE_BYTES,
  MIN_BUNDLE_BYTES,
  PREAMBLE_BYTES,
  SIGNATURE_BYTES,
  TRAILER_BYTES,
} from './layout.js';
import { bundleSigningBytes } from './seal-bundle.js';

/** An authenticated bundle: its header and its items, in the sender's order. */
export interface OpenedBundle extends BundleHeader {
  readonly items: readonly BundleItem[];
}

/** How the recipient authenticates bundles. */
export interface OpenBundleOptions {
  /** The recipient's own name; the bundle's recipient must be exactly it. */
  readonly self: string;
  /** The pinned identity key of a sender, or undefined for a stranger. */
  readonly keyOf: (name: string) => Uint8Array | undefined;
  /** What this recipient accepted before. */
  readonly ledger: BundleLedger;
}

interface Framed {
  header: BundleHeader;
  itemsStart: number;
}

/** Preamble, length and checksum checks, then the header fields. */
function frame(bytes: Uint8Array): Framed {
  const len = bytes.length;
  if (len > MAX_BUNDLE_BYTES) throw new BundleError('bundle_too_large', `${len} bytes > ${MAX_BUNDLE_BYTES}`);
  for (let i = 0; i < BUNDLE_MAGIC.length && i < len; i++) {
    if (bytes[i] !== BUNDLE_MAGIC[i]) throw new BundleError('bundle_bad_magic', 'not a Glacis bundle (magic is 89 47 4c 42)');
  }
  const pre = new ByteReader(bytes, 0, len, 'bundle_truncated');
  pre.bytes(BUNDLE_MAGIC.length, 'magic');
  const version = pre.u8('version');
  if (version !== BUNDLE_VERSION)
    throw new BundleError('bundle_unsupported_version', `format version ${version} is not supported (expected ${BUNDLE_VERSION})`);
  const declared = pre.u32('total length');
  if (declared > MAX_BUNDLE_BYTES) throw new BundleError('bundle_too_large', `declared length ${declared} > ${MAX_BUNDLE_BYTES}`);
  if (declared < MIN_BUNDLE_BYTES)
    throw new BundleError('bundle_malformed_header', `declared length ${declared} < the minimum ${MIN_BUNDLE_BYTES}`);
  if (len < declared) throw new BundleError('bundle_truncated', `${len} of ${declared} bytes`);
  if (len > declared) throw new BundleError('bundle_trailing_bytes', `${len - declared} bytes after the declared ${declared}`);
  const checkedEnd = len - TRAILER_BYTES;
  const checksum = bytes.slice(checkedEnd, checkedEnd + CHECKSUM_BYTES);
  if (!equalBytes(sha256(bytes.subarray(0, checkedEnd)), checksum)) {
    throw new BundleError('bundle_bad_checksum', 'SHA-256 checksum does not match: the bundle was damaged in transit');
  }
  const r = new ByteReader(bytes, PREAMBLE_BYTES, checkedEnd, 'bundle_malformed_header');
  const fields = readHeaderFields(r);
  return { header: { version, ...fields, length: len, checksum }, itemsStart: r.pos };
}

/**
 * The header of a bundle whose framing and checksum are sound, WITHOUT authenticating it: for
 * naming files, routing and showing an operator what arrived. Trust nothing in it until
 * `openBundle` succeeded.
 */
export function readBundleHeader(bytes: Uint8Array): BundleHeader {
  return frame(bytes).header;
}

/** Parses and authenticates one bundle. Every failure is a BundleError with its code. */
export function openBundle(bytes: Uint8Array, opts: OpenBundleOptions): OpenedBundle {
  const { header, itemsStart } = frame(bytes);
  const key = opts.keyOf(header.sender);
  if (key === undefined) throw new BundleError('bundle_unknown_sender', `bundle from unknown sender "${header.sender}"`);
  const signedEnd = bytes.length - SIGNATURE_BYTES;
  if (!verifyIdentitySignature(bytes.subarray(signedEnd), bundleSigningBytes(bytes.subarray(0, signedEnd)), key)) {
    throw new BundleError('bundle_bad_signature', `bundle from ${header.sender}: signature does not verify`);
  }
  if (header.recipient !== opts.self)
    throw new BundleError('bundle_wrong_recipient', `bundle for ${header.recipient} delivered to ${opts.self}`);
  const itemReader = new ByteReader(bytes, itemsStart, bytes.length - TRAILER_BYTES, 'bundle_malformed_item', [header.sender]);
  const items = decodeItems(itemReader, header.itemCount, header.sender);
  const last = opts.ledger.lastSequence(header.sender);
  if (last !== undefined && header.sequence <= last) {
    throw new BundleError('bundle_replayed', `bundle ${header.sequence} from ${header.sender}: already past it (last accepted ${last})`);
  }
  return { ...header, items };
}

/** The receipt item acknowledging `bundle`. */
export function receiptFor(bundle: BundleHeader): BundleReceipt {
  return { bundleId: bundle.bundleId, sequence: bundle.sequence, checksum: bundle.checksum };
}
