/**
 * @glacis/airgap — moving bundles (`@glacis/protocol` bundle format) across an air gap: as files
 * on removable media, and as animated, fountain-coded QR frames (Blockchain Commons UR, type
 * `bytes`). Transports move bytes; `openBundle` decides whether to trust them.
 */

export { AIRGAP_ERROR_CODES, AirgapError, type AirgapErrorCode, isAirgapError } from './errors.js';
export { BUNDLE_FILE_EXTENSION, bundleFileName, readBundleFile, type WriteBundleFileOptions, writeBundleFile } from './file-transport.js';
export {
  assertMediaWritable,
  isFrameDirectory,
  type MediaRead,
  type MediaWritten,
  readBundleMedia,
  type WriteMediaOptions,
  writeBundleMedia,
} from './media.js';
export { type AnimatedPageOptions, renderAnimatedPage } from './qr/animated-page.js';
export {
  DENSITY_PRESETS,
  type DensityPreset,
  type ErrorCorrection,
  MAX_FRAGMENT_LENGTH,
  MIN_FRAGMENT_LENGTH,
  type QrDensity,
  resolveDensity,
} from './qr/density.js';
export { type DensityProfile, densityProfile } from './qr/density-profile.js';
export {
  createFrameAssembler,
  type FrameAssembler,
  type FrameAssemblerOptions,
  type FrameProgress,
  MAX_FRAME_CHARS,
} from './qr/frame-assembler.js';
export {
  decodeFramePng,
  type FramesRead,
  MAX_PNG_BYTES,
  MAX_PNG_PIXELS,
  type PngOptions,
  qrVersionOf,
  type ReadFramesOptions,
  readFramesFromDir,
  renderFramePng,
  type SkippedFile,
  writeFramePngs,
} from './qr/frame-png.js';
export { type QrTransfer, type QrTransferOptions, writeQrTransfer } from './qr/qr-transfer.js';
export { encodeBundleFrames, type FrameOptions, MAX_QR_FRAGMENTS } from './qr/ur-frames.js';
