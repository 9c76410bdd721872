/**
 * The console's static files and the security headers: exactly the files of the console package,
 * from memory (nothing a path can reach besides them), with a strict Content-Security-Policy on
 * every answer — the console's pages and the API's JSON alike.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { buildApp, type CoordinatorApp } from '../src/app.js';
import { createMetrics } from '../src/metrics.js';
import { type ConsoleFiles, consolePackageDir, loadConsoleFiles } from '../src/plugins/console.js';
import { CONTENT_SECURITY_POLICY, securityHeaderOptions } from '../src/plugins/security-headers.js';
import { createHarness, DEFAULT_SETTINGS, type Harness, problem } from './harness.js';

const fixture = mkdtempSync(join(tmpdir(), 'glacis-console-'));
mkdirSync(join(fixture, 'public'));
mkdirSync(join(fixture, 'dist', 'pages'), { recursive: true });
writeFileSync(join(fixture, 'public', 'index.html'), '<!doctype html><script type="module" src="js/main.js"></script>');
writeFileSync(join(fixture, 'public', 'console.css'), 'body{}');
writeFileSync(join(fixture, 'public', 'notes.txt'), 'not a served type');
writeFileSync(join(fixture, 'dist', 'main.js'), "import './pages/keys.js';");
writeFileSync(join(fixture, 'dist', 'main.js.map'), '{}');
writeFileSync(join(fixture, 'dist', 'main.d.ts'), 'export {};');
writeFileSync(join(fixture, 'dist', 'pages', 'keys.js'), 'export {};');
mkdirSync(join(fixture, 'vendor'));
writeFileSync(join(fixture, 'vendor', 'psbt.js'), 'export const v = 1;');
writeFileSync(join(fixture, 'vendor', 'psbt.d.ts'), 'export declare const v: number;');
writeFileSync(join(fixture, 'package.json'), '{"secret":"not served"}');
afterAll(() => rmSync(fixture, { recursive: true, force: true }));

let h: Harness | undefined;
let app: CoordinatorApp | undefined;
afterEach(async () => {
  await app?.close();
  await h?.close();
  app = undefined;
  h = undefined;
});

async function consoleApp(files: ConsoleFiles = loadConsoleFiles(fixture)): Promise<CoordinatorApp> {
  h = await createHarness();
  app = buildApp({
    config: DEFAULT_SETTINGS,
    store: h.store,
    orchestrator: h.orchestrator,
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(),
    console: files,
  });
  await app.ready();
  return app;
}

const EXPECTED_CSP =
  "default-src 'none';script-src 'self';style-src 'self';img-src 'self';connect-src 'self';base-uri 'none';form-action 'none';frame-ancestors 'none';require-trusted-types-for 'script';trusted-types 'none'";

describe('the console’s files', () => {
  test('serves the page, its styles and its modules with their types, revalidated by ETag', async () => {
    const a = await consoleApp();
    const page = await a.inject({ method: 'GET', url: '/console/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('js/main.js');
    expect(page.headers['cache-control']).toBe('no-cache');
    const js = await a.inject({ method: 'GET', url: '/console/js/pages/keys.js' });
    expect([js.statusCode, js.headers['content-type']]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect((await a.inject({ method: 'GET', url: '/console/console.css' })).headers['content-type']).toBe('text/css; charset=utf-8');
    const again = await a.inject({ method: 'GET', url: '/console/js/main.js', headers: { 'if-none-match': String(js.headers.etag) } });
    expect(again.statusCode).toBe(200); // another file's ETag
    const same = await a.inject({ method: 'GET', url: '/console/js/pages/keys.js', headers: { 'if-none-match': String(js.headers.etag) } });
    expect([same.statusCode, same.body]).toEqual([304, '']);
    expect((await a.inject({ method: 'HEAD', url: '/console/index.html' })).statusCode).toBe(200);
    const vendored = await a.inject({ method: 'GET', url: '/console/vendor/psbt.js' });
    expect([vendored.statusCode, vendored.headers['content-type'], vendored.body]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'export const v = 1;',
    ]);
  });

  test('sends / and /console to /console/', async () => {
    const a = await consoleApp();
    for (const url of ['/', '/console']) {
      const res = await a.inject({ method: 'GET', url });
      expect([res.statusCode >= 301 && res.statusCode <= 302, res.headers.location]).toEqual([true, '/console/']);
    }
  });

  test.each([
    '/console/../package.json',
    '/console/%2e%2e/package.json',
    '/console/%2e%2e%2fpackage.json',
    '/console/..%2f..%2fpackage.json',
    '/console/js/../../package.json',
    '/console/js/main.js.map',
    '/console/js/main.d.ts',
    '/console/vendor/psbt.d.ts',
    '/console/notes.txt',
    '/console/js/',
    '/console/index.html%00.js',
  ])('a path outside the served set answers 404 and nothing else: %s', async (url) => {
    const a = await consoleApp();
    const res = await a.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('not served');
    expect(problem(res).code).toBe('not_found');
  });

  test('is not part of the API: absent from the OpenAPI document, and no console without its files', async () => {
    const a = await consoleApp();
    const doc = JSON.parse((await a.inject({ method: 'GET', url: '/v1/openapi.json' })).body) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/v1/') && p !== '/metrics')).toEqual([]);
    h = await createHarness();
    expect((await h.request('GET', '/console/', { token: 'none' })).statusCode).toBe(404);
  });

  test('refuses a package directory with no page', () => {
    const empty = mkdtempSync(join(tmpdir(), 'glacis-console-empty-'));
    try {
      expect(() => loadConsoleFiles(empty)).toThrow(/no public\/index\.html/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('the installed console: every file its page and modules load is served (built by tsc -b)', async () => {
    const dir = consolePackageDir();
    expect(dir).toBeDefined();
    const files = loadConsoleFiles(dir as string);
    const a = await consoleApp(files);
    const page = (await a.inject({ method: 'GET', url: '/console/' })).body;
    const wanted = [...page.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => new URL(m[1] as string, 'http://x/console/').pathname);
    for (const [url, file] of files) {
      if (!url.endsWith('.js')) continue;
      // Static imports, and the dynamic ones that load the vendored modules on the pages that need them.
      for (const m of file.body.toString('utf8').matchAll(/\bfrom '(\.[^']+)'|import '(\.[^']+)'|import\('(\.[^']+)'\)/g)) {
        wanted.push(new URL((m[1] ?? m[2] ?? m[3]) as string, `http://x${url}`).pathname);
      }
    }
    expect(wanted).toContain('/console/js/main.js');
    expect(wanted).toContain('/console/vendor/psbt.js');
    for (const url of new Set(wanted)) expect(files.has(url), url).toBe(true);
    // No module reaches outside the console (no bare import: nothing a bundler or CDN would resolve).
    for (const [url, file] of files) if (url.endsWith('.js')) expect(file.body.toString('utf8'), url).not.toMatch(/\bfrom '[^.]/);
  });
});

describe('security headers', () => {
  test('the console page and the API’s JSON, 401 and 403 included, carry the strict CSP and the cross-origin isolation headers', async () => {
    const a = await consoleApp();
    const requester = { authorization: `Bearer ${h?.tokens.requester}` };
    for (const [url, headers] of [['/console/'], ['/v1/health'], ['/v1/keys'], ['/v1/parties', requester], ['/nope']] as const) {
      const res = await a.inject({ method: 'GET', url, ...(headers ? { headers } : {}) });
      expect(res.headers['content-security-policy'], url).toBe(EXPECTED_CSP);
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      expect(res.headers['cross-origin-opener-policy'], url).toBe('same-origin');
      expect(res.headers['cross-origin-resource-policy'], url).toBe('same-origin');
      expect(res.headers['strict-transport-security'], url).toBeUndefined();
    }
  });

  test('no inline script or style, no eval, nothing from elsewhere, no upgrade of plain-HTTP loopback requests', () => {
    const all = Object.entries(CONTENT_SECURITY_POLICY)
      .flatMap(([k, v]) => [k, ...v])
      .join(' ');
    for (const loose of ["'unsafe-inline'", "'unsafe-eval'", 'data:', 'blob:', 'https:', '*', 'upgrade-insecure-requests'])
      expect(all).not.toContain(loose);
  });

  test('HSTS only where the coordinator serves TLS, without claiming sibling hosts', () => {
    expect(securityHeaderOptions(false).strictTransportSecurity).toBe(false);
    expect(securityHeaderOptions(true).strictTransportSecurity).toEqual({ maxAge: 31_536_000, includeSubDomains: false });
  });
});
