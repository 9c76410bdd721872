import { describe, expect, test } from 'vitest';
import { createLatencyHistory } from './latency-history.js';

const MIN = 60_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % MIN); // a bucket boundary

describe('latency history', () => {
  test('groups observations by minute with count, mean and max', () => {
    const h = createLatencyHistory();
    h.record('alice', 10, T0);
    h.record('alice', 30, T0 + 59_999);
    h.record('alice', 5, T0 + MIN);
    h.record('bob', 7.25, T0 + 1);
    expect(h.of('alice', T0 + MIN)).toEqual([
      { startMs: T0, count: 2, meanMs: 20, maxMs: 30 },
      { startMs: T0 + MIN, count: 1, meanMs: 5, maxMs: 5 },
    ]);
    expect(h.of('bob', T0 + MIN)).toEqual([{ startMs: T0, count: 1, meanMs: 7.3, maxMs: 7.3 }]);
    expect(h.of('carol', T0)).toEqual([]);
  });

  test('forgets what is older than the window, when read and when written', () => {
    const h = createLatencyHistory({ buckets: 60 });
    h.record('alice', 1, T0);
    h.record('alice', 2, T0 + 30 * MIN);
    expect(h.of('alice', T0 + 59 * MIN).map((b) => b.meanMs)).toEqual([1, 2]);
    expect(h.of('alice', T0 + 60 * MIN).map((b) => b.meanMs)).toEqual([2]);
    h.record('alice', 3, T0 + 200 * MIN);
    expect(h.of('alice', T0 + 200 * MIN).map((b) => b.meanMs)).toEqual([3]);
  });

  test('keeps at most one bucket per minute of the window, however many observations arrive', () => {
    const h = createLatencyHistory({ buckets: 60 });
    for (let i = 0; i < 10_000; i++) h.record('alice', i % 50, T0 + i * 1000);
    const kept = h.of('alice', T0 + 10_000 * 1000);
    expect(kept.length).toBeLessThanOrEqual(60);
    expect(kept.at(-1)?.startMs).toBe(T0 + Math.floor(9_999_000 / MIN) * MIN);
  });

  test('drops an observation stamped before the newest bucket (clock stepped back) and nonsense values', () => {
    const h = createLatencyHistory();
    h.record('alice', 4, T0 + 5 * MIN);
    h.record('alice', 9, T0 + 2 * MIN);
    h.record('alice', Number.NaN, T0 + 5 * MIN);
    h.record('alice', -1, T0 + 5 * MIN);
    expect(h.of('alice', T0 + 5 * MIN)).toEqual([{ startMs: T0 + 5 * MIN, count: 1, meanMs: 4, maxMs: 4 }]);
  });
});
