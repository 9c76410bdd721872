/**
 * Bundle files on removable media: what is written reads back byte for byte, appears whole or not
 * at all, never silently replaces an uncarried bundle, and an oversized file is refused before it
 * is read.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_BUNDLE_BYTES, openBundle, readBundleHeader } from '@glacis/protocol';
import { describe, expect, it } from 'vitest';
import { bundleFileName, readBundleFile, writeBundleFile } from '../src/index.js';
import { party3Opens, rejectsWith, requestBundle, scratchDirs } from './fixtures.js';

const scratch = scratchDirs();

describe('bundle files', () => {
  it('round-trip byte for byte under the conventional name, and the bundle opens', async () => {
    const dir = scratch();
    const bundle = requestBundle(3, 42);
    const name = bundleFileName(readBundleHeader(bundle));
    expect(name).toBe('coordinator+party-3+0000000000000042.glacis-bundle');
    await writeBundleFile(join(dir, name), bundle);
    const back = await readBundleFile(join(dir, name));
    expect(Buffer.compare(back, bundle)).toBe(0);
    expect(openBundle(back, party3Opens()).items).toHaveLength(3);
    expect(readdirSync(dir)).toEqual([name]); // no temporary file left behind
  });

  it('an uncarried bundle is never replaced by a newer write: airgap_file_exists, the old bytes intact', async () => {
    const dir = scratch();
    const path = join(dir, 'out.glacis-bundle');
    const first = requestBundle(1, 1);
    await writeBundleFile(path, first);
    await rejectsWith(writeBundleFile(path, requestBundle(1, 2)), 'airgap_file_exists');
    expect(Buffer.compare(readFileSync(path), first)).toBe(0);
    expect(readdirSync(dir)).toEqual(['out.glacis-bundle']);
  });

  it('overwrite: true replaces it, atomically (rename over the old file)', async () => {
    const dir = scratch();
    const path = join(dir, 'out.glacis-bundle');
    await writeBundleFile(path, requestBundle(1, 1));
    const second = requestBundle(1, 2);
    await writeBundleFile(path, second, { overwrite: true });
    expect(Buffer.compare(readFileSync(path), second)).toBe(0);
  });

  it('a writer that crashed mid-write leaves only its hidden temporary file; the real name is absent or whole', async () => {
    const dir = scratch();
    const bundle = requestBundle(2);
    const path = join(dir, bundleFileName(readBundleHeader(bundle)));
    // What a crash after a partial write looks like: the temporary name, half full.
    writeFileSync(join(dir, `.${bundleFileName(readBundleHeader(bundle))}.crashed.tmp`), bundle.subarray(0, 100));
    expect(existsSync(path)).toBe(false);
    await writeBundleFile(path, bundle);
    expect(Buffer.compare(await readBundleFile(path), bundle)).toBe(0);
  });

  it('a write that fails after the data is on disk (target is a directory) removes its temporary file and changes nothing', async () => {
    const dir = scratch();
    const target = join(dir, 'taken');
    mkdirSync(target);
    await expect(writeBundleFile(target, requestBundle(1), { overwrite: true })).rejects.toMatchObject({ code: 'EISDIR' });
    await rejectsWith(writeBundleFile(target, requestBundle(1)), 'airgap_file_exists');
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(readdirSync(target)).toEqual([]);
  });

  it('a write into a missing directory fails and leaves nothing', async () => {
    const dir = scratch();
    await expect(writeBundleFile(join(dir, 'nope', 'x.glacis-bundle'), requestBundle(1))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a file larger than any bundle is refused before it is read: airgap_too_large', async () => {
    const dir = scratch();
    const path = join(dir, 'huge.glacis-bundle');
    writeFileSync(path, '');
    truncateSync(path, MAX_BUNDLE_BYTES + 1); // sparse: no 4 MiB written
    await rejectsWith(readBundleFile(path), 'airgap_too_large');
    await rejectsWith(writeBundleFile(join(dir, 'w'), new Uint8Array(MAX_BUNDLE_BYTES + 1)), 'airgap_too_large');
  });
});
