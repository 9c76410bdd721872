/**
 * Density settings: the table docs/bundles.md prints (densityProfile) is what a real transfer at
 * the limit produces, the 256-fragment bound holds exactly, and nonsense settings are refused.
 */
import { describe, expect, it } from 'vitest';
import {
  AirgapError,
  DENSITY_PRESETS,
  densityProfile,
  encodeBundleFrames,
  MAX_QR_FRAGMENTS,
  qrVersionOf,
  resolveDensity,
} from '../src/index.js';

describe('density', () => {
  it(`densityProfile is the longest frame of a real ${MAX_QR_FRAGMENTS}-fragment transfer and its QR version`, () => {
    const d = DENSITY_PRESETS.low;
    const bundle = new Uint8Array(MAX_QR_FRAGMENTS * d.maxFragmentLength - 5).fill(7);
    const frames = encodeBundleFrames(bundle, { density: 'low' });
    expect(frames).toHaveLength(2 * MAX_QR_FRAGMENTS);
    const longest = frames.reduce((a, f) => (f.length > a.length ? f : a));
    expect(densityProfile('low')).toEqual({ longestFrame: longest.length, qrVersion: qrVersionOf(longest, d.errorCorrection) });
  });

  it(`one byte more than ${MAX_QR_FRAGMENTS} fragments hold: airgap_too_large, naming the way out`, () => {
    const bundle = new Uint8Array(MAX_QR_FRAGMENTS * DENSITY_PRESETS.low.maxFragmentLength - 2);
    expect(() => encodeBundleFrames(bundle, { density: 'low' })).toThrow(
      expect.objectContaining({ code: 'airgap_too_large', message: expect.stringMatching(/denser setting, a file, or a smaller batch/) }),
    );
    expect(() => encodeBundleFrames(new Uint8Array(0))).toThrow(AirgapError);
  });

  it('a fragment outside 10..1500 bytes, an unknown error-correction level, a redundancy outside 0..10: RangeError', () => {
    expect(() => resolveDensity({ maxFragmentLength: 9, errorCorrection: 'M' })).toThrow(RangeError);
    expect(() => resolveDensity({ maxFragmentLength: 1501, errorCorrection: 'L' })).toThrow(RangeError);
    expect(() => resolveDensity({ maxFragmentLength: 100, errorCorrection: 'X' as 'L' })).toThrow(RangeError);
    expect(() => resolveDensity('huge' as 'low')).toThrow(RangeError);
    expect(() => encodeBundleFrames(new Uint8Array(10), { redundancy: -1 })).toThrow(RangeError);
  });
});
