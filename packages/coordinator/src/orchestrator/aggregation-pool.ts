/**
 * The coordinator's other cores: share verification and aggregation — the heavy arithmetic of a
 * signing session at the coordinator — run on a pool of worker threads (piscina), so one event
 * loop no longer caps the coordinator at one core. The signing machine stays sans-IO: it asks for
 * each aggregation as an action and takes the verdict back as an input (signing-driver.ts).
 * Commitments are still decoded and checked once, on the event loop, where they enter; the job
 * carries them as points.
 */
import { availableParallelism } from 'node:os';
import type { AggregationJob, AggregationVerdict } from '@glacis/protocol';
import { Piscina } from 'piscina';

export interface AggregationPool {
  readonly threads: number;
  run(job: AggregationJob): Promise<AggregationVerdict>;
  close(): Promise<void>;
}

/** Threads by default: every core but the event loop's; none (aggregate inline) on one core. */
export function defaultAggregationWorkers(cores = availableParallelism()): number {
  return Math.max(0, cores - 1);
}

/** A pool of `threads` (≥ 1) workers, started now so the first request does not wait for them. */
export function createAggregationPool(threads: number): AggregationPool {
  const pool = new Piscina<AggregationJob, AggregationVerdict>({
    filename: new URL('./aggregation-worker.js', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  return {
    threads,
    run: (job) => pool.run(job),
    close: () => pool.destroy(),
  };
}
