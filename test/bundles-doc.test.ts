/**
 * docs/bundles.md is right: its generated blocks are what the code produces today (example bundle,
 * QR frames, density table; regenerate with scripts/docs-bundles.mjs), and — independently of the
 * code that printed them — the example's plain hex opens as a valid bundle, its field table
 * matches the layout table at the top of the page, its picture is frame 1, and the by-hand check
 * with xxd, sha256sum and openssl runs as written.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeFramePng } from '@glacis/airgap';
import { describeBundle, fromHex, MemoryBundleLedger, openBundle, openEnvelope } from '@glacis/protocol';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { exampleFrames, generatedBlocks } from '../scripts/bundles-doc.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const page = readFileSync(join(ROOT, 'docs/bundles.md'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'glacis-bundles-doc-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const block = (name: string) => {
  const m = new RegExp(`<!-- generated:${name} -->\\n([\\s\\S]*?)\\n<!-- /generated:${name} -->`).exec(page);
  if (!m) throw new Error(`docs/bundles.md: no generated:${name} block`);
  return m[1] as string;
};
const fenced = (text: string) => [...text.matchAll(/```text\n([\s\S]*?)\n```/g)].map((m) => m[1] as string);

const example = block('example');
const [plainHex, dump] = fenced(example) as [string, string];
const bytes = fromHex(plainHex.replaceAll('\n', ''));
const party3Key = /identity public key \(Ed25519\): `([0-9a-f]{64})`/.exec(example)?.[1] as string;

describe('docs/bundles.md', () => {
  it('every generated block is what scripts/bundles-doc.mjs produces now (else run scripts/docs-bundles.mjs)', () => {
    for (const [name, body] of Object.entries(generatedBlocks() as Record<string, string>)) expect(block(name), name).toBe(body);
  });

  it('the example, read from the page, opens: party-3 to the coordinator, a commitments envelope and a receipt', () => {
    const opened = openBundle(bytes, {
      self: 'coordinator',
      keyOf: (n) => (n === 'party-3' ? fromHex(party3Key) : undefined),
      ledger: new MemoryBundleLedger(),
    });
    expect(opened).toMatchObject({ sender: 'party-3', recipient: 'coordinator', sequence: 2, length: bytes.length });
    expect(opened.items.map((i) => i.kind)).toEqual(['envelope', 'receipt']);
    const env = opened.items[0]?.kind === 'envelope' ? opened.items[0].envelope : undefined;
    expect(openEnvelope(env, { self: 'coordinator', keyOf: () => fromHex(party3Key) }).type).toBe('commitments');
  });

  it('the field-by-field dump shows every byte once, in order', () => {
    const hexColumn = dump
      .split('\n')
      .map((line) => line.slice(8, 55).replaceAll(' ', ''))
      .join('');
    expect(hexColumn).toBe(plainHex.replaceAll('\n', ''));
  });

  it("the layout table's offsets and sizes are where the example's fields are", () => {
    const layout = page.slice(page.indexOf('## Format v1'), page.indexOf('### Items'));
    const s = 'party-3'.length;
    const r = 'coordinator'.length;
    const length = bytes.length;
    const evaluate = (expr: string) =>
      Number(Function('s', 'r', 'length', `return ${expr.replaceAll('`', '').replaceAll('−', '-')}`)(s, r, length));
    const fields = new Map(describeBundle(bytes).map((f) => [f.name, f]));
    const rows = [...layout.matchAll(/^\| ([^|]+) \| ([^|]+) \| ([a-z ]+?)(?: `[srn]`)? \|/gm)].filter((m) => m[1]?.trim() !== 'offset');
    expect(rows.map((m) => m[3])).toEqual([
      'magic',
      'version',
      'total length',
      'sender length',
      'sender',
      'recipient length',
      'recipient',
      'sequence',
      'bundle id',
      'created at',
      'item count',
      'items',
      'checksum',
      'signature',
    ]);
    for (const [, offset, size, name] of rows) {
      if (name === 'items') continue;
      const f = fields.get(name as string);
      expect([name, evaluate(offset as string), evaluate(size as string)]).toEqual([name, f?.offset, f?.bytes.length]);
    }
  });

  it('the picture is frame 1 of the example at the default density', () => {
    expect(decodeFramePng(readFileSync(join(ROOT, 'docs/bundles-frame.png')))).toBe(exampleFrames()[0]);
  });

  it('the by-hand check (xxd, sha256sum, openssl) runs as written and verifies checksum and signature', () => {
    const sh = /```sh\n([\s\S]*?)\n```/.exec(page.slice(page.indexOf('## A complete example')))?.[1] as string;
    writeFileSync(join(work, 'example.hex'), `${plainHex}\n`);
    const run = spawnSync('bash', ['-c', `set -euo pipefail\n${sh}`], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, PARTY3_KEY: party3Key },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('checksum OK');
    expect(run.stdout).toContain('Signature Verified Successfully');
  });
});
