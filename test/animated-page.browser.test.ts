/**
 * The animated QR pages in a real browser (headless Chromium, when installed; .ci/run installs it):
 * under the page's own Content-Security-Policy the frames really cycle, one at a time — a
 * screenshot at 0.1 s shows frame 1 and one at 1.1 s a later frame, each read back with the same
 * QR decoder the receiving side uses — and the browser reports no CSP violation.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeFramePng, encodeBundleFrames, renderAnimatedPage, renderFramePng } from '@glacis/airgap';
import { afterAll, describe, expect, it } from 'vitest';

const browser = ['chromium', 'chromium-browser', 'google-chrome'].find((b) => spawnSync('which', [b]).status === 0);
const work = mkdtempSync(join(tmpdir(), 'glacis-pages-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A screenshot of `page` after `ms` of virtual time, and what the browser logged. */
function screenshot(page: string, ms: number): { png: Buffer; log: string } {
  const out = join(work, `shot-${ms}.png`);
  const run = spawnSync(
    browser as string,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      '--enable-logging=stderr',
      '--v=0',
      `--user-data-dir=${join(work, 'profile')}`,
      '--window-size=700,820',
      `--virtual-time-budget=${ms}`,
      `--screenshot=${out}`,
      `file://${page}`,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(run.status, run.stderr).toBe(0);
  return { png: readFileSync(out), log: run.stderr };
}

describe.skipIf(browser === undefined)(`animated pages in ${browser ?? 'a browser (none installed: skipped)'}`, () => {
  const frames = encodeBundleFrames(
    new Uint8Array(1200).map((_, i) => i % 251),
    { density: 'low' },
  );

  for (const variant of ['script', 'css'] as const) {
    it(`${variant}: one frame at a time, a later one a second later, no CSP violation`, async () => {
      const pngs = await Promise.all(frames.map((f) => renderFramePng(f, { errorCorrection: 'M' })));
      const page = join(work, `${variant}.html`);
      writeFileSync(page, renderAnimatedPage(pngs, { title: 'coordinator → party-3 #1', variant, framesPerSecond: 4 }));
      const early = screenshot(page, 100);
      const later = screenshot(page, 1100);
      expect(decodeFramePng(early.png)).toBe(frames[0]);
      const shown = frames.indexOf(decodeFramePng(later.png));
      // 4 frames a second: about frame 5 after 1.1 s (the browser's virtual clock is not exact).
      expect(shown).toBeGreaterThanOrEqual(2);
      expect(shown).toBeLessThanOrEqual(6);
      for (const log of [early.log, later.log]) expect(log).not.toMatch(/Content Security Policy|Refused to/);
    });
  }
});
