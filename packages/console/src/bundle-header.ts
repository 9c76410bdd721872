/**
 * What the Air gap page says about a bundle before it moves it (docs/bundles.md, "Format v1"):
 * the header — sender, recipient, sequence, bundle id, creation time, item count — read with the
 * checks that come before any signature (magic, version, declared length, names, checksum), and,
 * when the sender's identity key is pinned in this browser, its Ed25519 signature over
 * `glacis/bundle/v1` ‖ 0x00 ‖ everything before it. The bundle's recipient opens it and checks it
 * all again (`openBundle`); this only tells the person carrying it what they carry.
 * `test/bundle-header.test.ts` holds it against the protocol's `readBundleHeader`.
 */
import { type Subtle, sha256, verifyEd25519 } from './ed25519.js';
import { ConsoleError } from './errors.js';
import { toHex } from './hex.js';

const MAGIC = [0x89, 0x47, 0x4c, 0x42];
const MIN_BYTES = 143;
const MAX_BYTES = 4 * 1024 * 1024;
const TRAILER = 96;
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** The header of a bundle. */
export interface BundleSummary {
  version: number;
  length: number;
  sender: string;
  recipient: string;
  sequence: number;
  bundleId: string;
  createdAt: number;
  itemCount: number;
}

const bad = (why: string): never => {
  throw new ConsoleError('invalid_bundle', `not a bundle: ${why}`);
};

/** Reads the header of `bytes` and checks its checksum. Throws `invalid_bundle`. */
export async function readBundleSummary(subtle: Subtle, bytes: Uint8Array): Promise<BundleSummary> {
  if (bytes.length < 9 || MAGIC.some((b, i) => bytes[i] !== b)) bad('no bundle magic (89 47 4c 42) at the start');
  if (bytes[4] !== 1) bad(`format version ${bytes[4]}, this console reads 1`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(5);
  if (length < MIN_BYTES || length > MAX_BYTES) bad(`declared length ${length} out of range`);
  if (bytes.length < length) bad(`cut off: ${bytes.length} of ${length} bytes`);
  if (bytes.length > length) bad(`${bytes.length - length} bytes after the bundle`);
  let at = 9;
  const name = (label: string): string => {
    const n = bytes[at] as number;
    const text = String.fromCharCode(...bytes.subarray(at + 1, at + 1 + n));
    if (n < 1 || n > 63 || !NAME.test(text)) bad(`${label}: not a party id`);
    at += 1 + n;
    return text;
  };
  const sender = name('sender');
  const recipient = name('recipient');
  if (at + 34 > length - TRAILER) bad('header runs into the trailer');
  const u64 = (o: number) => view.getUint32(o) * 2 ** 32 + view.getUint32(o + 4);
  const sequence = u64(at);
  const bundleId = toHex(bytes.subarray(at + 8, at + 24));
  const createdAt = u64(at + 24);
  const itemCount = view.getUint16(at + 32);
  if (!Number.isSafeInteger(sequence) || !Number.isSafeInteger(createdAt)) bad('a u64 field beyond 2^53');
  if (itemCount < 1 || itemCount > 1000) bad(`${itemCount} items`);
  const checksum = await sha256(subtle, bytes.subarray(0, length - TRAILER));
  if (toHex(checksum) !== toHex(bytes.subarray(length - TRAILER, length - 64)))
    bad('checksum mismatch: the copy is damaged, copy it again');
  return { version: 1, length, sender, recipient, sequence, bundleId, createdAt, itemCount };
}

/** True when the bundle's signature verifies under `identityKey` (the sender's, as pinned). */
export async function bundleSignedBy(subtle: Subtle, bytes: Uint8Array, identityKey: Uint8Array): Promise<boolean> {
  const signedEnd = bytes.length - 64;
  const domain = new TextEncoder().encode('glacis/bundle/v1\u0000');
  const message = new Uint8Array(domain.length + signedEnd);
  message.set(domain);
  message.set(bytes.subarray(0, signedEnd), domain.length);
  return verifyEd25519(subtle, bytes.subarray(signedEnd), message, identityKey);
}
