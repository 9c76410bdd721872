/**
 * The documentation runs. Against a cluster started the way `npm start` starts one
 * (scripts/local-cluster.mjs, data in `<tmp>/.glacis`, as README assumes):
 *   - docs/api.md documents exactly the endpoints the served OpenAPI document has (one
 *     "### `METHOD /path`" heading each), no more, no fewer;
 *   - every ```sh block of docs/api.md runs, in order, in one shell with BASE and TOKEN set, and
 *     prints what its `<!-- expect: … -->` annotations say; the approval it builds with openssl
 *     is checked against the protocol's own request digest;
 *   - README's quickstart block runs as written (only the port differs), verifies its key with
 *     `glacis keys verify` against the trust file `npm start` writes, and signs;
 *   - every metric docs/operations.md names (its table and its alert rules) is served.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { approvalDigest, fromHex, rawIntent, verifyIdentitySignature } from '@glacis/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { CLIENT_CLI, startLocalCluster } from '../scripts/local-cluster.mjs';
import { spawnCollect } from './support/spawn.js';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;
const ROOT = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'glacis-docs-'));
let cluster: Cluster;

interface ShBlock {
  line: number;
  code: string;
  expects: string[];
  skip: boolean;
}

/** The ```sh blocks of a markdown file, with the `<!-- expect: … -->` / `<!-- test: skip … -->` lines right above each. */
function shBlocks(markdown: string): ShBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== '```sh') continue;
    const expects: string[] = [];
    let skip = false;
    for (let j = i - 1; j >= 0; j--) {
      const m = /^<!-- (expect|test): (.*) -->$/.exec(lines[j]?.trim() ?? '');
      if (!m) break;
      if (m[1] === 'expect') expects.unshift(m[2] as string);
      else if (m[2]?.startsWith('skip')) skip = true;
    }
    const end = lines.indexOf('```', i + 1);
    blocks.push({ line: i + 1, code: lines.slice(i + 1, end).join('\n'), expects, skip });
    i = end;
  }
  return blocks;
}

/** Runs a bash script without blocking this process (support/spawn.ts says why). */
function bash(script: string, opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }) {
  return spawnCollect('bash', ['-c', script], opts);
}

beforeAll(async () => {
  cluster = await startLocalCluster({ dataDir: join(work, '.glacis'), port: 0, parties: 3 });
  // `work` stands in for the repository root, where `npm run -s glacis -- …` runs the desk's CLI.
  writeFileSync(join(work, 'package.json'), JSON.stringify({ private: true, scripts: { glacis: `node ${CLIENT_CLI}` } }));
  // The approver key the approvals example signs with (the page says how to make one).
  const r = spawnSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(work, 'approver.pem')], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('docs/api.md', () => {
  const page = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');

  it('documents exactly the endpoints of the served OpenAPI document', async () => {
    const served = (await (await fetch(`${cluster.baseUrl}/v1/openapi.json`)).json()) as { paths: Record<string, object> };
    const inOpenApi = Object.entries(served.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const inDocs = [...page.matchAll(/^### `([A-Z]+) (\/\S*)`$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    expect(new Set(inDocs).size, 'an endpoint is documented twice').toBe(inDocs.length);
    expect(inDocs).toEqual(inOpenApi);
  });

  it('every sh example runs and prints what it says', async () => {
    const blocks = shBlocks(page).filter((b) => !b.skip);
    expect(blocks.length).toBeGreaterThan(15);
    // A newline first: curl prints JSON without one.
    const script = ['set -euo pipefail', ...blocks.flatMap((b, i) => [`printf '\\n@@@ block ${i} @@@\\n'`, b.code])].join('\n');
    const run = await bash(script, {
      cwd: work,
      env: { ...process.env, BASE: cluster.baseUrl, TOKEN: cluster.adminToken },
      timeoutMs: 120_000,
    });
    const outputs = run.stdout.split(/^@@@ block \d+ @@@$/m).slice(1);
    const last = blocks[outputs.length - 1];
    expect(run.status, `block at docs/api.md:${last?.line} failed:\n${run.stderr}\n${outputs.at(-1) ?? ''}`).toBe(0);
    expect(outputs).toHaveLength(blocks.length);
    blocks.forEach((b, i) => {
      for (const e of b.expects) expect(outputs[i], `docs/api.md:${b.line} should print ${e}`).toContain(e);
    });

    // The approval built with openssl alone is what a party's policy checks.
    const body = JSON.parse(readFileSync(join(work, 'request.json'), 'utf8'));
    const keys = spawnSync('curl', ['-s', `${cluster.baseUrl}/v1/keys`, '-H', `authorization: Bearer ${cluster.adminToken}`], {
      encoding: 'utf8',
    });
    const [key] = JSON.parse(keys.stdout).keys as { keyId: string }[];
    for (const a of body.approvals) {
      const { nonce, expiresAt, policyVersion } = a;
      const digest = approvalDigest({
        keyId: key?.keyId as string,
        intent: rawIntent(body.message),
        context: body.context,
        nonce,
        expiresAt,
        policyVersion,
      });
      expect(verifyIdentitySignature(fromHex(a.signature), digest, fromHex(a.approverKey))).toBe(true);
    }
  });
});

describe('README.md', () => {
  it('the quickstart verifies its key and signs, as written (on this cluster’s port)', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const quickstart = readme.slice(readme.indexOf('## Quickstart'));
    const [block] = shBlocks(quickstart);
    if (!block) throw new Error('README.md: no sh block under "## Quickstart"');
    expect(block.code).toContain('export TOKEN=$(cat .glacis/admin-token)');
    const code = block.code.replaceAll('http://127.0.0.1:8700', cluster.baseUrl);
    expect(existsSync(join(work, '.glacis/admin-token'))).toBe(true);
    const run = await bash(`set -euo pipefail\n${code}`, { cwd: work, timeoutMs: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const signature = JSON.parse(lines.at(-1) as string);
    expect(signature).toMatchObject({ status: 'completed', message: '68656c6c6f' });
    expect(signature.signers).toHaveLength(2);
    const verdict = JSON.parse(lines.find((l) => l.startsWith('{"ok":')) ?? 'null');
    expect(verdict).toMatchObject({ ok: true, keyId: signature.keyId, suite: 'ed25519', threshold: 2 });
  });
});

describe('docs/operations.md', () => {
  it('its Monitoring section names only metrics the coordinator serves', async () => {
    const all = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    const page = all.slice(all.indexOf('## Monitoring'), all.indexOf('## Upgrading'));
    const named = new Set(
      [...page.matchAll(/\bglacis_[a-z0-9_]+\b/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')).filter((n) => !n.endsWith('_')), // glacis_process_*, glacis_nodejs_*: families
    );
    expect(named.size).toBeGreaterThanOrEqual(10);
    const served = await (await fetch(`${cluster.baseUrl}/metrics`)).text();
    const families = new Set([...served.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
    expect([...named].filter((n) => !families.has(n))).toEqual([]);
  });
});
