/**
 * A party's signing latency over the last hour as a small SVG chart: one bar per minute for the
 * mean, a tick for the slowest share of that minute, on a scale set by the slowest of the hour.
 * Built from SVG nodes (no markup strings); its accessible name says in words what it shows.
 */
import type { LatencyBucket } from './api-types.js';
import { s } from './dom.js';

const WIDTH = 240;
const HEIGHT = 48;

/** The chart of `buckets` for the window `[nowMs - windowSeconds, nowMs]`. */
export function latencyChart(
  partyId: string,
  buckets: readonly LatencyBucket[],
  o: { windowSeconds: number; bucketSeconds: number; nowMs: number },
): SVGSVGElement {
  const windowMs = o.windowSeconds * 1000;
  const slots = Math.max(1, Math.round(o.windowSeconds / o.bucketSeconds));
  const slotWidth = WIDTH / slots;
  const top = Math.max(1, ...buckets.map((b) => b.maxMs));
  const y = (ms: number) => HEIGHT - 2 - (Math.min(ms, top) / top) * (HEIGHT - 6);
  const shares = buckets.reduce((n, b) => n + b.count, 0);
  const mean = shares === 0 ? 0 : buckets.reduce((n, b) => n + b.meanMs * b.count, 0) / shares;
  const label =
    shares === 0
      ? `${partyId}: no shares in the last hour`
      : `${partyId}: ${shares} shares in the last hour, mean ${mean.toFixed(1)} ms, slowest ${top.toFixed(1)} ms`;

  const marks = buckets.flatMap((b) => {
    const x = ((Date.parse(b.start) - (o.nowMs - windowMs)) / windowMs) * WIDTH;
    if (!(x >= -slotWidth && x <= WIDTH)) return [];
    const w = Math.max(1, slotWidth - 1);
    return [
      s('rect', {
        class: 'bar',
        x: x.toFixed(1),
        y: y(b.meanMs).toFixed(1),
        width: w.toFixed(1),
        height: (HEIGHT - 2 - y(b.meanMs)).toFixed(1),
      }),
      s('rect', { class: 'tick', x: x.toFixed(1), y: y(b.maxMs).toFixed(1), width: w.toFixed(1), height: '1.5' }),
    ];
  });
  return s(
    'svg',
    { class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, role: 'img', 'aria-label': label },
    s('title', null, label),
    s('line', { class: 'axis', x1: 0, y1: HEIGHT - 1, x2: WIDTH, y2: HEIGHT - 1 }),
    s('text', { class: 'scale', x: 2, y: 9 }, `${top.toFixed(top < 10 ? 1 : 0)} ms`),
    marks,
  );
}
