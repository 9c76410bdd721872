/**
 * The coordinator's other cores: share verification and aggregation — the heavy arithmetic of a
 * signing session at the coordinator — run on a pool of worker threads (piscina), so one event
 * loop no longer caps the coordinator at one core. The signing machine stays sans-IO: it asks for
 * each aggregation as an action and takes the verdict back as an input (signing-driver.ts).
 * Commitments are still decoded and checked once, on the event loop, where they enter; the job
 * carries them as points.
 *
 * A worker thread is a V8 isolate of its own: the protocol's modules, each curve's precomputed
 * tables, and a heap that under load grows to V8's default young generation. On the bench's two
 * cores the one worker (then the default), started with the coordinator and kept for good, held
 * about 54 MB of the coordinator's RSS, idle or not (and took the RSS with 10,000 requests pending
 * over its 256 MB target). So:
 * - threads start when jobs come often (the one before less than `warmWithinMs` ago) and end after
 *   `idleTimeoutMs` without a job, which gives their memory back;
 * - each thread's young generation is capped (`youngGenerationMb`): the jobs allocate many short
 *   lived numbers and keep little, so a small young generation costs a few more scavenges and
 *   about half the thread's memory;
 * - a job that finds no thread ready runs inline, on the event loop, as with no pool at all: a
 *   thread takes a few hundred ms to start (module loading), which a request after a quiet spell
 *   must not wait for. Either way the verdict is `runAggregationJob`'s.
 */
import { availableParallelism } from 'node:os';
import { type AggregationJob, type AggregationVerdict, createKeyCache, runAggregationJob } from '@glacis/protocol';
import { Piscina } from 'piscina';

export interface AggregationPool {
  readonly threads: number;
  /** Threads started now (0 to `threads`). */
  readonly running: number;
  run(job: AggregationJob): Promise<AggregationVerdict>;
  /** Starts a thread now and resolves once it is ready (tests; a thread ends again when idle). */
  warm(): Promise<void>;
  close(): Promise<void>;
}

export interface AggregationPoolOptions {
  /** A thread without a job for this long ends (default 10 s). */
  idleTimeoutMs?: number;
  /** Each thread's young generation, MB (V8 resourceLimits.maxYoungGenerationSizeMb; default 8). */
  youngGenerationMb?: number;
  /** A job that comes this soon after the one before starts a thread if none is ready (default 1 s). */
  warmWithinMs?: number;
  /** The clock `warmWithinMs` is measured on (default performance.now). */
  now?: () => number;
}

/**
 * Threads by default: every core but the event loop's, from three cores up; none (aggregate
 * inline) on one or two. Measured on two cores (`npm run bench`): a coordinator sharing them with
 * its parties spent 1 to 1.5 ms more CPU per signature with one thread than without (the job's
 * structured clone, the thread's own prepared keys, its wake-ups), for no more throughput; a
 * coordinator alone on two cores gets 1.00 to 1.2 times the throughput from one (operations.md).
 */
export function defaultAggregationWorkers(cores = availableParallelism()): number {
  return cores <= 2 ? 0 : cores - 1;
}

/** A pool of up to `threads` (≥ 1) workers, started on demand (see above). */
export function createAggregationPool(threads: number, o: AggregationPoolOptions = {}): AggregationPool {
  // A null task only starts a thread (aggregation-worker.ts answers it with null).
  const pool = new Piscina<AggregationJob | null, AggregationVerdict | null>({
    filename: new URL('./aggregation-worker.js', import.meta.url).href,
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: o.idleTimeoutMs ?? 10_000,
    resourceLimits: { maxYoungGenerationSizeMb: o.youngGenerationMb ?? 8 },
  });
  // Prepared keys for the jobs run inline.
  const keys = createKeyCache();
  const now = o.now ?? (() => performance.now());
  const warmWithin = o.warmWithinMs ?? 1000;
  let lastJob = Number.NEGATIVE_INFINITY;
  let warming: Promise<void> | undefined;

  function warm(): Promise<void> {
    warming ??= pool.run(null).then(
      () => {
        warming = undefined;
      },
      () => {
        // A thread that failed to start: the jobs go on inline; the next busy spell tries again.
        warming = undefined;
      },
    );
    return warming;
  }

  /** A thread is up and not still starting (a job sent now would not wait for it to load). */
  const ready = () => warming === undefined && pool.threads.length > 0;

  return {
    threads,
    get running() {
      return pool.threads.length;
    },
    run(job) {
      const at = now();
      const often = at - lastJob < warmWithin;
      lastJob = at;
      if (ready()) return pool.run(job) as Promise<AggregationVerdict>;
      if (often) void warm();
      try {
        return Promise.resolve(runAggregationJob(job, keys));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    warm,
    close: () => pool.destroy(),
  };
}
