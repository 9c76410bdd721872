/**
 * The console's Air gap page in a real browser (Debian's Chromium, playwright-core), against a
 * real cluster with an offline party, every piece a separate process: 2-of-3, the key made by an
 * online DKG, then party-3 taken offline (docs/offline.md) and party-1 stopped, so a desk's
 * request needs the vault. The vault's preprocessed commitments are delivered from their bundle
 * file; the page reads party-3's outbox and shows it as QR frames, whose screenshots, decoded with
 * jsqr, are the outbox's bundle byte for byte; the real `glacis-party offline sign --yes` reads
 * those screenshots and answers as PNG frames; the page reads them back from the image files and
 * posts the answer to the inbox (`{"bundle": hex}`), and the request completes with a signature an
 * independent verifier accepts. The same answer again is refused, shown by its code
 * (`bundle_replayed`), and changes nothing; so is a bundle re-signed by someone else
 * (`bundle_bad_signature`). An outbox holding party-3's part of a key generation names the key. No
 * CSP violation.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createFrameAssembler, decodeFramePng, encodeBundleFrames, readFramesFromDir } from '@glacis/airgap';
import { COORDINATOR, fromHex, sealBundle, toHex } from '@glacis/protocol';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinator, countingRng, signingPackages } from '../packages/protocol/test/bundle-fixtures.js';
// @ts-expect-error plain ESM module without types
import { startLocalCluster } from '../scripts/local-cluster.mjs';
import { haveChromium, launchConsoleBrowser, logIn, pinTrustFile } from './support/console-browser.js';
import { verifyIndependently } from './support/independent-verify.js';
import { type OfflineVault, takeOffline } from './support/offline-vault.js';
import { restClient } from './support/rest-client.js';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;
type Sig = { signatureId: string; status: string; signature: string | null; signers: string[] | null; error: unknown };
type Outbox = { partyId: string; bundle: string | null; sequence: number | null; signatureIds: string[]; items: number };

const work = mkdtempSync(join(tmpdir(), 'glacis-console-airgap-'));
const shots = process.env.GLACIS_CONSOLE_SCREENSHOTS ? resolve(process.env.GLACIS_CONSOLE_SCREENSHOTS) : join(work, 'screenshots');
mkdirSync(shots, { recursive: true });
const media = join(work, 'media');
mkdirSync(media);

let cluster: Cluster;
let api: ReturnType<typeof restClient>;
let vault: OfflineVault;
let keyId: string;
let publicKey: string;
let browser: BrowserContext;
let page: Page;
let violations: string[] = [];
/** The desk's request, and what the page read from the outbox for it. */
let signatureId: string;
let outbox: Outbox;

const text = async (selector: string) => (await page.waitForSelector(selector)).textContent();
const pngsIn = (dir: string) => readdirSync(dir).map((f) => join(dir, f));
const message = Buffer.from('pay the cold wallet, from the console');

