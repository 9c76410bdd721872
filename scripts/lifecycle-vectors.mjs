/**
 * Regenerates the published key-lifecycle vectors in docs/vectors/ (see its README):
 *
 *   node scripts/lifecycle-vectors.mjs           write every file
 *   node scripts/lifecycle-vectors.mjs --check   exit 1 if any file differs from what the code makes
 *
 * The generator is packages/protocol/test/lifecycle-vectors.ts, loaded through Vite's module
 * runner (as vitest loads it) so that it runs the protocol's TypeScript sources directly; the test
 * suite (vectors-lifecycle.test.ts) rebuilds the same files and compares them byte for byte.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'docs', 'vectors');
const check = process.argv.includes('--check');

const server = await createServer({
  root,
  configFile: false,
  logLevel: 'error',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, ws: false },
  optimizeDeps: { noDiscovery: true, include: [] },
});
let differ = 0;
try {
  const { buildLifecycleVectors } = await server.ssrLoadModule('/packages/protocol/test/lifecycle-vectors.ts');
  for (const [path, text] of buildLifecycleVectors()) {
    const file = join(outDir, path);
    let current;
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === text) continue;
    differ++;
    if (check) {
      console.error(`differs: docs/vectors/${path}`);
      continue;
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    console.error(`wrote docs/vectors/${path}`);
  }
} finally {
  await server.close();
}
if (check && differ > 0) process.exit(1);
console.error(check ? 'docs/vectors is up to date' : `${differ} file(s) written`);
