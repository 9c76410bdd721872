/**
 * Reassembles a bundle from scanned frames, in any order, with any missing, duplicated or stray
 * frames. Each frame is checked here first — syntax, bounds, bytewords CRC, a strict CBOR header
 * consistent with its path and with the transfer it joins — and only then handed to bc-ur's
 * fountain decoder. Every refusal is an AirgapError with a code; nothing else escapes.
 */
import { MAX_BUNDLE_BYTES } from '@glacis/protocol';
import { URDecoder } from '@ngraveio/bc-ur';
import { AirgapError } from '../errors.js';
import { decodeByteString, decodeFramePart, type FramePart } from './strict-cbor.js';
import { MAX_QR_FRAGMENTS } from './ur-frames.js';

/** The longest text a QR code holds (version 40, error correction L, alphanumeric). */
export const MAX_FRAME_CHARS = 4296;

/** A `ur:` string: type, optional `seqNum-seqLen` (up to 10 digits each), bytewords (minimal style). */
const FRAME_RE = /^ur:([a-z0-9-]{1,64})\/(?:([1-9][0-9]{0,9})-([1-9][0-9]{0,9})\/)?([a-z]+)$/;

/** Where an assembler stands after a frame. */
export type FrameProgress =
  | { readonly state: 'collecting'; readonly fresh: boolean; readonly frames: number; readonly fragments: number }
  | { readonly state: 'complete'; readonly bundle: Uint8Array };

/** Collects the frames of one transfer. */
export interface FrameAssembler {
  /** Takes one scanned frame (case-insensitive). Throws AirgapError. */
  push(frame: string): FrameProgress;
  /** The bundle, once complete; else `airgap_incomplete`. */
  result(): Uint8Array;
}

interface Transfer {
  seqLen: number;
  messageLen: number;
  checksum: number;
  fragmentLen: number;
}

/** Bytewords (minimal) → bytes, CRC-32 checked, by bc-ur's own decoder. */
function bytewords(body: string): Uint8Array {
  try {
    return new Uint8Array(URDecoder.decode(`ur:bytes/${body}`).cbor);
  } catch (e) {
    throw new AirgapError('airgap_frame_malformed', 'bytewords: not valid minimal bytewords with a matching CRC-32', { cause: e });
  }
}

/** The UR payload (one CBOR byte string) → the bundle. */
function unwrap(payload: Uint8Array, maxBytes: number): Uint8Array {
  let bundle: Uint8Array;
  try {
    bundle = decodeByteString(payload);
  } catch (e) {
    throw new AirgapError('airgap_transfer_corrupt', 'the reassembled payload is not one CBOR byte string', { cause: e });
  }
  if (bundle.length > maxBytes) throw new AirgapError('airgap_too_large', `${bundle.length} bytes > ${maxBytes}`);
  return bundle;
}

function checkPart(p: FramePart, seqNum: number, seqLen: number, maxMessage: number): void {
  const bad = (why: string): never => {
    throw new AirgapError('airgap_frame_malformed', why);
  };
  if (p.seqNum !== seqNum || p.seqLen !== seqLen) bad(`header says ${p.seqNum}-${p.seqLen}, path says ${seqNum}-${seqLen}`);
  if (p.seqLen > MAX_QR_FRAGMENTS) throw new AirgapError('airgap_too_large', `${p.seqLen} fragments > ${MAX_QR_FRAGMENTS}`);
  if (p.messageLen < 1 || p.messageLen > maxMessage)
    throw new AirgapError('airgap_too_large', `message of ${p.messageLen} bytes (limit ${maxMessage})`);
  if (p.fragment.length < 1) bad('empty fragment');
  // BCR-2020-005: the message is cut into seqLen equal fragments, the last one zero-padded.
  if (Math.ceil(p.messageLen / p.fragment.length) !== p.seqLen)
    bad(`${p.seqLen} fragments of ${p.fragment.length} bytes cannot hold ${p.messageLen}`);
}

/** Options for `createFrameAssembler`. */
export interface FrameAssemblerOptions {
  /** Largest bundle accepted (default and ceiling: MAX_BUNDLE_BYTES). */
  readonly maxBundleBytes?: number;
}

