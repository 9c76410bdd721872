/** Hand-made UR frames for tests: any header values, any fragment, with valid bytewords and CRC. */
import { UR, URDecoder, UREncoder } from '@ngraveio/bc-ur';
import { decodeFramePart } from '../src/qr/strict-cbor.js';

/** A CBOR head (shortest form). */
function head(major: number, n: number): number[] {
  if (n < 24) return [(major << 5) | n];
  if (n < 0x100) return [(major << 5) | 24, n];
  if (n < 0x10000) return [(major << 5) | 25, n >> 8, n & 0xff];
  return [(major << 5) | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

export interface PartFields {
  seqNum: number;
  seqLen: number;
  messageLen: number;
  checksum: number;
  fragment: Uint8Array;
}

/** The CBOR of a frame part. */
export const partCbor = (p: PartFields): Uint8Array =>
  Uint8Array.from([
    ...head(4, 5),
    ...head(0, p.seqNum),
    ...head(0, p.seqLen),
    ...head(0, p.messageLen),
    ...head(0, p.checksum),
    ...head(2, p.fragment.length),
    ...p.fragment,
  ]);

/** `ur:TYPE/<bytewords of cbor>` with a valid CRC. */
export const singlePart = (cbor: Uint8Array, type = 'bytes'): string => UREncoder.encodeSinglePart(new UR(Buffer.from(cbor), type));

/** A multipart frame with these header values (path from `path`, default the header's). */
export function partFrame(p: PartFields, path = `${p.seqNum}-${p.seqLen}`): string {
  const body = singlePart(partCbor(p)).slice('ur:bytes/'.length);
  return `ur:bytes/${path}/${body}`;
}

/** The header and fragment of a multipart frame. */
export function parseFrame(frame: string): PartFields {
  const body = frame.toLowerCase().split('/')[2] as string;
  return { ...decodeFramePart(new Uint8Array(URDecoder.decode(`ur:bytes/${body}`).cbor)) };
}
