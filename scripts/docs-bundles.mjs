/**
 * Regenerates the generated parts of docs/bundles.md (scripts/bundles-doc.mjs: the example
 * bundle, its QR frames, the density table) and the picture docs/bundles-frame.png. Run after a
 * change to the format or the QR settings; it uses the built packages, so build first:
 *
 *   npx tsc -b && node scripts/docs-bundles.mjs
 *
 * test/bundles-doc.test.ts fails while the page is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DENSITY_PRESETS, renderFramePng } from '@glacis/airgap';
import { exampleFrames, generatedBlocks } from './bundles-doc.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PAGE = join(ROOT, 'docs/bundles.md');

/** Replaces the text between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`. */
export function splice(page, name, body) {
  const open = `<!-- generated:${name} -->`;
  const close = `<!-- /generated:${name} -->`;
  const a = page.indexOf(open);
  const b = page.indexOf(close);
  if (a < 0 || b < a) throw new Error(`docs/bundles.md: no ${open} … ${close} block`);
  return `${page.slice(0, a + open.length)}\n${body}\n${page.slice(b)}`;
}

let page = readFileSync(PAGE, 'utf8');
for (const [name, body] of Object.entries(generatedBlocks())) page = splice(page, name, body);
writeFileSync(PAGE, page);
const [first] = exampleFrames();
writeFileSync(
  join(ROOT, 'docs/bundles-frame.png'),
  await renderFramePng(first, { errorCorrection: DENSITY_PRESETS.medium.errorCorrection }),
);
console.log('docs/bundles.md and docs/bundles-frame.png regenerated');
