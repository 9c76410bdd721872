/**
 * The image build's `npm ci` (Dockerfile, stage deps-npm) sees only the manifests copied before
 * it: a workspace added to package.json but not copied there breaks every user's default build,
 * and CI would not notice (it builds with deps-prebuilt). So each workspace is named here.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

describe('the Dockerfile', () => {
  it("copies every workspace's package.json before its npm ci", () => {
    const { workspaces } = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
    const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
    const beforeCi = dockerfile.slice(0, dockerfile.indexOf('RUN npm ci'));
    for (const ws of workspaces) expect(beforeCi, ws).toContain(`COPY ${ws}/package.json ${ws}/`);
  });
});
