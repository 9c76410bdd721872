/**
 * Trims an application tree (`node docker/prune-runtime.mjs DIR`) to what the runtime image needs,
 * after `npm prune --omit=dev`: compiled JavaScript, production node_modules, better-sqlite3's
 * compiled addon. Drops TypeScript sources, declaration files, source maps and the native addon's
 * build intermediates and C sources (about 20 MB). Used by the Dockerfile's deps-npm stage and by
 * scripts/prepare-image-context.sh, so both ways of building give the same tree.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2];
if (!root || !existsSync(join(root, 'package.json'))) {
  console.error('usage: node docker/prune-runtime.mjs DIR (an application tree with package.json)');
  process.exit(64);
}

const rm = (p) => rmSync(p, { recursive: true, force: true });

function walk(dir, visit) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, visit);
    else visit(p);
  }
}

for (const pkg of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', pkg);
  for (const name of ['src', 'test', 'tsconfig.json', 'tsconfig.tsbuildinfo']) rm(join(dir, name));
  if (existsSync(join(dir, 'dist'))) walk(join(dir, 'dist'), (p) => /\.(d\.ts|d\.ts\.map|js\.map)$/.test(p) && rm(p));
}
for (const name of ['tsconfig.json', 'tsconfig.base.json']) rm(join(root, name));

const sqlite = join(root, 'node_modules/better-sqlite3');
if (existsSync(sqlite)) {
  if (!existsSync(join(sqlite, 'build/Release/better_sqlite3.node'))) {
    console.error(`${sqlite}: build/Release/better_sqlite3.node is missing (the native addon was not built)`);
    process.exit(1);
  }
  for (const name of ['deps', 'src']) rm(join(sqlite, name));
  for (const name of readdirSync(join(sqlite, 'build'))) if (name !== 'Release') rm(join(sqlite, 'build', name));
  for (const name of readdirSync(join(sqlite, 'build/Release')))
    if (name !== 'better_sqlite3.node') rm(join(sqlite, 'build/Release', name));
}

// Scope directories `npm prune` emptied.
for (const name of readdirSync(join(root, 'node_modules'))) {
  const p = join(root, 'node_modules', name);
  if (name.startsWith('@') && readdirSync(p).length === 0) rm(p);
}
