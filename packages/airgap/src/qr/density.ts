/**
 * How much of a bundle each QR frame carries. A longer fragment means fewer frames but a larger QR
 * version (more, smaller modules) that a poor camera or a scratched screen reads less reliably;
 * error correction trades capacity for resilience the same way. docs/bundles.md tabulates the
 * QR version each preset produces.
 */

/** QR error-correction level: recovers about 7 %, 15 %, 25 %, 30 % of damaged codewords. */
export type ErrorCorrection = 'L' | 'M' | 'Q' | 'H';

/** A density setting. */
export interface QrDensity {
  /** Bundle bytes per frame, at most (the fountain encoder picks an even split at or below it). */
  readonly maxFragmentLength: number;
  readonly errorCorrection: ErrorCorrection;
}

/** Named settings, from a phone held at arm's length to a good scanner close to the screen. */
export const DENSITY_PRESETS = {
  /** Small codes (QR version 9 or so), for poor cameras and small screens. */
  low: { maxFragmentLength: 100, errorCorrection: 'M' },
  /** The default: version 15 or so. */
  medium: { maxFragmentLength: 250, errorCorrection: 'M' },
  /** Large codes (version 22 or so) for a good camera close to a large screen. */
  high: { maxFragmentLength: 600, errorCorrection: 'L' },
} as const satisfies Record<string, QrDensity>;

export type DensityPreset = keyof typeof DENSITY_PRESETS;

/** bc-ur's floor for a fragment (it splits no finer). */
export const MIN_FRAGMENT_LENGTH = 10;
/** Keeps the largest frame within QR version 40 at error correction M. */
export const MAX_FRAGMENT_LENGTH = 1500;

/** A preset by name or an explicit setting, checked. */
export function resolveDensity(d: DensityPreset | QrDensity = 'medium'): QrDensity {
  const density: QrDensity = typeof d === 'string' ? DENSITY_PRESETS[d] : d;
  if (
    density === undefined ||
    !Number.isInteger(density.maxFragmentLength) ||
    density.maxFragmentLength < MIN_FRAGMENT_LENGTH ||
    density.maxFragmentLength > MAX_FRAGMENT_LENGTH ||
    !['L', 'M', 'Q', 'H'].includes(density.errorCorrection)
  ) {
    throw new RangeError(
      `QR density: maxFragmentLength ${MIN_FRAGMENT_LENGTH}..${MAX_FRAGMENT_LENGTH} and errorCorrection L, M, Q or H expected`,
    );
  }
  return density;
}
