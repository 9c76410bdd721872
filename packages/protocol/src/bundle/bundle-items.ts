/**
 * What a bundle carries. Two item kinds: a signed protocol envelope (any message type, present or
 * future: the type is a string inside the envelope, so a new message type needs no new bundle
 * format) and a receipt for a bundle received. An envelope keeps its own end-to-end signature; the
 * bundle signature only authenticates the carrier, so a coordinator can carry a party's envelopes
 * to an offline peer and the peer still checks each against the party's pinned key.
 */
import { utf8 } from '../bytes.js';
import { canonicalJson } from '../canonical.js';
import { type Envelope, envelopeSchema } from '../wire/messages.js';
import { BundleError } from './bundle-error.js';
import { BUNDLE_ID_BYTES, ByteReader, ByteWriter, CHECKSUM_BYTES, MAX_ITEM_BYTES } from './layout.js';

/** Item kind bytes. A new kind is a new format version: readers refuse kinds they do not know. */
export const ITEM_KINDS = { envelope: 0x01, receipt: 0x02 } as const;
export type BundleItemKind = keyof typeof ITEM_KINDS;

/** "I received and checked bundle `bundleId` (sequence, checksum) from you." */
export interface BundleReceipt {
  /** The acknowledged bundle's id (16 bytes). */
  readonly bundleId: Uint8Array;
  /** The acknowledged bundle's sequence number. */
  readonly sequence: number;
  /** The acknowledged bundle's SHA-256 checksum field (32 bytes), which pins its exact bytes. */
  readonly checksum: Uint8Array;
}

/** One item of a bundle. */
export type BundleItem =
  | { readonly kind: 'envelope'; readonly envelope: Envelope }
  | { readonly kind: 'receipt'; readonly receipt: BundleReceipt };

/** A receipt payload: id, sequence, checksum. */
export const RECEIPT_BYTES = BUNDLE_ID_BYTES + 8 + CHECKSUM_BYTES;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The canonical JSON bytes of an envelope; refuses anything that is not one. */
function envelopePayload(envelope: Envelope): Uint8Array {
  const parsed = envelopeSchema.safeParse(envelope);
  if (!parsed.success) throw new BundleError('bundle_malformed_item', `envelope item: ${parsed.error.issues[0]?.message ?? 'malformed'}`);
  try {
    return utf8(canonicalJson(parsed.data));
  } catch (e) {
    throw new BundleError('bundle_malformed_item', 'envelope item: no canonical encoding', [], { cause: e });
  }
}

/** Kind, length and payload of one item. */
export function encodeItem(item: BundleItem): Uint8Array {
  let kind: number;
  let payload: Uint8Array;
  switch (item.kind) {
    case 'envelope':
      kind = ITEM_KINDS.envelope;
      payload = envelopePayload(item.envelope);
      break;
    case 'receipt': {
      const r = item.receipt;
      if (
        r.bundleId.length !== BUNDLE_ID_BYTES ||
        r.checksum.length !== CHECKSUM_BYTES ||
        !Number.isSafeInteger(r.sequence) ||
        r.sequence < 0
      ) {
        throw new BundleError(
          'bundle_malformed_item',
          'receipt item: 16-byte bundle id, 32-byte checksum and a sequence in [0, 2^53) expected',
        );
      }
      kind = ITEM_KINDS.receipt;
      payload = new ByteWriter().bytes(r.bundleId).u53(r.sequence).bytes(r.checksum).finish();
      break;
    }
    default: {
      const never: never = item;
      throw new BundleError('bundle_malformed_item', `unknown item kind ${(never as { kind: string }).kind}`);
    }
  }
  if (payload.length > MAX_ITEM_BYTES)
    throw new BundleError('bundle_malformed_item', `${item.kind} item: ${payload.length} bytes > ${MAX_ITEM_BYTES}`);
  return new ByteWriter().u8(kind).u32(payload.length).bytes(payload).finish();
}

function decodeEnvelope(payload: Uint8Array, at: string, culprits: readonly string[]): Envelope {
  const fail = (why: string, cause?: unknown): never => {
    throw new BundleError('bundle_malformed_item', `${at}: ${why}`, culprits, { cause });
  };
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(payload));
  } catch (e) {
    return fail('not UTF-8 JSON', e);
  }
  const parsed = envelopeSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(`not an envelope: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
  }
  let canonical: Uint8Array;
  try {
    canonical = utf8(canonicalJson(parsed.data));
  } catch (e) {
    return fail('no canonical encoding', e);
  }
  // One envelope has one encoding in a bundle, so the bytes an auditor hashes are the bytes signed.
  if (canonical.length !== payload.length || !canonical.every((b, i) => b === payload[i])) fail('not in canonical JSON form');
  return parsed.data;
}

/**
 * Decodes exactly `count` items filling `reader` to its end. The bundle signature has verified, so
 * any defect here is the sender's: it is named in `culprits`.
 */
export function decodeItems(reader: ByteReader, count: number, sender: string): BundleItem[] {
  const items: BundleItem[] = [];
  for (let i = 0; i < count; i++) {
    const at = `item ${i}`;
    const kind = reader.u8(`${at} kind`);
    const length = reader.u32(`${at} length`);
    if (length > MAX_ITEM_BYTES) throw new BundleError('bundle_malformed_item', `${at}: ${length} bytes > ${MAX_ITEM_BYTES}`, [sender]);
    const payload = reader.bytes(length, `${at} payload`);
    if (kind === ITEM_KINDS.envelope) {
      items.push({ kind: 'envelope', envelope: decodeEnvelope(payload, at, [sender]) });
    } else if (kind === ITEM_KINDS.receipt) {
      if (length !== RECEIPT_BYTES)
        throw new BundleError('bundle_malformed_item', `${at}: receipt of ${length} bytes, expected ${RECEIPT_BYTES}`, [sender]);
      const r = new ByteReader(payload, 0, payload.length, 'bundle_malformed_item', [sender]);
      items.push({
        kind: 'receipt',
        receipt: {
          bundleId: r.bytes(BUNDLE_ID_BYTES, 'bundle id'),
          sequence: r.u53(`${at} sequence`),
          checksum: r.bytes(CHECKSUM_BYTES, 'checksum'),
        },
      });
    } else {
      throw new BundleError('bundle_malformed_item', `${at}: unknown kind 0x${kind.toString(16).padStart(2, '0')}`, [sender]);
    }
  }
  if (reader.remaining !== 0) {
    throw new BundleError('bundle_malformed_item', `${reader.remaining} bytes after the last of ${count} items`, [sender]);
  }
  return items;
}
