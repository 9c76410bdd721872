/**
 * QR frames as PNG images: rendered with `qrcode` (alphanumeric mode, forced), read back with
 * `jsqr` over `pngjs`. Reading is bounded before decoding: a PNG's header states its size, and a
 * hostile one could otherwise ask for gigabytes of pixels.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { AirgapError } from '../errors.js';
import type { ErrorCorrection } from './density.js';
import { createFrameAssembler, type FrameAssemblerOptions } from './frame-assembler.js';
import { MAX_QR_FRAGMENTS } from './ur-frames.js';

/** Rendering options. */
export interface PngOptions {
  readonly errorCorrection: ErrorCorrection;
  /** Pixels per QR module (default 4). */
  readonly scale?: number;
  /** Quiet zone in modules (default 4, what ISO/IEC 18004 asks for). */
  readonly margin?: number;
}

/** One frame as a PNG image. */
export async function renderFramePng(frame: string, opts: PngOptions): Promise<Uint8Array> {
  try {
    const png = await QRCode.toBuffer([{ data: frame, mode: 'alphanumeric' }], {
      type: 'png',
      errorCorrectionLevel: opts.errorCorrection,
      scale: opts.scale ?? 4,
      margin: opts.margin ?? 4,
    });
    return new Uint8Array(png);
  } catch (e) {
    throw new AirgapError(
      'airgap_too_large',
      `frame of ${frame.length} characters does not fit a QR code at error correction ${opts.errorCorrection}`,
      { cause: e },
    );
  }
}

/** The QR version (1-40) `frame` needs at `errorCorrection`. */
export function qrVersionOf(frame: string, errorCorrection: ErrorCorrection): number {
  return QRCode.create([{ data: frame, mode: 'alphanumeric' }], { errorCorrectionLevel: errorCorrection }).version;
}

/** Writes `frames` as `frame-0001.png`, … into `dir` (created if needed); returns the file names. */
export async function writeFramePngs(dir: string, frames: readonly string[], opts: PngOptions): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const width = Math.max(4, String(frames.length).length);
  const names: string[] = [];
  for (const [i, frame] of frames.entries()) {
    const name = `frame-${String(i + 1).padStart(width, '0')}.png`;
    await writeFile(join(dir, name), await renderFramePng(frame, opts));
    names.push(name);
  }
  return names;
}

/** Largest PNG file read, and largest image (a 4096 × 4096 photo of a screen is plenty). */
export const MAX_PNG_BYTES = 32 * 1024 * 1024;
export const MAX_PNG_PIXELS = 4096 * 4096;

// jsqr is CommonJS with a `default` property; under NodeNext typing only `.default` is callable.
const jsQR = jsQRModule.default;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The text of the QR code in a PNG image. */
export function decodeFramePng(png: Uint8Array): string {
  const unreadable = (why: string, cause?: unknown): never => {
    throw new AirgapError('airgap_image_unreadable', why, { cause });
  };
  if (png.length > MAX_PNG_BYTES) unreadable(`${png.length} bytes > ${MAX_PNG_BYTES}`);
  // Signature, then the IHDR chunk (length, "IHDR", width, height) at fixed offsets.
  if (png.length < 24 || PNG_SIGNATURE.some((b, i) => png[i] !== b)) unreadable('not a PNG image');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width === 0 || height === 0 || width * height > MAX_PNG_PIXELS) unreadable(`${width} × ${height} pixels (limit ${MAX_PNG_PIXELS})`);
  let image: PNG;
  try {
    image = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  } catch (e) {
    return unreadable('the PNG does not decode', e);
  }
  const pixels = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  let text: string | undefined;
  try {
    // Dark on light first (what we render), then also light on dark (an inverted screen): most
    // images take half the work of 'attemptBoth'. ('onlyInvert' crashes in jsqr 1.4.0; 'invertFirst' does not.)
    const code =
      jsQR(pixels, image.width, image.height, { inversionAttempts: 'dontInvert' }) ??
      jsQR(pixels, image.width, image.height, { inversionAttempts: 'invertFirst' });
    text = code?.data;
  } catch (e) {
    return unreadable('the QR decoder failed on this image', e);
  }
  if (text === undefined) return unreadable('no QR code found in the image');
  return text;
}

/** A file `readFramesFromDir` could not use, and why. */
export interface SkippedFile {
  readonly file: string;
  readonly code: 'airgap_image_unreadable' | 'airgap_frame_malformed' | 'airgap_frame_wrong_type';
  readonly message: string;
}

/** What `readFramesFromDir` found. */
export interface FramesRead {
  readonly bundle: Uint8Array;
  /** Images read before the transfer completed. */
  readonly imagesRead: number;
  /** Images that held no usable frame (blurred, cut, another QR code); a fountain code does not need them. */
  readonly skipped: readonly SkippedFile[];
}

/** Options for `readFramesFromDir`. */
export interface ReadFramesOptions extends FrameAssemblerOptions {
  /** PNG files considered at most (default 4 × MAX_QR_FRAGMENTS + 64). */
  readonly maxFiles?: number;
}

/**
 * Reads the `*.png` images of `dir` (any names, any order, some missing or unreadable) until the
 * transfer completes. Images that hold no usable frame are skipped and listed; a frame of another
 * transfer stops the read (`airgap_frame_foreign`): one folder holds one transfer.
 */
export async function readFramesFromDir(dir: string, opts: ReadFramesOptions = {}): Promise<FramesRead> {
  const maxFiles = opts.maxFiles ?? 4 * MAX_QR_FRAGMENTS + 64;
  const files = (await readdir(dir)).filter((f) => f.toLowerCase().endsWith('.png')).sort();
  if (files.length > maxFiles) throw new AirgapError('airgap_too_many_frames', `${files.length} images in ${dir} (limit ${maxFiles})`);
  const assembler = createFrameAssembler(opts);
  const skipped: SkippedFile[] = [];
  let imagesRead = 0;
  for (const file of files) {
    const path = join(dir, file);
    imagesRead++;
    try {
      const { size } = await stat(path);
      if (size > MAX_PNG_BYTES) throw new AirgapError('airgap_image_unreadable', `${size} bytes > ${MAX_PNG_BYTES}`);
      const progress = assembler.push(decodeFramePng(new Uint8Array(await readFile(path))));
      if (progress.state === 'complete') return { bundle: progress.bundle, imagesRead, skipped };
    } catch (e) {
      if (
        e instanceof AirgapError &&
        (e.code === 'airgap_image_unreadable' || e.code === 'airgap_frame_malformed' || e.code === 'airgap_frame_wrong_type')
      ) {
        skipped.push({ file, code: e.code, message: e.message });
        continue;
      }
      if (e instanceof AirgapError) throw new AirgapError(e.code, `${file}: ${e.message}`, { cause: e });
      throw e;
    }
  }
  try {
    return { bundle: assembler.result(), imagesRead, skipped };
  } catch (e) {
    throw new AirgapError((e as AirgapError).code, `${dir}: ${imagesRead} images, ${skipped.length} unusable; ${(e as Error).message}`, {
      cause: e,
    });
  }
}
