/**
 * The console's Air gap page in a real browser (Debian's Chromium, playwright-core), against a
 * real coordinator. A bundle file the user picks is shown as animated QR frames at the chosen
 * density and speed; the test screenshots every frame from the page and decodes the screenshots
 * with jsqr (packages/airgap's decodeFramePng) back to the exact frames packages/airgap encodes
 * and to the bundle's bytes. An offline party's answer, as PNG images of its frames
 * (packages/airgap's writeFramePngs, what the party's side writes), is read back in the page with
 * jsqr, its header shown and its signature checked against the pinned key; posting it to the inbox
 * of API.md, which this coordinator does not serve yet, says so plainly. No CSP violation.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createFrameAssembler, decodeFramePng, encodeBundleFrames, writeFramePngs } from '@glacis/airgap';
import { COORDINATOR, sealBundle, toHex } from '@glacis/protocol';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinator, countingRng, party3, signingPackages } from '../packages/protocol/test/bundle-fixtures.js';
// @ts-expect-error plain ESM module without types
import { startLocalCluster } from '../scripts/local-cluster.mjs';
import { haveChromium, launchConsoleBrowser, logIn, pinTrustFile } from './support/console-browser.js';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;

const work = mkdtempSync(join(tmpdir(), 'glacis-console-airgap-'));
const shots = process.env.GLACIS_CONSOLE_SCREENSHOTS ? resolve(process.env.GLACIS_CONSOLE_SCREENSHOTS) : join(work, 'screenshots');
mkdirSync(shots, { recursive: true });

let cluster: Cluster;
let browser: BrowserContext;
let page: Page;
let violations: string[] = [];

const items = (n: number) => signingPackages(n).map((envelope) => ({ kind: 'envelope' as const, envelope }));
/** What the coordinator would put in party-3's outbox: three signing packages. */
const outgoing = sealBundle(
  { recipient: 'party-3', sequence: 12, createdAt: Date.parse('2026-03-02T10:00:00Z'), items: items(3) },
  coordinator,
  countingRng(1),
);
/** What party-3 answers, signed with its identity key. */
const answer = sealBundle(
  { recipient: COORDINATOR, sequence: 4, createdAt: Date.parse('2026-03-02T10:05:00Z'), items: items(1) },
  party3,
  countingRng(2),
);
const text = async (selector: string) => (await page.waitForSelector(selector)).textContent();

describe.skipIf(!haveChromium)('the Air gap page, in Chromium', () => {
  beforeAll(async () => {
    cluster = await startLocalCluster({ dataDir: join(work, 'cluster'), port: 0, parties: 3 });
    ({ browser, page, violations } = await launchConsoleBrowser(join(work, 'profile')));
    await logIn(page, cluster.baseUrl, cluster.adminToken);
    // The operator pinned party-3's identity (here: the test's party-3, which signs the answer).
    await pinTrustFile(page, cluster.baseUrl, JSON.stringify({ parties: { 'party-3': toHex(party3.identity.publicKey) } }));
  });

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('shows a bundle file as QR frames whose screenshots decode back, with jsqr, to the same frames and bytes', async () => {
    const file = join(work, 'party-3-outbox.glb');
    writeFileSync(file, outgoing);
    await page.goto(`${cluster.baseUrl}/console/#/airgap`);
    await page.selectOption('#qr-density', 'low');
    await page.fill('#qr-fps', '8');
    await page.setInputFiles('#bundle-file', file);
    expect(await text('#bundle-info .recipient')).toBe('party-3');
    expect(await text('#bundle-info .sender')).toContain('coordinator');
    await page.waitForSelector('#frame-counter:has-text("QR version")');
    const expected = encodeBundleFrames(outgoing, { density: 'low' });
    expect(expected.length).toBeGreaterThan(4);
    // It plays: the frame shown changes by itself.
    const first = await page.getAttribute('#qr', 'data-frame');
    await page.waitForFunction((f) => document.getElementById('qr')?.dataset.frame !== f, first);
    await page.click('#qr-play');
    expect(await page.textContent('#qr-play')).toBe('Play');
    await page.screenshot({ path: join(shots, 'airgap.png'), fullPage: true });

    const seen = new Map<number, string>();
    const assembler = createFrameAssembler();
    for (let i = 0; i < expected.length; i++) {
      const index = Number(await page.getAttribute('#qr', 'data-frame'));
      const frame = decodeFramePng(await page.locator('#qr').screenshot());
      seen.set(index, frame);
      assembler.push(frame);
      await page.click('#qr-next');
      await page.waitForFunction((f) => document.getElementById('qr')?.dataset.frame === String(f), (index + 1) % expected.length);
    }
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(expected.map((_, i) => i));
    for (const [i, frame] of seen) expect(frame).toBe(expected[i]);
    expect(toHex(assembler.result())).toBe(toHex(outgoing));
  });

  it('reads an offline party’s answer from images of its frames, checks its signature, and says the inbox is not served yet', async () => {
    const dir = join(work, 'answer-frames');
    await writeFramePngs(dir, encodeBundleFrames(answer, { density: 'low' }), { errorCorrection: 'M' });
    const pngs = readdirSync(dir).map((f) => join(dir, f));
    expect(pngs.length).toBeGreaterThan(1);
    await page.goto(`${cluster.baseUrl}/console/#/keys`);
    await page.goto(`${cluster.baseUrl}/console/#/airgap`);
    // Shuffled, as a camera catches them.
    await page.setInputFiles('#frame-images', [...pngs].reverse());
    expect(await text('#scan-progress:has-text("complete")')).toBe('Transfer complete.');
    expect(await text('#response .sender')).toContain('✔ signed by the pinned key');
    expect(await text('#response .recipient')).toBe(COORDINATOR);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-bundle')]);
    const saved = join(work, 'answer.glb');
    await download.saveAs(saved);
    expect(toHex(new Uint8Array((await import('node:fs')).readFileSync(saved)))).toBe(toHex(answer));

    await page.click('#post-inbox');
    const alarm = await text('#inbox-outcome .alarm');
    expect(alarm).toContain('this coordinator has no inbox for offline parties yet');
    expect(alarm).toContain('POST /v1/parties/party-3/inbox answered 404');
    await page.screenshot({ path: join(shots, 'airgap-inbox.png'), fullPage: true });

    // The same answer re-signed by anyone else is called out.
    await page.click('#scan-reset');
    const forged = sealBundle(
      { recipient: COORDINATOR, sequence: 5, createdAt: Date.now(), items: items(1) },
      { name: 'party-3', identity: coordinator.identity },
      countingRng(3),
    );
    writeFileSync(join(work, 'forged.glb'), forged);
    await page.setInputFiles('#response-file', join(work, 'forged.glb'));
    expect(await text('#response .sender')).toContain('✖ NOT signed by the pinned key');
  });

  it('met no Content-Security-Policy violation and no script error', () => {
    expect(violations).toEqual([]);
  });
});
