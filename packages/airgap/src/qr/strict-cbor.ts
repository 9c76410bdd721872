/**
 * The two CBOR shapes a UR transfer of bytes uses, read strictly (RFC 8949, definite lengths only,
 * nothing after the item): the UR payload, one byte string (BCR-2020-006 type `bytes`); and a
 * multipart frame's header, the array [seqNum, seqLen, messageLen, checksum, fragment]
 * (BCR-2020-005). Frames come from a camera, i.e. from anyone who can show one: they are parsed
 * here, with bounds, before any of bc-ur's code sees them.
 */
import { AirgapError } from '../errors.js';

const MAJOR_UINT = 0;
const MAJOR_BYTES = 2;
const MAJOR_ARRAY = 4;

const malformed = (why: string): never => {
  throw new AirgapError('airgap_frame_malformed', `CBOR: ${why}`);
};

/** One head: major type and argument (< 2^53), and where the content starts. */
function readHead(b: Uint8Array, pos: number): { major: number; value: number; next: number } {
  const first = b[pos];
  if (first === undefined) return malformed('truncated');
  const major = first >> 5;
  const info = first & 0x1f;
  if (info < 24) return { major, value: info, next: pos + 1 };
  const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
  if (size === 0) return malformed(`additional info ${info} (indefinite lengths and reserved values are refused)`);
  if (pos + 1 + size > b.length) return malformed('truncated');
  let value = 0;
  for (let i = 1; i <= size; i++) value = value * 256 + (b[pos + i] as number);
  if (!Number.isSafeInteger(value)) return malformed('integer beyond 2^53');
  return { major, value, next: pos + 1 + size };
}

function readBytes(b: Uint8Array, pos: number, label: string): { bytes: Uint8Array; next: number } {
  const h = readHead(b, pos);
  if (h.major !== MAJOR_BYTES) return malformed(`${label}: expected a byte string, got major type ${h.major}`);
  if (h.next + h.value > b.length) return malformed(`${label}: byte string runs past the end`);
  return { bytes: b.slice(h.next, h.next + h.value), next: h.next + h.value };
}

/** The content of a CBOR byte string that is the whole of `b`. */
export function decodeByteString(b: Uint8Array): Uint8Array {
  const { bytes, next } = readBytes(b, 0, 'payload');
  if (next !== b.length) malformed(`${b.length - next} bytes after the byte string`);
  return bytes;
}

/** A multipart frame's header (BCR-2020-005 §"Multipart URs"). */
export interface FramePart {
  readonly seqNum: number;
  readonly seqLen: number;
  readonly messageLen: number;
  readonly checksum: number;
  readonly fragment: Uint8Array;
}

/** Decodes [seqNum, seqLen, messageLen, checksum, fragment], the whole of `b`. */
export function decodeFramePart(b: Uint8Array): FramePart {
  const arr = readHead(b, 0);
  if (arr.major !== MAJOR_ARRAY || arr.value !== 5) return malformed('a frame part is an array of 5');
  let pos = arr.next;
  const uints: number[] = [];
  for (const label of ['seqNum', 'seqLen', 'messageLen', 'checksum']) {
    const h = readHead(b, pos);
    if (h.major !== MAJOR_UINT) return malformed(`${label}: expected an unsigned integer`);
    if (h.value > 0xffffffff) return malformed(`${label}: beyond 32 bits`);
    uints.push(h.value);
    pos = h.next;
  }
  const { bytes: fragment, next } = readBytes(b, pos, 'fragment');
  if (next !== b.length) malformed(`${b.length - next} bytes after the frame part`);
  const [seqNum, seqLen, messageLen, checksum] = uints as [number, number, number, number];
  return { seqNum, seqLen, messageLen, checksum, fragment };
}
