/**
 * The console in a real browser: Debian's Chromium driven by playwright-core, against a real
 * cluster (`npm start`'s processes). A user logs in with a token, pins the parties' identities from
 * the trust file, sees the key the test made verified in the browser, sees a key whose public key
 * was edited in the coordinator's database shown as UNTRUSTED, finds a completed signing request
 * and a rejected one with the parties that refused and why, watches the audit chain verify and
 * then break at the edited event, and logs out. Under the coordinator's Content-Security-Policy
 * nothing is refused: the test listens for `securitypolicyviolation` events and CSP console
 * messages on every page.
 *
 * Screenshots of each page go to a temporary directory, or to GLACIS_CONSOLE_SCREENSHOTS when set
 * (`GLACIS_CONSOLE_SCREENSHOTS=docs/console npx vitest run test/console.browser.test.ts` refreshes
 * the ones docs/console.md shows).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { startLocalCluster } from '../scripts/local-cluster.mjs';
import { haveChromium, launchConsoleBrowser } from './support/console-browser.js';
import { restClient } from './support/rest-client.js';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;
type Key = { keyId: string; status: string; publicKey: string };

const work = mkdtempSync(join(tmpdir(), 'glacis-console-e2e-'));
const shots = process.env.GLACIS_CONSOLE_SCREENSHOTS ? resolve(process.env.GLACIS_CONSOLE_SCREENSHOTS) : join(work, 'screenshots');
mkdirSync(shots, { recursive: true });

let cluster: Cluster;
let browser: BrowserContext;
let page: Page;
let treasury: Key;
let tampered: Key;
let signatureId: string;
let rejectedId: string;
/** What the browser refused or failed at, on any page: must stay empty. */
let violations: string[] = [];

const sql = (statements: (db: Database.Database) => void) => {
  const db = new Database(join(cluster.dataDir, 'coordinator', 'coordinator.sqlite'));
  try {
    statements(db);
  } finally {
    db.close();
  }
};

async function open(hash: string): Promise<void> {
  await page.goto(`${cluster.baseUrl}/console/${hash}`);
}
const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
const text = async (selector: string) => (await page.waitForSelector(selector)).textContent();

