/** Building a bundle: header, items, SHA-256 checksum, the sender's Ed25519 signature. */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, type Rng, utf8 } from '../bytes.js';
import type { IdentityKey } from '../identity.js';
import { BundleError } from './bundle-error.js';
import type { BundleAddress } from './bundle-header.js';
import { writeHeaderFields } from './bundle-header.js';
import { type BundleItem, encodeItem } from './bundle-items.js';
import {
  BUNDLE_ID_BYTES,
  BUNDLE_MAGIC,
  BUNDLE_SIGNATURE_DOMAIN,
  BUNDLE_VERSION,
  ByteWriter,
  MAX_BUNDLE_BYTES,
  MAX_BUNDLE_ITEMS,
  PREAMBLE_BYTES,
  TRAILER_BYTES,
} from './layout.js';

/** What goes in a bundle. */
export interface BundleDraft extends BundleAddress {
  /** 1 to MAX_BUNDLE_ITEMS items, kept in this order. */
  readonly items: readonly BundleItem[];
}

/** Who signs it. */
export interface BundleSender {
  readonly name: string;
  readonly identity: IdentityKey;
}

/** The exact bytes a bundle signature covers: domain, a zero byte, then everything before the signature. */
export function bundleSigningBytes(signed: Uint8Array): Uint8Array {
  return concatBytes(utf8(BUNDLE_SIGNATURE_DOMAIN), Uint8Array.of(0), signed);
}

/**
 * Seals `draft` as `sender`. `rng` supplies the 16-byte bundle id. Throws a BundleError (the code
 * the reader would give) for anything the reader would refuse, so what is sealed always opens.
 */
export function sealBundle(draft: BundleDraft, sender: BundleSender, rng: Rng): Uint8Array {
  if (draft.items.length < 1 || draft.items.length > MAX_BUNDLE_ITEMS) {
    throw new BundleError('bundle_malformed_header', `a bundle carries 1 to ${MAX_BUNDLE_ITEMS} items, not ${draft.items.length}`);
  }
  const body = new ByteWriter();
  writeHeaderFields(body, {
    sender: sender.name,
    recipient: draft.recipient,
    sequence: draft.sequence,
    bundleId: rng(BUNDLE_ID_BYTES),
    createdAt: draft.createdAt,
    itemCount: draft.items.length,
  });
  for (const item of draft.items) {
    body.bytes(encodeItem(item));
    if (PREAMBLE_BYTES + body.length + TRAILER_BYTES > MAX_BUNDLE_BYTES) {
      throw new BundleError('bundle_too_large', `bundle exceeds ${MAX_BUNDLE_BYTES} bytes; split the items over several bundles`);
    }
  }
  const length = PREAMBLE_BYTES + body.length + TRAILER_BYTES;
  const checked = new ByteWriter().bytes(BUNDLE_MAGIC).u8(BUNDLE_VERSION).u32(length).bytes(body.finish()).finish();
  const signed = concatBytes(checked, sha256(checked));
  return concatBytes(signed, sender.identity.sign(bundleSigningBytes(signed)));
}