describe.skipIf(!haveChromium)('the Air gap page, in Chromium, with an offline party', () => {
  beforeAll(async () => {
    cluster = await startLocalCluster({ dataDir: join(work, 'cluster'), port: 0, parties: 3 });
    api = restClient(cluster.baseUrl, cluster.adminToken);
    const key = await api<{ keyId: string; status: string; publicKey: string }>('POST', '/v1/keys?wait=30000', {
      suite: 'ed25519',
      threshold: 2,
      parties: ['party-1', 'party-2', 'party-3'],
    });
    expect(key.body.status).toBe('active');
    ({ keyId, publicKey } = key.body);
    vault = await takeOffline(cluster, 'party-3', ['party-1']);
    ({ browser, page, violations } = await launchConsoleBrowser(join(work, 'profile')));
    await logIn(page, cluster.baseUrl, cluster.adminToken);
    // The operator pinned the parties' identities, read out of band (the cluster's trust file).
    await pinTrustFile(page, cluster.baseUrl, readFileSync(cluster.trustFile, 'utf8'));
  });

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('delivers the vault’s preprocessed commitments from their bundle file, signed by the pinned key', async () => {
    const file = join(media, 'preprocess.glacis-bundle');
    await vault.run(['preprocess', '--key', keyId, '--count', '4', '--out', file]);
    await page.goto(`${cluster.baseUrl}/console/#/airgap`);
    await page.setInputFiles('#response-file', file);
    expect(await text('#response .sender')).toContain('✔ signed by the pinned key');
    await page.click('#post-inbox');
    expect(await text('#inbox-accepted')).toContain('with 0 answer(s) and 4 preprocessed commitment(s)');
  });

  it('reads party-3’s outbox and shows it as QR frames whose screenshots decode, with jsqr, to the outbox’s bundle', async () => {
    const accepted = await api<Sig>('POST', `/v1/keys/${keyId}/signatures`, { message: message.toString('hex') });
    expect(accepted.status).toBe(202);
    signatureId = accepted.body.signatureId;
    // The request reaches the outbox once its package is built (online party-2's commitment first).
    for (let i = 0; i < 100; i++) {
      if ((await api<Outbox>('GET', '/v1/parties/party-3/outbox')).body.items > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    await page.goto(`${cluster.baseUrl}/console/#/airgap/party-3`);
    expect(await page.inputValue('#outbox-party')).toBe('party-3');
    await page.selectOption('#qr-density', 'low');
    await page.fill('#qr-fps', '8');
    const [response] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/parties/party-3/outbox'),
      page.click('#outbox-read'),
    ]);
    outbox = (await response.json()) as Outbox;
    expect(outbox.signatureIds).toEqual([signatureId]);
    expect(await text('#outbox-source .signature-id')).toBe(signatureId);
    expect(await text('#bundle-info .recipient')).toBe('party-3');
    expect(await text('#bundle-info .sender')).toContain(COORDINATOR);
    await page.waitForSelector('#frame-counter:has-text("QR version")');
    const bundle = fromHex(outbox.bundle as string);
    const expected = encodeBundleFrames(bundle, { density: 'low' });
    expect(expected.length).toBeGreaterThan(1);
    // It plays: the frame shown changes by itself.
    const first = await page.getAttribute('#qr', 'data-frame');
    await page.waitForFunction((f) => document.getElementById('qr')?.dataset.frame !== f, first);
    await page.click('#qr-play');
    expect(await page.textContent('#qr-play')).toBe('Play');
    await page.screenshot({ path: join(shots, 'airgap.png'), fullPage: true });

    // Every frame photographed from the screen, as the vault's camera would.
    const photos = join(media, 'request');
    mkdirSync(photos);
    const seen = new Map<number, string>();
    const assembler = createFrameAssembler();
    for (let i = 0; i < expected.length; i++) {
      const index = Number(await page.getAttribute('#qr', 'data-frame'));
      const png = await page.locator('#qr').screenshot();
      writeFileSync(join(photos, `IMG_${1000 + index}.png`), png);
      const frame = decodeFramePng(png);
      seen.set(index, frame);
      assembler.push(frame);
      await page.click('#qr-next');
      await page.waitForFunction((f) => document.getElementById('qr')?.dataset.frame === String(f), (index + 1) % expected.length);
    }
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(expected.map((_, i) => i));
    for (const [i, frame] of seen) expect(frame).toBe(expected[i]);
    expect(toHex(assembler.result())).toBe(outbox.bundle);
    expect(toHex((await readFramesFromDir(photos)).bundle)).toBe(outbox.bundle);
  });

  it('reads the vault’s answer from images of its frames, delivers it to the inbox, and the request completes', async () => {
    const summary = await vault.run(['sign', '--in', join(media, 'request'), '--out', join(media, 'answer/'), '--yes', '--density', 'low']);
    expect(summary.results).toEqual([expect.objectContaining({ kind: 'signed', requestId: signatureId })]);
    const pngs = pngsIn(join(media, 'answer')).filter((f) => f.endsWith('.png'));
    expect(pngs.length).toBeGreaterThan(1);

    await page.goto(`${cluster.baseUrl}/console/#/keys`);
    await page.goto(`${cluster.baseUrl}/console/#/airgap`);
    // Shuffled, as a camera catches them.
    await page.setInputFiles('#frame-images', [...pngs].reverse());
    expect(await text('#scan-progress:has-text("complete")')).toBe('Transfer complete.');
    expect(await text('#response .sender')).toContain('party-3 ✔ signed by the pinned key');
    expect(await text('#response .recipient')).toBe(COORDINATOR);
    await page.click('#post-inbox');
    expect(await text('#inbox-accepted')).toContain('from party-3, with 1 answer(s) and');
    await page.screenshot({ path: join(shots, 'airgap-inbox.png'), fullPage: true });

    const done = await api<Sig>('GET', `/v1/signatures/${signatureId}?wait=20000`);
    expect(done.body.status, JSON.stringify(done.body.error)).toBe('completed');
    expect(done.body.signers).toEqual(['party-2', 'party-3']);
    expect(verifyIndependently('ed25519', publicKey, message, done.body.signature as string)).toBe(true);

    // The same answer scanned and delivered again: refused by its code, and nothing moves.
    const auditBefore = (await api<{ events: unknown[] }>('GET', '/v1/audit?limit=500')).body.events.length;
    await page.click('#scan-reset');
    await page.setInputFiles('#frame-images', pngs);
    await page.waitForSelector('#scan-progress:has-text("complete")');
    await page.click('#post-inbox');
    expect(await text('.inbox-problem .problem-code')).toBe('bundle_replayed');
    expect(await text('.inbox-problem')).toContain('Not delivered: the coordinator already accepted this bundle, or a newer one');
    expect(await text('.inbox-problem .detail')).toContain('POST /v1/parties/party-3/inbox answered 409 bundle_replayed');
    await page.screenshot({ path: join(shots, 'airgap-replayed.png'), fullPage: true });
    expect((await api<Sig>('GET', `/v1/signatures/${signatureId}`)).body).toEqual(done.body);
    expect((await api<{ events: unknown[] }>('GET', '/v1/audit?limit=500')).body.events.length).toBe(auditBefore);

    // Nothing waits for the vault any more.
    await page.click('#outbox-read');
    expect(await text('#outbox-empty')).toBe('Nothing waits for party-3: its outbox is empty.');
  });

  it('calls out an answer re-signed by anyone else, and shows the inbox refusing it (bundle_bad_signature)', async () => {
    const forged = sealBundle(
      {
        recipient: COORDINATOR,
        sequence: Date.now() + 60_000,
        createdAt: Date.now(),
        items: signingPackages(1).map((envelope) => ({ kind: 'envelope' as const, envelope })),
      },
      { name: 'party-3', identity: coordinator.identity },
      countingRng(3),
    );
    const file = join(media, 'forged.glacis-bundle');
    writeFileSync(file, forged);
    await page.click('#scan-reset');
    await page.setInputFiles('#response-file', file);
    expect(await text('#response .sender')).toContain('✖ NOT signed by the pinned key');
    await page.click('#post-inbox');
    expect(await text('.inbox-problem .problem-code')).toBe('bundle_bad_signature');
    expect(await text('.inbox-problem')).toContain('raise the alarm');
  });

  it('names the key generation it carries when the outbox holds party-3’s part of a DKG', async () => {
    // A 2-of-2 key with the online party-2 (party-1 is down): party-3's part waits in its outbox.
    const requested = await api<{ keyId: string }>('POST', '/v1/keys', { suite: 'ed25519', threshold: 2, parties: ['party-2', 'party-3'] });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    for (let i = 0; i < 100; i++) {
      if ((await api<Outbox>('GET', '/v1/parties/party-3/outbox')).body.items >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.goto(`${cluster.baseUrl}/console/#/keys`);
    await page.goto(`${cluster.baseUrl}/console/#/airgap/party-3`);
    await page.click('#outbox-read');
    expect(await text('#outbox-source .key-id')).toBe(requested.body.keyId);
    expect(await page.locator('#outbox-source .signature-id').count()).toBe(0);
  });

  it('met no Content-Security-Policy violation and no script error', () => {
    expect(violations).toEqual([]);
  });
});