/** A fresh assembler for one transfer. */
export function createFrameAssembler(opts: FrameAssemblerOptions = {}): FrameAssembler {
  const maxBundle = Math.min(opts.maxBundleBytes ?? MAX_BUNDLE_BYTES, MAX_BUNDLE_BYTES);
  // The payload wraps the bundle in a byte-string head of at most 5 bytes (lengths < 2^32).
  const maxMessage = maxBundle + 5;
  const maxChars = Math.min(MAX_FRAME_CHARS, 2 * (maxMessage + 4) + 80);
  const decoder = new URDecoder();
  const seen = new Set<number>();
  let transfer: Transfer | undefined;
  let done: Uint8Array | undefined;
  let failed: AirgapError | undefined;

  const fail = (e: AirgapError): never => {
    failed = e;
    throw e;
  };

  function push(frame: string): FrameProgress {
    if (done !== undefined) return { state: 'complete', bundle: done };
    if (failed !== undefined) throw failed;
    if (typeof frame !== 'string' || frame.length > maxChars)
      throw new AirgapError('airgap_frame_malformed', `a frame is a string of at most ${maxChars} characters`);
    const m = FRAME_RE.exec(frame.toLowerCase());
    if (m === null) throw new AirgapError('airgap_frame_malformed', 'not a ur: frame (ur:TYPE/[SEQ-LEN/]BYTEWORDS)');
    const [, type, seqNumText, seqLenText, body] = m as unknown as [string, string, string | undefined, string | undefined, string];
    if (type !== 'bytes')
      throw new AirgapError('airgap_frame_wrong_type', `a ur:${type} frame, not ur:bytes (another application's QR code?)`);
    const raw = bytewords(body);

    if (seqNumText === undefined || seqLenText === undefined) {
      if (transfer !== undefined)
        throw new AirgapError('airgap_frame_foreign', 'a single-frame transfer arrived in the middle of a multi-frame one');
      done = unwrap(raw, maxBundle);
      return { state: 'complete', bundle: done };
    }

    const seqNum = Number(seqNumText);
    const part = decodeFramePart(raw);
    checkPart(part, seqNum, Number(seqLenText), maxMessage);
    const t: Transfer = { seqLen: part.seqLen, messageLen: part.messageLen, checksum: part.checksum, fragmentLen: part.fragment.length };
    if (transfer === undefined) transfer = t;
    else if (
      t.seqLen !== transfer.seqLen ||
      t.messageLen !== transfer.messageLen ||
      t.checksum !== transfer.checksum ||
      t.fragmentLen !== transfer.fragmentLen
    ) {
      throw new AirgapError(
        'airgap_frame_foreign',
        `frame ${seqNum} belongs to another transfer (${t.messageLen} bytes, checksum ${t.checksum})`,
      );
    }
    if (seen.has(seqNum)) return { state: 'collecting', fresh: false, frames: seen.size, fragments: transfer.seqLen };
    // A reader needs about seqLen frames plus a few; far more than that is a hostile or broken source.
    if (seen.size >= 3 * transfer.seqLen + 16)
      return fail(new AirgapError('airgap_too_many_frames', `${seen.size} distinct frames and still incomplete`));
    seen.add(seqNum);

    try {
      decoder.receivePart(frame.toLowerCase());
    } catch (e) {
      // Unreachable for frames that passed the checks above; kept so a decoder surprise is still a code.
      throw new AirgapError('airgap_frame_malformed', 'the fountain decoder refused the frame', { cause: e });
    }
    if (decoder.isError())
      return fail(new AirgapError('airgap_transfer_corrupt', 'the reassembled message fails its CRC-32: a frame carried wrong data'));
    if (decoder.isSuccess()) {
      try {
        done = unwrap(new Uint8Array(decoder.resultUR().cbor), maxBundle);
      } catch (e) {
        return fail(e as AirgapError);
      }
      return { state: 'complete', bundle: done };
    }
    return { state: 'collecting', fresh: true, frames: seen.size, fragments: transfer.seqLen };
  }

  return Object.freeze({
    push,
    result(): Uint8Array {
      if (done !== undefined) return done;
      if (failed !== undefined) throw failed;
      const have = transfer === undefined ? 'no frame yet' : `${seen.size} frames of a ${transfer.seqLen}-fragment transfer`;
      throw new AirgapError('airgap_incomplete', `transfer incomplete: ${have}; scan more frames`);
    },
  });
}
