/**
 * The vendored vectors are the ground truth of every conformance test: an edited vector would
 * turn those tests into checks of whatever the code does. The README lists the SHA-256 of each
 * file as published upstream; this recomputes them.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { listVectorFiles, vectorBytes } from './load-vectors.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Pinned so that editing a vector and "fixing" its line in the README together still fails.
 * Updating the vectors means copying a new upstream snapshot with its README and changing this.
 */
const README_SHA256 = '6b7107870cf6d5053638179eec4c5d430bace2f0276fec9f6e7f68b606557c86';

function listedHashes(readme: string): Map<string, string> {
  const section = readme.split('## SHA-256 of every file')[1];
  if (section === undefined) throw new Error('README has no "SHA-256 of every file" section');
  const block = section.split('```')[1];
  if (block === undefined) throw new Error('README hash section has no code block');
  const out = new Map<string, string>();
  for (const line of block.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable hash line: ${line}`);
    out.set(m[2] as string, m[1] as string);
  }
  return out;
}

describe('vendored vectors are byte-for-byte as published', () => {
  const readme = vectorBytes('README.md');
  const listed = listedHashes(readme.toString('utf8'));
  // The two notes about the vectors cannot list their own hashes.
  const files = listVectorFiles().filter((f) => f !== 'README.md' && f !== 'ORIGIN.md');

  it('the README itself is the reviewed copy', () => {
    expect(sha256(readme)).toBe(README_SHA256);
  });

  it('the README lists every vendored file and nothing else', () => {
    expect(listed.size).toBe(42);
    expect([...listed.keys()].sort()).toEqual(files);
  });

  for (const file of files) {
    it(file, () => {
      expect(sha256(vectorBytes(file))).toBe(listed.get(file));
    });
  }
});
