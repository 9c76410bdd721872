/**
 * Each party's signing latency over the last hour, per minute: what `GET /v1/latency` serves so a
 * console can chart the hour it was not open for. Prometheus' histogram has no time axis (only
 * totals since start), and the smoothed `latencyMs` of `GET /v1/parties` has no history, so the
 * coordinator keeps this small window itself: at most `buckets` entries per party, the clock passed
 * in (no timers, nothing read from the system).
 */

/** One minute (one bucket) of a party's latency observations. */
export interface LatencyBucket {
  /** Start of the bucket, ms since the epoch. */
  readonly startMs: number;
  readonly count: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

/** The window's shape. */
export interface LatencyHistoryOptions {
  /** Width of a bucket (default one minute). */
  bucketMs?: number;
  /** Buckets kept (default 60: an hour of minutes). */
  buckets?: number;
}

/** Recent latency per party. */
export interface LatencyHistory {
  readonly bucketMs: number;
  readonly buckets: number;
  /** One observation of `party` at `nowMs`. */
  record(party: string, latencyMs: number, nowMs: number): void;
  /** The non-empty buckets of `party` inside the window that ends at `nowMs`, oldest first. */
  of(party: string, nowMs: number): LatencyBucket[];
}

interface Accumulator {
  index: number;
  count: number;
  sumMs: number;
  maxMs: number;
}

/** An empty window. */
export function createLatencyHistory(options: LatencyHistoryOptions = {}): LatencyHistory {
  const bucketMs = options.bucketMs ?? 60_000;
  const buckets = options.buckets ?? 60;
  const byParty = new Map<string, Accumulator[]>();
  const indexOf = (ms: number) => Math.floor(ms / bucketMs);
  // Buckets whose index is at most this are outside the window ending at `nowMs`.
  const expiredBefore = (nowMs: number) => indexOf(nowMs) - buckets;

  return Object.freeze({
    bucketMs,
    buckets,
    record(party: string, latencyMs: number, nowMs: number): void {
      if (!Number.isFinite(latencyMs) || latencyMs < 0) return;
      const list = byParty.get(party) ?? [];
      const index = indexOf(nowMs);
      const last = list.at(-1);
      if (last !== undefined && last.index === index) {
        last.count += 1;
        last.sumMs += latencyMs;
        last.maxMs = Math.max(last.maxMs, latencyMs);
      } else if (last === undefined || last.index < index) {
        list.push({ index, count: 1, sumMs: latencyMs, maxMs: latencyMs });
      }
      // An observation stamped before the newest bucket (a clock step back) is dropped: the list
      // stays ordered, and one lost sample in a chart matters less than a wrong order.
      const cutoff = expiredBefore(nowMs);
      while (list.length > 0 && (list[0] as Accumulator).index <= cutoff) list.shift();
      byParty.set(party, list);
    },
    of(party: string, nowMs: number): LatencyBucket[] {
      const cutoff = expiredBefore(nowMs);
      return (byParty.get(party) ?? [])
        .filter((b) => b.index > cutoff && b.index <= indexOf(nowMs))
        .map((b) => ({ startMs: b.index * bucketMs, count: b.count, meanMs: round(b.sumMs / b.count), maxMs: round(b.maxMs) }));
    },
  });
}

/** A tenth of a millisecond is finer than anything a chart or a person reads. */
const round = (ms: number) => Math.round(ms * 10) / 10;
