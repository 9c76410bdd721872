/**
 * A bundle laid out field by field, for auditors and for docs/bundles.md: where each field starts,
 * its bytes, and what they say. It checks framing and checksum (`readBundleHeader`) but NOT the
 * signature: it shows what a bundle claims, for a person to check by hand.
 */
import { toHex } from '../bytes.js';
import { BundleError } from './bundle-error.js';
import { ITEM_KINDS } from './bundle-items.js';
import { BUNDLE_ID_BYTES, ByteReader, CHECKSUM_BYTES, SIGNATURE_BYTES } from './layout.js';
import { readBundleHeader } from './open-bundle.js';

/** One field of a bundle. */
export interface BundleField {
  readonly offset: number;
  readonly bytes: Uint8Array;
  /** Field name as docs/bundles.md uses it. */
  readonly name: string;
  /** What the bytes mean, in words. */
  readonly meaning: string;
}

const KIND_NAMES = new Map<number, string>(Object.entries(ITEM_KINDS).map(([k, v]) => [v, k]));

/** The fields of a well-framed bundle, in order, covering every byte once. */
export function describeBundle(bytes: Uint8Array): BundleField[] {
  const h = readBundleHeader(bytes);
  const out: BundleField[] = [];
  const r = new ByteReader(bytes, 0, bytes.length, 'bundle_malformed_item');
  const field = (n: number, name: string, meaning: (b: Uint8Array) => string): Uint8Array => {
    const offset = r.pos;
    const b = r.bytes(n, name);
    out.push({ offset, bytes: b, name, meaning: meaning(b) });
    return b;
  };
  const uint = (b: Uint8Array) => b.reduce((acc, x) => acc * 256 + x, 0);
  const int = (b: Uint8Array) => String(uint(b));
  const ascii = (b: Uint8Array) => JSON.stringify(String.fromCharCode(...b));

  field(4, 'magic', () => '"\\x89GLB"');
  field(1, 'version', int);
  field(4, 'total length', (b) => `${int(b)} bytes`);
  for (const who of ['sender', 'recipient'] as const) {
    field(1, `${who} length`, int);
    field(h[who].length, who, ascii);
  }
  field(8, 'sequence', int);
  field(BUNDLE_ID_BYTES, 'bundle id', toHex);
  // ECMAScript dates end at 8.64e15 ms; the field goes to 2^53 - 1.
  field(8, 'created at', (b) => `${int(b)} ms${uint(b) <= 8.64e15 ? ` = ${new Date(uint(b)).toISOString()}` : ''}`);
  field(2, 'item count', int);
  for (let i = 0; i < h.itemCount; i++) {
    const kind = uint(field(1, `item ${i} kind`, (b) => `0x${toHex(b)} ${KIND_NAMES.get(uint(b)) ?? 'unknown'}`));
    const n = uint(field(4, `item ${i} length`, (b) => `${int(b)} bytes`));
    if (kind === ITEM_KINDS.receipt && n === BUNDLE_ID_BYTES + 8 + CHECKSUM_BYTES) {
      field(BUNDLE_ID_BYTES, `item ${i} receipt: bundle id`, toHex);
      field(8, `item ${i} receipt: sequence`, int);
      field(CHECKSUM_BYTES, `item ${i} receipt: checksum`, toHex);
    } else {
      field(n, `item ${i} payload`, () => (kind === ITEM_KINDS.envelope ? 'envelope, canonical JSON (text on the right)' : 'opaque'));
    }
  }
  field(CHECKSUM_BYTES, 'checksum', () => `SHA-256 of bytes 0..${bytes.length - SIGNATURE_BYTES - CHECKSUM_BYTES - 1}`);
  field(
    SIGNATURE_BYTES,
    'signature',
    () => `Ed25519 by ${h.sender} over "glacis/bundle/v1" 00 || bytes 0..${bytes.length - SIGNATURE_BYTES - 1}`,
  );
  if (r.remaining !== 0) throw new BundleError('bundle_malformed_item', `${r.remaining} bytes after the last item`);
  return out;
}

const printable = (b: number) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.');

/**
 * `describeBundle` as text: one line per 16 bytes of a field, offset and hex and ASCII like `xxd`,
 * the field's name and meaning on its first line.
 */
export function formatBundleDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (const f of describeBundle(bytes)) {
    for (let i = 0; i < f.bytes.length; i += 16) {
      const chunk = f.bytes.subarray(i, i + 16);
      const hex = [...chunk].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      const text = [...chunk].map(printable).join('');
      const note = i === 0 ? `${f.name}: ${f.meaning}` : '';
      lines.push(`${(f.offset + i).toString(16).padStart(6, '0')}  ${hex.padEnd(47)}  ${text.padEnd(16)}  ${note}`.trimEnd());
    }
  }
  return lines.join('\n');
}
