/**
 * One call for the sending side of a QR transfer: the frames as numbered PNG files, and the two
 * animated pages that cycle them, in one folder. The receiving side is `readFramesFromDir` (or a
 * `FrameAssembler` fed by a camera).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderAnimatedPage } from './animated-page.js';
import { resolveDensity } from './density.js';
import { qrVersionOf, renderFramePng, writeFramePngs } from './frame-png.js';
import { encodeBundleFrames, type FrameOptions } from './ur-frames.js';

/** Options for `writeQrTransfer`. */
export interface QrTransferOptions extends FrameOptions {
  /** Shown on the animated pages. */
  readonly title: string;
  readonly framesPerSecond?: number;
  /** Pixels per QR module in the PNG files (default 4). */
  readonly scale?: number;
}

/** What `writeQrTransfer` wrote. */
export interface QrTransfer {
  /** PNG file names, in display order. */
  readonly frameFiles: readonly string[];
  /** `animated.html` (script) and `animated-noscript.html` (CSS only). */
  readonly pages: readonly string[];
  /** QR version of the largest frame. */
  readonly qrVersion: number;
}

/** Writes the frames of `bundle` and its animated pages into `dir`. */
export async function writeQrTransfer(dir: string, bundle: Uint8Array, opts: QrTransferOptions): Promise<QrTransfer> {
  const { errorCorrection } = resolveDensity(opts.density);
  const frames = encodeBundleFrames(bundle, opts);
  const png = { errorCorrection, ...(opts.scale === undefined ? {} : { scale: opts.scale }) };
  const frameFiles = await writeFramePngs(dir, frames, png);
  const pngs = await Promise.all(frames.map((f) => renderFramePng(f, png)));
  const page = { title: opts.title, ...(opts.framesPerSecond === undefined ? {} : { framesPerSecond: opts.framesPerSecond }) };
  const pages = ['animated.html', 'animated-noscript.html'];
  await writeFile(join(dir, pages[0] as string), renderAnimatedPage(pngs, { ...page, variant: 'script' }));
  await writeFile(join(dir, pages[1] as string), renderAnimatedPage(pngs, { ...page, variant: 'css' }));
  return { frameFiles, pages, qrVersion: Math.max(...frames.map((f) => qrVersionOf(f, errorCorrection))) };
}
