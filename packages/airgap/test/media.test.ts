/**
 * The CLIs' one rule for removable media (media.ts): a path ending in `/` or naming a directory
 * is a QR transfer, anything else a bundle file; both read back to the same bytes; and a write
 * never lands on an earlier file or beside an earlier transfer's frames, where a reader would meet
 * two transfers in one folder (`airgap_frame_foreign`).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertMediaWritable, isFrameDirectory, readBundleMedia, writeBundleMedia } from '../src/index.js';
import { rejectsWith, requestBundle, scratchDirs } from './fixtures.js';

const scratch = scratchDirs();

describe('bundles on media', () => {
  it('a file and a directory of frames both read back to the bundle; the directory holds frames and the animated pages', async () => {
    const bundle = requestBundle(3);
    const dir = scratch();
    const file = join(dir, 'b.glacis-bundle');
    expect(await writeBundleMedia(file, bundle, { title: 't' })).toEqual({ file, bytes: bundle.length });
    expect(isFrameDirectory(file)).toBe(false);
    const frames = join(dir, 'frames/');
    const written = await writeBundleMedia(frames, bundle, { title: 't', density: 'low' });
    expect(written).toMatchObject({ dir: frames, bytes: bundle.length, pages: ['animated.html', 'animated-noscript.html'] });
    expect(readdirSync(frames).filter((f) => f.endsWith('.png'))).toHaveLength((written as { frames: number }).frames);
    for (const path of [file, frames, join(dir, 'frames')]) expect((await readBundleMedia(path)).bundle).toEqual(bundle);
  });

  it('an earlier file, or a directory holding an earlier transfer, is never written over or mixed with: airgap_file_exists', async () => {
    const dir = scratch();
    const file = join(dir, 'old.glacis-bundle');
    writeFileSync(file, 'uncarried');
    await rejectsWith(writeBundleMedia(file, requestBundle(1), { title: 't' }), 'airgap_file_exists');
    expect(readFileSync(file, 'utf8')).toBe('uncarried');
    const frames = join(dir, 'frames');
    await writeBundleMedia(`${frames}/`, requestBundle(1), { title: 'first' });
    const before = readdirSync(frames).sort();
    for (const target of [frames, `${frames}/`]) {
      expect(() => assertMediaWritable(target)).toThrow(/already holds a transfer/);
      await rejectsWith(writeBundleMedia(target, requestBundle(2, 2), { title: 'second' }), 'airgap_file_exists');
    }
    expect(readdirSync(frames).sort()).toEqual(before);
    // An empty directory, or one with other things in it, takes a transfer.
    const notes = join(dir, 'notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'README.txt'), 'trip log');
    expect(() => assertMediaWritable(notes)).not.toThrow();
  });
});