describe.skipIf(!haveChromium)('the console in Chromium', () => {
  beforeAll(async () => {
    cluster = await startLocalCluster({ dataDir: join(work, 'cluster'), port: 0, parties: 3 });
    const api = restClient(cluster.baseUrl, cluster.adminToken);
    const make = async (label: string) => {
      const res = await api<Key>('POST', '/v1/keys?wait=30000', { suite: 'ed25519', threshold: 2, label });
      expect(res.body.status).toBe('active');
      return res.body;
    };
    treasury = await make('treasury');
    tampered = await make('cold-storage');
    const signed = await api<{ signatureId: string; status: string }>('POST', `/v1/keys/${treasury.keyId}/signatures?wait=30000`, {
      message: '68656c6c6f',
      context: { ticket: 'T-1001' },
    });
    expect(signed.body.status).toBe('completed');
    signatureId = signed.body.signatureId;
    // Two parties now require an approval the request does not carry: it is rejected, and the
    // console must say who refused and why.
    for (const p of ['party-2', 'party-3']) {
      await cluster.kill(p, 'SIGTERM');
      const file = join(cluster.dataDir, p, 'party.json');
      const config = JSON.parse(readFileSync(file, 'utf8'));
      writeFileSync(file, JSON.stringify({ ...config, policy: { ...config.policy, requiredApprovals: 1, approvers: ['cd'.repeat(32)] } }));
      cluster.startParty(p);
    }
    await cluster.waitConnected();
    const refused = await api<{ signatureId: string; status: string }>('POST', `/v1/keys/${treasury.keyId}/signatures?wait=30000`, {
      message: '6e6f',
    });
    expect(refused.body.status).toBe('rejected');
    rejectedId = refused.body.signatureId;

    ({ browser, page, violations } = await launchConsoleBrowser(join(work, 'profile')));
  });

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('logs in with a token kept in memory only, under the strict CSP', async () => {
    const res = await page.goto(`${cluster.baseUrl}/console/`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(res?.headers()['content-security-policy']).toContain("require-trusted-types-for 'script'");
    await page.waitForSelector('#token');
    await shot('login');
    await page.fill('#token', 'glc_not-a-token');
    await page.click('form.login button[type=submit]');
    expect(await text('#login-error:not([hidden])')).toContain('does not know this token');

    await page.fill('#token', cluster.adminToken);
    await page.click('form.login button[type=submit]');
    await page.waitForSelector('nav a[aria-current="page"]');
    // Nothing pinned yet: no certificate is called verified.
    expect(await text(`tr[data-key="${treasury.keyId}"] .verdict`)).toContain('not checked');
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
    expect(stored).not.toContain(cluster.adminToken);
    expect(page.url()).not.toContain(cluster.adminToken);
  });

  it('pins the parties from the trust file, and verifies the key’s certificate in the browser', async () => {
    await open('#/trust');
    await page.fill('#trust-text', readFileSync(cluster.trustFile, 'utf8'));
    await page.click('button:has-text("Import (")');
    await page.waitForSelector('#pins tbody tr[data-party="party-3"]');
    await shot('trust');

    await open('#/keys');
    expect(await text(`tr[data-key="${treasury.keyId}"] .verdict .badge-ok`)).toContain('verified');
    expect(await text(`tr[data-key="${tampered.keyId}"] .verdict .badge-ok`)).toContain('verified');
    expect(await page.$('.alarm')).toBeNull();
    await open(`#/keys/${treasury.keyId}`);
    expect(await text('.verified')).toContain('Every member of the committee signed this public key');
    expect(await text('#public-key')).toBe(treasury.publicKey);
    await shot('key');
  });

  it('shows a key whose public key the coordinator’s database swapped as UNTRUSTED, loudly', async () => {
    const attacker = 'ab'.repeat(32);
    sql((db) => expect(db.prepare('UPDATE keys SET public_key = ? WHERE key_id = ?').run(attacker, tampered.keyId).changes).toBe(1));
    await open('#/parties');
    await open('#/keys');
    expect(await text('.alarm[role="alert"]')).toContain('1 key does NOT verify');
    expect(await text(`tr.row-untrusted[data-key="${tampered.keyId}"] .verdict`)).toContain('UNTRUSTED');
    expect(await text(`tr[data-key="${tampered.keyId}"] .verdict`)).toContain('public_key_mismatch');
    expect(await text(`tr[data-key="${treasury.keyId}"] .verdict .badge-ok`)).toContain('verified');
    await shot('keys');
    await open(`#/keys/${tampered.keyId}`);
    const alarm = await text('.alarm[role="alert"]');
    expect(alarm).toContain('UNTRUSTED KEY — public_key_mismatch');
    expect(alarm).toContain(`the committee confirmed ${tampered.publicKey}`);
    await shot('key-untrusted');
  });

  it('finds the signing requests with their outcomes, signers, and the parties excluded and why; filters by status', async () => {
    await open('#/requests');
    const row = `tr[data-request="${signatureId}"]`;
    const rejected = `tr[data-request="${rejectedId}"]`;
    expect(await text(`${row} td:nth-child(3)`)).toBe('completed');
    expect(await text(`${row} td:nth-child(7)`)).toMatch(/^party-\d, party-\d$/);
    await page.click(`${row} summary`);
    expect(await text(`${row} .intent-view .hex.wrap`)).toBe('68656c6c6f');
    expect(await text(`${row} .request-fields dd:nth-of-type(2)`)).toBe('{"ticket":"T-1001"}');
    expect(await text(`${rejected} td:nth-child(3)`)).toBe('rejected');
    const excluded = await text(`${rejected} td.excluded`);
    for (const p of ['party-2', 'party-3']) expect(excluded).toMatch(new RegExp(`${p}: policy_approvals_missing`));
    await shot('requests');
    await page.selectOption('#filter-status', 'failed');
    await page.waitForSelector('#requests caption:has-text("0 of 0 failed requests shown")');
    expect(await page.$(row)).toBeNull();
    await page.selectOption('#filter-status', 'rejected');
    await page.waitForSelector(rejected);
    expect(await page.$(row)).toBeNull();
    await page.selectOption('#filter-status', 'completed');
    await page.waitForSelector(row);
    expect(await page.$(rejected)).toBeNull();
  });

  it('shows every party connected, with its latency over the last hour and its identity against the pin', async () => {
    await open('#/parties');
    for (const p of cluster.parties) {
      expect(await text(`tr[data-party="${p}"] td:nth-child(2)`)).toContain('connected');
      expect(await text(`tr[data-party="${p}"] td:last-child`)).toContain('matches your pin');
      expect(await page.getAttribute(`tr[data-party="${p}"] svg.chart`, 'aria-label')).toMatch(new RegExp(`^${p}: `));
    }
    const labels = await page.$$eval('svg.chart', (els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    // Two of the three parties signed the request: their charts have a share in the last hour.
    expect(labels.filter((l) => / \d+ shares in the last hour/.test(l)).length).toBeGreaterThanOrEqual(2);
    await shot('parties');
  });

  it('lists the key generations as operations', async () => {
    await open('#/operations');
    await page.waitForSelector('tr[data-operation]');
    const rows = await page.$$eval('tr[data-operation]', (els) => els.map((e) => e.textContent ?? ''));
    expect(rows.length).toBe(2);
    for (const r of rows) expect(r).toMatch(/dkg.*completed/);
    await shot('operations');
  });

  it('verifies the audit chain in the browser, records an anchor, and catches an edited event', async () => {
    await open('#/audit');
    expect(await text('#chain-verdict')).toContain('chain verified');
    await page.click('button:has-text("Record the current head")');
    await page.waitForSelector('ul.anchors li');
    expect(await text('#chain-verdict')).toContain('1 anchor still in place');
    await shot('audit');

    sql((db) => {
      db.exec('DROP TRIGGER audit_no_update');
      db.prepare("UPDATE audit SET type = 'nothing_to_see' WHERE seq = 2").run();
    });
    await open('#/keys');
    await open('#/audit');
    const alarm = await text('#chain-verdict');
    expect(alarm).toContain('AUDIT CHAIN BROKEN at event 2');
    expect(alarm).toContain('hash does not match the event (the event was edited)');
    await shot('audit-broken');
  });

  it('forgets the token on reload unless asked, and everywhere on log out', async () => {
    await page.reload();
    await page.waitForSelector('#token');
    await page.fill('#token', cluster.adminToken);
    await page.check('#remember');
    await page.click('form.login button[type=submit]');
    await page.waitForSelector('nav a[aria-current="page"]');
    await page.reload();
    await page.waitForSelector('nav a[aria-current="page"]');
    expect(await page.evaluate(() => sessionStorage.getItem('glacis.console.token'))).toBe(cluster.adminToken);
    await page.click('#logout');
    await page.waitForSelector('#token');
    expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }))).not.toContain(cluster.adminToken);
  });

  it('met no Content-Security-Policy violation and no script error on any page', () => {
    expect(violations).toEqual([]);
  });

  it('would have heard one: markup through innerHTML and an image from elsewhere are refused and reported', async () => {
    const refused = await page.evaluate(() => {
      try {
        document.body.innerHTML = '<img src=x>';
        return false;
      } catch (e) {
        return e instanceof TypeError;
      }
    });
    expect(refused).toBe(true);
    await page.evaluate(() => {
      const img = document.createElement('img');
      img.src = 'http://127.0.0.2:9/elsewhere.png';
      document.body.append(img);
    });
    await expect.poll(() => violations.join('\n')).toContain('img-src');
    expect(violations.join('\n')).toContain('require-trusted-types-for');
  });
});
