/** Types of vendor/airgap.js: packages/airgap's QR transfer, qrcode's encoder and jsqr. */

export type ErrorCorrection = 'L' | 'M' | 'Q' | 'H';
export interface QrDensity {
  readonly maxFragmentLength: number;
  readonly errorCorrection: ErrorCorrection;
}
export type DensityPreset = 'low' | 'medium' | 'high';
export declare const DENSITY_PRESETS: Readonly<Record<DensityPreset, QrDensity>>;
export declare function resolveDensity(d?: DensityPreset | QrDensity): QrDensity;
export declare const MAX_QR_FRAGMENTS: number;

/** The frames (`UR:BYTES/…`) of one transfer of `bundle`, in display order. Throws AirgapError. */
export declare function encodeBundleFrames(
  bundle: Uint8Array,
  opts?: { density?: DensityPreset | QrDensity; redundancy?: number },
): string[];

export type FrameProgress =
  | { readonly state: 'collecting'; readonly fresh: boolean; readonly frames: number; readonly fragments: number }
  | { readonly state: 'complete'; readonly bundle: Uint8Array };
export interface FrameAssembler {
  /** Throws AirgapError for a frame it refuses. */
  push(frame: string): FrameProgress;
  result(): Uint8Array;
}
export declare function createFrameAssembler(opts?: { maxBundleBytes?: number }): FrameAssembler;

export declare class AirgapError extends Error {
  readonly code: string;
}
export declare function isAirgapError(e: unknown): e is AirgapError;

/** qrcode's symbol: `modules.get(row, col)` is 1 for a dark module. */
export interface QrSymbol {
  readonly version: number;
  readonly modules: { readonly size: number; get(row: number, col: number): number };
}
export declare function createQr(
  segments: readonly { data: string; mode: 'alphanumeric' | 'byte' }[],
  opts: { errorCorrectionLevel: ErrorCorrection },
): QrSymbol;

/** jsqr: the QR code in RGBA pixels, or null. */
export declare function jsQR(
  data: Uint8ClampedArray,
  width: number,
  height: number,
  opts?: { inversionAttempts?: 'dontInvert' | 'onlyInvert' | 'attemptBoth' | 'invertFirst' },
): { data: string } | null;
