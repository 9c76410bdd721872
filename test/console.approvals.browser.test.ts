/**
 * Approving in the console, in a real browser (Debian's Chromium, playwright-core), against a real
 * cluster whose parties enforce a quorum-signed policy: every request of the test's Taproot key
 * needs one approval from the `treasury` group. An approver logs in with an `approver` token and
 * generates a key in the browser (exported in the CLI's signer-key format, which the CLI's code
 * opens); the test's policy administrators add it and a key made by `glacis approver create` to the
 * group. A raw request waits for approval and is approved with the browser's key; a PSBT request is
 * decoded (outputs, addresses, amounts, fee), approved with the CLI's key file opened in the
 * browser, and watched to completion; each signature is checked by a verifier that shares no code
 * with Glacis (libsecp256k1, over sighashes computed from the final transaction by the test's own
 * BIP-341 reference). A third request is rejected in the console and shown so on the Requests page.
 * No Content-Security-Policy violation anywhere.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fromHex, type Intent, identityFromSeed, openSignerKeyFile, parsePolicy, signPolicy, toHex } from '@glacis/protocol';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bip341KeyPathSighash, parseRawTx } from '../packages/protocol/test/bitcoin-reference.js';
import { p2wpkhDestination, type TxOut, taprootSpend } from '../packages/protocol/test/psbt-fixtures.js';
// @ts-expect-error plain ESM module without types
import { CLIENT_CLI, COORDINATOR_CLI, startLocalCluster } from '../scripts/local-cluster.mjs';
import { haveChromium, launchConsoleBrowser, logIn, pinTrustFile } from './support/console-browser.js';
import { verifierName, verifyIndependently } from './support/independent-verify.js';
import { restClient } from './support/rest-client.js';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;
type Sig = {
  signatureId: string;
  status: string;
  signature: string | null;
  signatures: string[] | null;
  finalized: { transactionHex: string | null } | null;
  error: { code: string; message: string } | null;
  approvals: { approverKey: string }[];
};

const work = mkdtempSync(join(tmpdir(), 'glacis-console-approvals-'));
const shots = process.env.GLACIS_CONSOLE_SCREENSHOTS ? resolve(process.env.GLACIS_CONSOLE_SCREENSHOTS) : join(work, 'screenshots');
mkdirSync(shots, { recursive: true });
const admins = [0x65, 0x66, 0x67].map((n) => identityFromSeed(new Uint8Array(32).fill(n)));
const shop = p2wpkhDestination(21);
const CLI_PASSPHRASE = 'the desk’s own passphrase';
const BROWSER_PASSPHRASE = 'generated in chromium, kept by me';

let cluster: Cluster;
let api: ReturnType<typeof restClient>;
let browser: BrowserContext;
let page: Page;
let violations: string[] = [];
let keyId: string;
let publicKey: string;
let approverToken: string;
let cliKeyFile: string;
let cliApprover: string;
let browserApprover: string;

const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
const text = async (selector: string) => (await page.waitForSelector(selector)).textContent();
const card = (id: string) => `article.request-card[data-request="${id}"]`;
/** (Re)opens the Approvals page in the same document: a reload would forget the key, as it should. */
const openApprovals = async () => {
  await page.goto(`${cluster.baseUrl}/console/#/keys`);
  await page.waitForSelector('tr[data-key]');
  await page.goto(`${cluster.baseUrl}/console/#/approvals`);
  await page.waitForSelector('#approver-key');
};
/** A request of the test's key; the policy holds it for approval. */
const ask = async (body: { message?: string; intent?: Intent; context?: Record<string, unknown> }) => {
  const res = await api<Sig>('POST', `/v1/keys/${keyId}/signatures`, body);
  expect([res.status, res.body.status], JSON.stringify(res.body)).toEqual([202, 'awaiting_approval']);
  return res.body.signatureId;
};
/** In the console: approve the request and watch it, in "Your decisions", until it completes. */
const approveInConsole = async (id: string) => {
  await openApprovals();
  await page.click(`${card(id)} button.approve`);
  await page.waitForSelector(`#decisions li[data-request="${id}"][data-status="completed"]`, { timeout: 60_000 });
  return (await api<Sig>('GET', `/v1/signatures/${id}`)).body;
};

