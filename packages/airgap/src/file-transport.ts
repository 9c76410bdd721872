/**
 * Bundles on removable media. A bundle file appears whole or not at all: it is written to a
 * temporary name beside its target, fsync'd, then moved into place (and the directory fsync'd),
 * so a pulled USB stick or a crash never leaves a half-written bundle under the real name. A file
 * already at the target is kept unless the caller asks to overwrite: an uncarried bundle must not
 * vanish under a newer one. Reading is bounded by MAX_BUNDLE_BYTES before any byte is read.
 */
import { randomUUID } from 'node:crypto';
import { access, link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MAX_BUNDLE_BYTES } from '@glacis/protocol';
import { AirgapError } from './errors.js';

/** File name extension of a bundle. */
export const BUNDLE_FILE_EXTENSION = '.glacis-bundle';

/**
 * `sender+recipient+sequence.glacis-bundle`, the sequence zero-padded so a listing sorts in order.
 * `+` cannot occur in a party id, so the name splits back unambiguously.
 */
export function bundleFileName(h: { readonly sender: string; readonly recipient: string; readonly sequence: number }): string {
  return `${h.sender}+${h.recipient}+${String(h.sequence).padStart(16, '0')}${BUNDLE_FILE_EXTENSION}`;
}

/** Error codes of file systems without hard links (FAT and exFAT: most USB sticks). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

const codeOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

async function syncDirectory(dir: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    // Some file systems (vfat on Linux among them) refuse fsync on a directory; the rename is still atomic.
    if (!['EINVAL', 'EISDIR', 'EPERM', 'ENOTSUP', 'EBADF'].includes(codeOf(e) ?? '')) throw e;
  } finally {
    await fh?.close();
  }
}

/** Options for `writeBundleFile`. */
export interface WriteBundleFileOptions {
  /** Replace a file already at `path` (default: refuse with `airgap_file_exists`). */
  readonly overwrite?: boolean;
}

/** Writes `bundle` to `path` atomically and durably. */
export async function writeBundleFile(path: string, bundle: Uint8Array, opts: WriteBundleFileOptions = {}): Promise<void> {
  if (bundle.length > MAX_BUNDLE_BYTES) throw new AirgapError('airgap_too_large', `${bundle.length} bytes > ${MAX_BUNDLE_BYTES}`);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomUUID()}.tmp`);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    try {
      await fh.writeFile(bundle);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.overwrite) {
      await rename(tmp, path);
    } else {
      try {
        // link() fails if `path` exists, atomically: no window where a concurrent writer is overwritten.
        await link(tmp, path);
      } catch (e) {
        if (codeOf(e) === 'EEXIST') throw new AirgapError('airgap_file_exists', `${path} exists; not replaced`);
        if (!NO_HARD_LINKS.has(codeOf(e) ?? '')) throw e;
        if (
          await access(path).then(
            () => true,
            () => false,
          )
        )
          throw new AirgapError('airgap_file_exists', `${path} exists; not replaced`);
        await rename(tmp, path);
      }
    }
    await syncDirectory(dir);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Reads a bundle file: its bytes, unauthenticated (open them with `openBundle`). */
export async function readBundleFile(path: string): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size > MAX_BUNDLE_BYTES) throw new AirgapError('airgap_too_large', `${path}: ${size} bytes > ${MAX_BUNDLE_BYTES}`);
    // Read one byte past the limit: a file that grows while it is read is caught too.
    const buf = new Uint8Array(MAX_BUNDLE_BYTES + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > MAX_BUNDLE_BYTES) throw new AirgapError('airgap_too_large', `${path}: more than ${MAX_BUNDLE_BYTES} bytes`);
    }
    return buf.slice(0, n);
  } finally {
    await fh.close();
  }
}
