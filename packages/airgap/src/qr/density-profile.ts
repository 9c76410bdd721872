/** What a density setting means on screen: the longest frame it can produce and its QR version. */
import { UR, UREncoder } from '@ngraveio/bc-ur';
import { type DensityPreset, MIN_FRAGMENT_LENGTH, type QrDensity, resolveDensity } from './density.js';
import { qrVersionOf } from './frame-png.js';
import { MAX_QR_FRAGMENTS } from './ur-frames.js';

/** The largest transfer at a density, as the camera sees it. */
export interface DensityProfile {
  /** Characters in the longest frame of a MAX_QR_FRAGMENTS-fragment transfer. */
  readonly longestFrame: number;
  /** The QR version (1-40) that frame needs; a version-v code is 17 + 4v modules wide. */
  readonly qrVersion: number;
}

/**
 * The longest frame (and its QR version) a transfer at `density` can produce with `redundancy`
 * (default 1): the last frame of a transfer of MAX_QR_FRAGMENTS full fragments, whose numbers are
 * the largest. Frame length does not depend on the bundle's content (bytewords spend two letters
 * a byte), so zeros stand in for it.
 */
export function densityProfile(density: DensityPreset | QrDensity = 'medium', redundancy = 1): DensityProfile {
  const d = resolveDensity(density);
  // The UR payload is the bundle behind a CBOR byte-string head (3 or 5 bytes here); size it to fill every fragment.
  const payload = MAX_QR_FRAGMENTS * d.maxFragmentLength;
  const bundle = new Uint8Array(payload - (payload - 3 < 0x10000 ? 3 : 5));
  const lastSeqNum = MAX_QR_FRAGMENTS + Math.ceil(MAX_QR_FRAGMENTS * redundancy);
  const encoder = new UREncoder(UR.fromBuffer(Buffer.from(bundle)), d.maxFragmentLength, lastSeqNum - 1, MIN_FRAGMENT_LENGTH);
  const frame = encoder.nextPart().toUpperCase();
  return { longestFrame: frame.length, qrVersion: qrVersionOf(frame, d.errorCorrection) };
}
