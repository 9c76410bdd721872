/**
 * A bundle as animated-QR frames: a Blockchain Commons Uniform Resource of the registered type
 * `bytes` (BCR-2020-006: the payload is one CBOR byte string), split by the UR fountain code
 * (BCR-2020-005, bc-ur's encoder). The first `seqLen` frames are the plain fragments, every later
 * frame an XOR of a pseudo-random subset, so a reader that joins at any point and misses any
 * frames still completes. Frames are upper-cased as the UR spec recommends: every character is
 * then in the QR alphanumeric set, which packs 5.5 bits a character instead of 8.
 */
import { MAX_BUNDLE_BYTES } from '@glacis/protocol';
import { UR, UREncoder } from '@ngraveio/bc-ur';
import { AirgapError } from '../errors.js';
import { type DensityPreset, MIN_FRAGMENT_LENGTH, type QrDensity, resolveDensity } from './density.js';

/**
 * Fragments per transfer, at most. bc-ur's fountain coder spends time growing with the cube of
 * this count (about 2 s each way at 256 on this project's machines, 13 s at 512), and a transfer of
 * hundreds of frames is already minutes of scanning; larger bundles travel as files.
 */
export const MAX_QR_FRAGMENTS = 256;

/** Options for `encodeBundleFrames`. */
export interface FrameOptions {
  readonly density?: DensityPreset | QrDensity;
  /**
   * Extra fountain frames, as a fraction of the fragment count (default 1: twice as many frames
   * as fragments). More lets a reader miss more frames in one loop of the animation.
   */
  readonly redundancy?: number;
}

/** The frames of one transfer of `bundle`, in display order. */
export function encodeBundleFrames(bundle: Uint8Array, opts: FrameOptions = {}): string[] {
  const { maxFragmentLength } = resolveDensity(opts.density);
  const redundancy = opts.redundancy ?? 1;
  if (!(redundancy >= 0 && redundancy <= 10)) throw new RangeError('redundancy: expected 0 to 10');
  if (bundle.length === 0 || bundle.length > MAX_BUNDLE_BYTES)
    throw new AirgapError('airgap_too_large', `a transfer carries 1 to ${MAX_BUNDLE_BYTES} bytes`);
  const encoder = new UREncoder(UR.fromBuffer(Buffer.from(bundle)), maxFragmentLength, 0, MIN_FRAGMENT_LENGTH);
  const seqLen = encoder.fragmentsLength;
  if (seqLen > MAX_QR_FRAGMENTS) {
    throw new AirgapError(
      'airgap_too_large',
      `${bundle.length} bytes need ${seqLen} fragments of ${maxFragmentLength} bytes; the limit is ${MAX_QR_FRAGMENTS}: use a denser setting, a file, or a smaller batch`,
    );
  }
  const count = seqLen === 1 ? 1 : seqLen + Math.ceil(seqLen * redundancy);
  return Array.from({ length: count }, () => encoder.nextPart().toUpperCase());
}
