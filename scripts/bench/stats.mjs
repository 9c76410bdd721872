/**
 * The statistics every benchmark module uses: one median, and round-robin sampling so that every
 * ratio compares measurements made under the same machine load.
 */

/** The median of `xs` (the mean of the two middle values for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The `p`-th percentile of an ascending `sorted` array (nearest rank, no interpolation). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** `v` to `digits` decimals (undefined stays undefined: a table cell shows "–"). */
export const round = (v, digits = 3) => (v === undefined || Number.isNaN(v) ? undefined : Number(v.toFixed(digits)));

/** ours / noble to two decimals: below 1, Glacis is faster. */
export const ratio = (ours, noble) => round(ours / noble, 2);

/** A measure that times `g`: returns the ms it took. */
export const timed = (g) => () => {
  const t0 = performance.now();
  g();
  return performance.now() - t0;
};

/**
 * Runs every measure once per round, `rounds` rounds, and returns the median ms of each. A measure
 * is a function returning the ms of the part it times; cheap ones are repeated within a round
 * until a sample covers ~`sampleMs` (so timer resolution does not matter).
 */
export function sampleRoundRobin(measures, { rounds, sampleMs = 20 }) {
  const names = Object.keys(measures);
  const samples = Object.fromEntries(names.map((k) => [k, []]));
  // One calibration call each (doubling as JIT warm-up); a measure that already takes a whole
  // sample keeps that call as its first sample rather than paying for it twice. Expensive
  // measures (sampleMs 0: DKGs) skip calibration: their callers warm up.
  const reps = {};
  for (const k of names) {
    if (sampleMs <= 0) {
      reps[k] = 1;
      continue;
    }
    const first = measures[k]();
    reps[k] = Math.min(50, Math.max(1, Math.ceil(sampleMs / Math.max(first, 0.01))));
    if (reps[k] === 1) samples[k].push(first);
  }
  for (let r = 0; r < rounds; r++) {
    for (const k of names) {
      if (samples[k].length >= rounds) continue;
      let total = 0;
      for (let i = 0; i < reps[k]; i++) total += measures[k]();
      samples[k].push(total / reps[k]);
    }
  }
  return Object.fromEntries(names.map((k) => [k, { ms: median(samples[k]), calls: samples[k].length * reps[k] }]));
}