describe.skipIf(!haveChromium)('approving in the console, in Chromium', () => {
  beforeAll(async () => {
    cluster = await startLocalCluster({
      dataDir: join(work, 'cluster'),
      port: 0,
      parties: 3,
      partyPins: [...admins.flatMap((a) => ['--policy-admin', toHex(a.publicKey)]), '--policy-quorum', '2', '--bitcoin-network', 'regtest'],
      env: { GLACIS_BITCOIN_NETWORK: 'regtest' },
    });
    api = restClient(cluster.baseUrl, cluster.adminToken);
    const created = await api<{ keyId: string; status: string; publicKey: string }>('POST', '/v1/keys?wait=30000', {
      suite: 'secp256k1-tr',
      threshold: 2,
      label: 'treasury',
    });
    expect(created.body.status).toBe('active');
    ({ keyId, publicKey } = created.body);

    const token = spawnSync(
      process.execPath,
      [
        COORDINATOR_CLI,
        'token',
        'create',
        '--name',
        'alice-desk',
        '--role',
        'approver',
        '--data-dir',
        join(cluster.dataDir, 'coordinator'),
      ],
      { encoding: 'utf8' },
    );
    expect(token.status, token.stderr).toBe(0);
    approverToken = (JSON.parse(token.stdout) as { token: string }).token;

    // The desk's CLI makes the other approver's key file, at its default cost.
    cliKeyFile = join(work, 'bob-approver.json');
    writeFileSync(join(work, 'passphrase'), `${CLI_PASSPHRASE}\n`);
    const made = spawnSync(
      process.execPath,
      [CLIENT_CLI, 'approver', 'create', '--out', cliKeyFile, '--passphrase-file', join(work, 'passphrase')],
      {
        encoding: 'utf8',
      },
    );
    expect(made.status, made.stderr).toBe(0);
    cliApprover = (JSON.parse(made.stdout) as { publicKey: string }).publicKey;

    ({ browser, page, violations } = await launchConsoleBrowser(join(work, 'profile')));
  });

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('generates an approval key in the browser, exported sealed in the CLI’s format, which the CLI’s code opens', async () => {
    await logIn(page, cluster.baseUrl, approverToken);
    await pinTrustFile(page, cluster.baseUrl, readFileSync(cluster.trustFile, 'utf8'));
    await openApprovals();
    expect(await text('#none-awaiting')).toContain('Nothing awaits approval');
    await page.fill('#new-passphrase', BROWSER_PASSPHRASE);
    await page.fill('#new-passphrase-again', BROWSER_PASSPHRASE);
    await page.click('button:has-text("Generate key")');
    browserApprover = (await text('#approver-public-key')) as string;
    expect(browserApprover).toMatch(/^[0-9a-f]{64}$/);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-key')]);
    const saved = join(work, 'browser-approver.json');
    await download.saveAs(saved);
    const file = JSON.parse(readFileSync(saved, 'utf8'));
    expect(file).toMatchObject({ format: 'glacis-signer-key', version: 1, role: 'approver', kdf: { name: 'scrypt', logN: 17 } });
    expect(toHex(openSignerKeyFile(file, BROWSER_PASSPHRASE).identity.publicKey)).toBe(browserApprover);
    // Never stored by the page: only the public key could be found in its storage.
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
    expect(stored).not.toContain(file.ciphertext);
    expect(stored).not.toContain(browserApprover);
    await shot('approvals-key');

    // The policy administrators put both approvers in the treasury group: every request of the key needs one.
    const policy = parsePolicy({
      version: 2,
      approverGroups: { treasury: [cliApprover, browserApprover] },
      rules: [
        {
          id: 'shop-with-approval',
          match: { key: { ids: [keyId] }, intentTypes: ['bitcoin-psbt'], destinations: { allowlist: [shop.address] } },
          decision: 'require',
          approvals: [{ group: 'treasury', min: 1 }],
        },
        {
          id: 'raw-with-approval',
          match: { key: { ids: [keyId] }, intentTypes: ['raw'] },
          decision: 'require',
          approvals: [{ group: 'treasury', min: 1 }],
        },
      ],
    });
    const put = await api<{ parties: { version: number }[] }>('PUT', '/v1/policy?wait=20000', {
      policy,
      signatures: admins.slice(0, 2).map((a) => signPolicy(policy, a)),
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.parties.map((p) => p.version)).toEqual([2, 2, 2]);
  });

  it('approves a raw request with the key generated in the browser; it completes and verifies independently', async () => {
    const message = toHex(new Uint8Array(32).fill(0x5a));
    const id = await ask({ message, context: { ticket: 'T-2001', desk: 'ops' } });
    await openApprovals();
    expect(await text(`${card(id)} .intent-view[data-intent="raw"] .hex.wrap`)).toBe(message);
    expect(await text(`${card(id)} .needs`)).toContain('treasury: 0 of 1');
    const sig = await approveInConsole(id);
    expect(sig.approvals.map((a) => a.approverKey)).toEqual([browserApprover]);
    expect(verifierName('secp256k1-tr')).toMatch(/libsecp256k1/);
    expect(verifyIndependently('secp256k1-tr', publicKey, fromHex(message), sig.signature as string)).toBe(true);
  });

  it('approves a PSBT, decoded in the browser, with the CLI’s key file opened there; watched to completion; verified independently', async () => {
    const xOnly = fromHex(publicKey);
    const change: TxOut = { script: Uint8Array.of(0x51, 0x20, ...xOnly), amount: 25_000n };
    const spend = taprootSpend(xOnly, [40_000n, 60_000n], [{ script: shop.script, amount: 70_000n }, change], 1);
    const id = await ask({ intent: spend.intent as Intent, context: { invoice: 'INV-77' } });

    await openApprovals();
    await page.click('#forget-key');
    await page.setInputFiles('#key-file', cliKeyFile);
    await page.fill('#key-passphrase', 'not the passphrase');
    await page.click('button:has-text("Open key")');
    expect(await text('#key-error:not([hidden])')).toContain('passphrase does not open');
    await page.fill('#key-passphrase', CLI_PASSPHRASE);
    await page.click('button:has-text("Open key")');
    expect(await text('#approver-public-key')).toBe(cliApprover);

    await page.selectOption('#network', 'regtest');
    const view = `${card(id)} .intent-view[data-intent="bitcoin-psbt"]`;
    // The page reads the intent again for the chosen network.
    await page.waitForSelector(`${view} tr[data-output="0"] .address:text-is("${shop.address}")`);
    expect(await text(`${view} tr[data-output="0"] .address`)).toBe(shop.address);
    expect(await text(`${view} tr[data-output="0"] .amount`)).toBe('0.00070000 BTC (70000 sat)');
    expect(await text(`${view} tr[data-output="1"]`)).toContain('change (back to this key)');
    expect(await text(`${view} .fee`)).toBe('0.00005000 BTC (5000 sat)');
    expect(await text(`${card(id)} dd`)).toContain('✔ verified');
    await shot('approvals');

    const sig = await approveInConsole(id);
    expect(sig.approvals.map((a) => a.approverKey)).toEqual([cliApprover]);
    // What a validating node checks: each witness signature over the sighash of the final bytes.
    const raw = parseRawTx(sig.finalized?.transactionHex as string);
    raw.inputs.forEach((input, i) => {
      const sighash = bip341KeyPathSighash(raw, i, spend.prevouts);
      expect(verifyIndependently('secp256k1-tr', publicKey, sighash, toHex(input.witness[0] as Uint8Array)), `input ${i}`).toBe(true);
    });
    await shot('approvals-done');
  });

  it('rejects a request in the console: it ends rejected, and the Requests page says so and why', async () => {
    const id = await ask({ message: toHex(new Uint8Array(32).fill(0x66)) });
    await openApprovals();
    await page.click(`${card(id)} button.reject`);
    expect(await text(`${card(id)} .outcome`)).toContain('Give a reason');
    await page.fill(`${card(id)} input.reason`, 'not on the payment run');
    await page.click(`${card(id)} button.reject`);
    await page.waitForSelector(`#decisions li[data-request="${id}"][data-status="rejected"]`);
    const sig = (await api<Sig>('GET', `/v1/signatures/${id}`)).body;
    expect(sig.status).toBe('rejected');
    expect(sig.error?.message).toContain(`approver ${cliApprover}`);

    await page.goto(`${cluster.baseUrl}/console/#/requests`);
    await page.waitForSelector('#requests caption:has-text("3 of 3 requests")');
    await page.selectOption('#filter-status', 'rejected');
    await page.waitForSelector('#requests caption:has-text("1 of 1 rejected requests shown")');
    expect(await text(`tr[data-request="${id}"] td:nth-child(3)`)).toBe('rejected');
    expect(await text(`tr[data-request="${id}"]`)).toContain('not on the payment run');
    await page.selectOption('#filter-status', 'completed');
    await page.waitForSelector('#requests caption:has-text("2 of 2 completed requests shown")');
    const psbtRow = (await page.$$('tr[data-request]'))[0];
    await psbtRow?.$eval('summary', (s) => (s as HTMLElement).click());
    await page.waitForSelector('tr[data-request] .intent-view[data-intent="bitcoin-psbt"]');
    await shot('requests-psbt');
  });

  it('met no Content-Security-Policy violation and no script error on any page', () => {
    expect(violations).toEqual([]);
  });
});
