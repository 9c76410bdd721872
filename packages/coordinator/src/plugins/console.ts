/**
 * Serves the console (packages/console): a fixed set of static files read once at start and held in
 * memory, under `/console/`. Nothing is looked up on disk per request, so no path a caller sends can
 * reach a file outside that set. The files use only the public REST API with the user's own token:
 * serving them gives nobody any privilege, and the coordinator keeps no secret for them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { CoordinatorError } from '../errors.js';

/** One served file. */
export interface ConsoleFile {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/** The console's files by URL path (`/console/index.html`, `/console/js/main.js`). */
export type ConsoleFiles = ReadonlyMap<string, ConsoleFile>;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Where the console's files are, from the installed `@glacis/console` package; undefined when it is not installed. */
export function consolePackageDir(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('@glacis/console/package.json'));
  } catch {
    return undefined;
  }
}

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/**
 * Reads the console from its package directory: `public/` (the page, styles, icons) at
 * `/console/`, the compiled modules `dist/**\/*.js` at `/console/js/`, and the vendored modules
 * `vendor/*.js` (noble's scrypt and XChaCha20, the protocol's PSBT reader, the air-gap QR codec,
 * built by scripts/console-vendor.mjs) at `/console/vendor/`. Source maps and declaration files
 * stay out. Throws when there is no page to serve.
 */
export function loadConsoleFiles(packageDir: string): ConsoleFiles {
  const files = new Map<string, ConsoleFile>();
  const add = (root: string, prefix: string, accept: (path: string) => boolean) => {
    for (const path of walk(root)) {
      const ext = path.slice(path.lastIndexOf('.'));
      const type = TYPES[ext];
      if (type === undefined || !accept(path)) continue;
      const body = readFileSync(path);
      const url = `${prefix}/${relative(root, path).split(sep).join('/')}`;
      files.set(url, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
    }
  };
  add(join(packageDir, 'public'), '/console', () => true);
  add(join(packageDir, 'dist'), '/console/js', (p) => p.endsWith('.js'));
  add(join(packageDir, 'vendor'), '/console/vendor', (p) => p.endsWith('.js'));
  if (!files.has('/console/index.html')) throw new Error(`${packageDir}: no public/index.html (is @glacis/console built?)`);
  return files;
}

/** Registers `/console/…` (and `/` → `/console/`), hidden from the OpenAPI document: they are not API. */
export function installConsole(app: FastifyInstance, files: ConsoleFiles): void {
  const hide = { schema: { hide: true } };
  app.get('/', hide, async (_request, reply) => reply.redirect('/console/', 302));
  app.get('/console', hide, async (_request, reply) => reply.redirect('/console/', 301));
  app.get<{ Params: { '*': string } }>('/console/*', hide, async (request, reply) => {
    const path = `/console/${request.params['*'] || 'index.html'}`;
    const file = files.get(path);
    if (file === undefined) throw new CoordinatorError('not_found', 'not found');
    // Revalidated every time: a coordinator upgrade must reach open consoles at their next load.
    reply.header('cache-control', 'no-cache').header('etag', file.etag).type(file.type);
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.send(file.body);
  });
}
