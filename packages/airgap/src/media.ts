/**
 * A bundle on removable media as the command lines take it (`glacis-party offline`, `glacis
 * parties outbox|inbox`): a path that is a directory, or ends in `/`, holds a QR transfer —
 * numbered PNG frames and two animated pages when written, photographs of frames (any names, any
 * order, some missing) when read; any other path is a bundle file. One rule on both sides of the
 * air gap, so what one CLI writes the other reads.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { AirgapError } from './errors.js';
import { readBundleFile, writeBundleFile } from './file-transport.js';
import type { DensityPreset, QrDensity } from './qr/density.js';
import { readFramesFromDir, type SkippedFile } from './qr/frame-png.js';
import { writeQrTransfer } from './qr/qr-transfer.js';

/** True when `path` names a QR transfer directory (it is one, or is written with a trailing `/`). */
export function isFrameDirectory(path: string): boolean {
  return path.endsWith('/') || (existsSync(path) && statSync(path).isDirectory());
}

/** Files of a QR transfer: its frames and its animated pages. */
const TRANSFER_FILE = /\.(png|html)$/i;

/**
 * Throws `airgap_file_exists` when `path` already holds something a write would replace or mix
 * with: an existing file, or a directory with a transfer's frames or pages in it (one folder holds
 * one transfer; a reader stops at a frame of another). Callers check before doing what cannot be
 * undone (signing), `writeBundleMedia` checks again.
 */
export function assertMediaWritable(path: string): void {
  if (!isFrameDirectory(path)) {
    if (existsSync(path)) throw new AirgapError('airgap_file_exists', `${path} exists; not replaced`);
    return;
  }
  if (!existsSync(path)) return;
  const old = readdirSync(path).filter((f) => TRANSFER_FILE.test(f));
  if (old.length > 0)
    throw new AirgapError('airgap_file_exists', `${path} already holds a transfer (${old[0]}, …): use an empty directory`);
}

/** A bundle read from media, and the images of a QR directory that held no usable frame. */
export interface MediaRead {
  readonly bundle: Uint8Array;
  readonly skipped: readonly SkippedFile[];
}

/** Reads the bundle at `path`: a file, or the frames photographed into a directory. Bytes only; open them with `openBundle`. */
export async function readBundleMedia(path: string): Promise<MediaRead> {
  if (existsSync(path) && statSync(path).isDirectory()) {
    const { bundle, skipped } = await readFramesFromDir(path);
    return { bundle, skipped };
  }
  return { bundle: await readBundleFile(path), skipped: [] };
}

/** What `writeBundleMedia` wrote (the `out` of the CLIs' JSON summaries). */
export type MediaWritten =
  | { readonly file: string; readonly bytes: number }
  | {
      readonly dir: string;
      readonly bytes: number;
      readonly frames: number;
      readonly pages: readonly string[];
      readonly qrVersion: number;
    };

/** Options of `writeBundleMedia`. */
export interface WriteMediaOptions {
  /** Shown on the animated pages. */
  readonly title: string;
  /** QR density of a directory (default `medium`). */
  readonly density?: DensityPreset | QrDensity;
}

/**
 * Writes `bundle` to `path`: a file, or a QR transfer into a directory (created if needed); never
 * over an earlier file or transfer (`airgap_file_exists`, assertMediaWritable).
 */
export async function writeBundleMedia(path: string, bundle: Uint8Array, opts: WriteMediaOptions): Promise<MediaWritten> {
  assertMediaWritable(path);
  if (!isFrameDirectory(path)) {
    await writeBundleFile(path, bundle);
    return { file: path, bytes: bundle.length };
  }
  const qr = await writeQrTransfer(path, bundle, { title: opts.title, density: opts.density ?? 'medium' });
  return { dir: path, bytes: bundle.length, frames: qr.frameFiles.length, pages: qr.pages, qrVersion: qr.qrVersion };
}
