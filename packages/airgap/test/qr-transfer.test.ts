/**
 * The whole QR path as an operator runs it: a request bundle → PNG frames and animated pages →
 * frames shuffled and 20 % dropped → read back from the folder → the same bytes, which open.
 * Then what the reader does with images that are not frames, and the pages themselves.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openBundle, readBundleHeader } from '@glacis/protocol';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import {
  decodeFramePng,
  encodeBundleFrames,
  readFramesFromDir,
  renderAnimatedPage,
  renderFramePng,
  writeFramePngs,
  writeQrTransfer,
} from '../src/index.js';
import { party3Opens, rejectsWith, requestBundle, scratchDirs, seededBytes, shuffled } from './fixtures.js';
import { singlePart } from './ur-parts.js';

const scratch = scratchDirs();

describe('QR round trip through PNG files', () => {
  it('a bundle of 10 requests → PNG frames → shuffled, 20 % dropped → decoded back byte-identical, and it opens', async () => {
    const bundle = requestBundle(10);
    const out = scratch();
    const h = readBundleHeader(bundle);
    const written = await writeQrTransfer(out, bundle, {
      title: `${h.sender} → ${h.recipient} #${h.sequence}`,
      density: 'medium',
      redundancy: 1.5,
      scale: 2,
    });
    expect(written.frameFiles.length).toBeGreaterThan(60);
    expect(written.pages).toEqual(['animated.html', 'animated-noscript.html']);

    // The camera side: another folder, names that sort in a random order, a fifth of the frames never seen.
    const seen = scratch();
    const kept = shuffled(written.frameFiles, 'camera').slice(0, Math.floor(written.frameFiles.length * 0.8));
    for (const f of kept) copyFileSync(join(out, f), join(seen, `${createHash('sha256').update(f).digest('hex').slice(0, 12)}.png`));
    const read = await readFramesFromDir(seen);
    expect(Buffer.compare(read.bundle, bundle)).toBe(0);
    expect(read.skipped).toEqual([]);
    expect(read.imagesRead).toBeLessThanOrEqual(kept.length);
    expect(openBundle(read.bundle, party3Opens()).items).toHaveLength(10);
  }, 180_000);

  it('images that hold no usable frame are skipped and listed; an inverted screen still reads; the transfer completes', async () => {
    const data = seededBytes('skip')(2000);
    const dir = scratch();
    const frames = encodeBundleFrames(data, { density: 'low', redundancy: 1 });
    await writeFramePngs(dir, frames, { errorCorrection: 'M', scale: 2 });
    const blank = new PNG({ width: 64, height: 64 });
    blank.data.fill(0xff);
    writeFileSync(join(dir, '0-blank.png'), PNG.sync.write(blank));
    writeFileSync(join(dir, '0-not-a-png.png'), 'hello');
    writeFileSync(
      join(dir, '0-psbt.png'),
      await renderFramePng(singlePart(Uint8Array.of(0x41, 0), 'crypto-psbt').toUpperCase(), { errorCorrection: 'M' }),
    );
    const inverted = PNG.sync.read(Buffer.from(await renderFramePng(frames[0] as string, { errorCorrection: 'M', scale: 2 })));
    for (let i = 0; i < inverted.data.length; i += 4)
      for (let c = 0; c < 3; c++) inverted.data[i + c] = 255 - (inverted.data[i + c] as number);
    writeFileSync(join(dir, '0-inverted.png'), PNG.sync.write(inverted));
    writeFileSync(join(dir, 'notes.txt'), 'ignored: not a .png');
    const read = await readFramesFromDir(dir);
    expect(read.bundle).toEqual(data);
    expect(read.imagesRead).toBeGreaterThan(4);
    expect(read.skipped.map((s) => [s.file, s.code])).toEqual([
      ['0-blank.png', 'airgap_image_unreadable'],
      ['0-not-a-png.png', 'airgap_image_unreadable'],
      ['0-psbt.png', 'airgap_frame_wrong_type'],
    ]);
  });

  it('too few frames: airgap_incomplete, saying how far it got', async () => {
    const dir = scratch();
    const frames = encodeBundleFrames(seededBytes('few')(2000), { density: 'low' });
    await writeFramePngs(dir, frames.slice(0, 5), { errorCorrection: 'M', scale: 2 });
    const e = await rejectsWith(readFramesFromDir(dir), 'airgap_incomplete');
    expect(e.message).toMatch(/5 images, 0 unusable; .*5 frames of a \d+-fragment transfer/);
  });

  it('two transfers in one folder: airgap_frame_foreign, naming the file', async () => {
    const dir = scratch();
    await writeFramePngs(dir, encodeBundleFrames(seededBytes('a')(2000), { density: 'low' }).slice(0, 3), {
      errorCorrection: 'M',
      scale: 2,
    });
    const other = encodeBundleFrames(seededBytes('b')(2000), { density: 'low' });
    writeFileSync(join(dir, 'zz-other.png'), await renderFramePng(other[0] as string, { errorCorrection: 'M', scale: 2 }));
    const e = await rejectsWith(readFramesFromDir(dir), 'airgap_frame_foreign');
    expect(e.message).toContain('zz-other.png');
  });
});

describe('PNG reading is bounded', () => {
  it('a PNG whose header claims 100,000 × 100,000 pixels is refused before decoding: airgap_image_unreadable', async () => {
    const png = new Uint8Array(await renderFramePng('UR:BYTES/X', { errorCorrection: 'M' }));
    new DataView(png.buffer).setUint32(16, 100_000);
    new DataView(png.buffer).setUint32(20, 100_000);
    expect(() => decodeFramePng(png)).toThrow(
      expect.objectContaining({ code: 'airgap_image_unreadable', message: expect.stringMatching(/pixels/) }),
    );
  });

  it('a truncated PNG: airgap_image_unreadable', async () => {
    const png = await renderFramePng('UR:BYTES/X', { errorCorrection: 'M' });
    expect(() => decodeFramePng(png.subarray(0, png.length - 40))).toThrow(expect.objectContaining({ code: 'airgap_image_unreadable' }));
  });
});

describe('the animated pages', () => {
  const frames = encodeBundleFrames(seededBytes('page')(1200), { density: 'low' });
  const pngs = async () => Promise.all(frames.map((f) => renderFramePng(f, { errorCorrection: 'M', scale: 2 })));
  const inline = (html: string, tag: string) =>
    [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1] as string);
  const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

  for (const variant of ['script', 'css'] as const) {
    it(`${variant}: self-contained, its CSP allows exactly its own inline blocks, and every frame reads back in order`, async () => {
      const html = renderAnimatedPage(await pngs(), { title: 'coordinator → party-3 <#1>', variant, framesPerSecond: 5 });
      // Nothing loads from anywhere: the only URLs are data: images.
      expect(html).not.toMatch(/(src|href)="(?!data:image\/png;base64,)/);
      expect(html).not.toMatch(/https?:|url\(/);
      expect(html).toContain('<title>coordinator → party-3 &#60;#1&#62;</title>');
      const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
      expect(csp).toContain("default-src 'none'");
      const styles = inline(html, 'style');
      const scripts = inline(html, 'script');
      expect(styles).toHaveLength(1);
      expect(csp).toContain(`style-src ${hash(styles[0] as string)}`);
      if (variant === 'script') expect(csp).toContain(`script-src ${hash(scripts[0] as string)}`);
      else expect([scripts, csp.includes("script-src 'none'")]).toEqual([[], true]);
      const uris = [...html.matchAll(/src="data:image\/png;base64,([^"]+)"/g)].map((m) => Buffer.from(m[1] as string, 'base64'));
      expect(uris.map((u) => decodeFramePng(u))).toEqual(frames);
    });
  }

  it('the written pages are the ones renderAnimatedPage makes', async () => {
    const dir = scratch();
    mkdirSync(join(dir, 'x'));
    const t = await writeQrTransfer(join(dir, 'x'), seededBytes('w')(500), { title: 't', density: 'low', scale: 2 });
    const html = readFileSync(join(dir, 'x', 'animated.html'), 'utf8');
    expect(html.match(/<img /g)).toHaveLength(t.frameFiles.length);
  });
});
