/**
 * Debian's Chromium driven by playwright-core for the console's browser tests: a fresh profile,
 * the flags a headless CI box needs, and a record of everything the browser refused or failed at
 * (Content-Security-Policy violations, Trusted Types refusals, script errors) on any page, which
 * each test expects to stay empty.
 */
import { existsSync } from 'node:fs';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/** A browser, its one page, and what it refused so far. */
export interface ConsoleBrowser {
  browser: BrowserContext;
  page: Page;
  violations: string[];
}

/** Starts Chromium with a fresh profile in `profileDir`. */
export async function launchConsoleBrowser(profileDir: string): Promise<ConsoleBrowser> {
  const browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const violations: string[] = [];
  await page.exposeBinding('__glacisViolation', (_source, what: string) => {
    violations.push(what);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __glacisViolation: (s: string) => void }).__glacisViolation(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to|TrustedHTML|TrustedScript/i.test(m.text())) violations.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => violations.push(`pageerror: ${e.message}`));
  return { browser, page, violations };
}

/** Logs in on the console at `baseUrl` with `token`. */
export async function logIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/console/`);
  await page.waitForSelector('#token');
  await page.fill('#token', token);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('nav a[aria-current="page"]');
}

/** Pins the parties of the trust file `text` on the Trust page. */
export async function pinTrustFile(page: Page, baseUrl: string, text: string): Promise<void> {
  await page.goto(`${baseUrl}/console/#/trust`);
  await page.fill('#trust-text', text);
  await page.click('button:has-text("Import (")');
  await page.waitForSelector('#pins tbody tr[data-party]');
}
