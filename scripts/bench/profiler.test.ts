/**
 * The profile summary of `npm run bench -- --profile` (scripts/bench/profiler.mjs): self time is
 * the gap to the next sample, idle is not busy, frames fold into the module they come from.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { moduleOf, summarizeProfile } from './profiler.mjs';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0, scriptId: '0' });

describe('profile summary', () => {
  it('names the module of a frame: a package, a Glacis file, Node, V8', () => {
    expect(moduleOf(frame('mod', 'file:///r/node_modules/@noble/curves/abstract/modular.js'))).toBe('@noble/curves');
    expect(moduleOf(frame('x', 'file:///r/node_modules/zod/v4/core/core.js'))).toBe('zod');
    expect(moduleOf(frame('sign', 'file:///r/node_modules/@glacis/protocol/dist/fast/session.js'))).toBe(
      '@glacis/protocol fast/session.js',
    );
    expect(moduleOf(frame('emit', 'node:internal/streams/readable'))).toBe('node:internal');
    expect(moduleOf(frame('(garbage collector)'))).toBe('(garbage collector)');
    expect(moduleOf(frame('run'))).toBe('(native)');
  });

  it('counts each sample until the next one, leaves idle out of busy, divides by `per`', () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3, 4] },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('mod', 'file:///r/node_modules/@noble/curves/abstract/modular.js', 31) },
        { id: 4, callFrame: frame('encode', 'file:///r/node_modules/@glacis/protocol/dist/canonical.js', 11) },
      ],
      startTime: 0,
      endTime: 10_000,
      samples: [3, 3, 4, 2, 3],
      // µs before each sample: 3 → 1000, 3 → 4000, 4 → 2000, idle → 1000, last → mean gap (2000).
      timeDeltas: [0, 1000, 4000, 2000, 1000],
    };
    const s = summarizeProfile(profile, { per: 2 });
    expect(s.totalMs).toBeCloseTo((1 + 4 + 2 + 1 + 2) / 2);
    expect(s.busyMs).toBeCloseTo((1 + 4 + 2 + 2) / 2);
    expect(s.modules.map((m: { name: string }) => m.name)).toEqual(['@noble/curves', '@glacis/protocol canonical.js']);
    expect(s.modules[0]?.ms).toBeCloseTo(3.5);
    expect(s.functions[0]?.name).toBe('mod @noble/curves:32');
    expect(s.functions.reduce((a: number, f: { share: number }) => a + f.share, 0)).toBeCloseTo(1);
  });
});
