// packages/airgap's QR transfer (UR frames, fountain code, strict frame checks) and the QR codec.

export { default as jsQR } from 'jsqr';
export { create as createQr } from 'qrcode/lib/core/qrcode.js';
export { AirgapError, isAirgapError } from '../../airgap/src/errors.js';
export { DENSITY_PRESETS, resolveDensity } from '../../airgap/src/qr/density.js';
export { createFrameAssembler } from '../../airgap/src/qr/frame-assembler.js';
export { encodeBundleFrames, MAX_QR_FRAGMENTS } from '../../airgap/src/qr/ur-frames.js';
