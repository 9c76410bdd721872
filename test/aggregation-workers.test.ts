/**
 * The coordinator's aggregation pool on real worker threads (built `dist/`, as `glacis-coordinator
 * serve` runs it: piscina loads `aggregation-worker.js`, which imports the built protocol). A job
 * built on this thread crosses to a worker by postMessage and its verdict comes back: the same
 * signature bytes and the same cheaters as the inline path, in every suite, for sessions of one
 * message and of two (an intent of width 2), with jobs for several keys interleaved on two threads
 * (each keeps its own prepared keys). A job the worker cannot run
 * rejects, which the signing driver turns into a session that failed without blame
 * (packages/coordinator/test/signing-worker-path.test.ts).
 */
import { type AggregationPool, createAggregationPool } from '@glacis/coordinator';
import { type AggregationJob, getSuite, SUITE_IDS, type SuiteId, toHex, utf8 } from '@glacis/protocol';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { aggregatedTwoWays, type Cluster, cluster } from '../packages/protocol/test/harness.js';

const ONE = [utf8('on a worker thread')];
const TWO = [utf8('on a worker thread, first input'), utf8('on a worker thread, second input')];
let pool: AggregationPool;
const keys = new Map<SuiteId, Cluster>();

beforeAll(async () => {
  for (const id of SUITE_IDS) keys.set(id, cluster(id, 3, 2));
  pool = createAggregationPool(2);
  // Threads start on demand: start one, so the jobs below cross to a worker (the second starts as they queue).
  await pool.warm();
}, 60_000);

afterAll(async () => {
  await pool?.close();
});

describe('aggregation on worker threads (piscina)', () => {
  it('every suite, one message and two, jobs interleaved on two threads: each verdict is the inline one, signatures or cheater', async () => {
    const cases = [...keys.entries()].flatMap(([id, c]) => {
      const cheater = c.names[1] as string;
      return [ONE, TWO].flatMap((messages) => [
        { id, c, messages, cheater: undefined, ...aggregatedTwoWays(c, messages) },
        // Cheating on the last message: a worker that checked only the first would miss it.
        { id, c, messages, cheater, ...aggregatedTwoWays(c, messages, cheater, messages.length - 1) },
      ]);
    });
    const verdicts = await Promise.all(cases.map((k) => pool.run(k.deferred.job())));
    for (const [i, k] of cases.entries()) {
      const verdict = verdicts[i];
      const what = `${k.id}, ${k.messages.length} message(s)`;
      if (k.cheater === undefined) {
        expect(verdict?.ok, what).toBe(true);
        const signatures = k.deferred.conclude(verdict as NonNullable<typeof verdict>);
        expect(
          signatures.map((x) => toHex(x)),
          what,
        ).toEqual(k.inline.finish().map((x) => toHex(x)));
        for (const [j, sig] of signatures.entries())
          expect(getSuite(k.id).verify(sig, k.messages[j] as Uint8Array, Buffer.from(k.c.pub.publicKey, 'hex')), what).toBe(true);
      } else {
        expect(verdict, what).toEqual({ ok: false, culprits: [k.cheater], reason: expect.any(String) });
        expect(() => k.inline.finish(), what).toThrow(expect.objectContaining({ code: 'invalid_signature_share', culprits: [k.cheater] }));
      }
    }
  });

  it('the jobs ran on worker threads', () => {
    expect(pool.running).toBeGreaterThan(0);
  });

  it('a job the worker cannot run (a key of no known suite) rejects; the pool goes on serving', async () => {
    const c = keys.get('ed25519') as Cluster;
    const job = aggregatedTwoWays(c, ONE).deferred.job();
    const broken = { ...job, key: { ...job.key, suite: 'rot13' } } as unknown as AggregationJob;
    await expect(pool.run(broken)).rejects.toThrow();
    expect((await pool.run(job)).ok).toBe(true);
  });
});

describe('threads on demand (the coordinator RSS: a thread holds tens of MB)', () => {
  const c = () => keys.get('ed25519') as Cluster;

  it('a job that finds no thread ready runs inline, with the verdict a thread gives; a lone job starts no thread', async () => {
    let t = 0;
    const cold = createAggregationPool(1, { now: () => t, warmWithinMs: 1000 });
    try {
      const k = aggregatedTwoWays(c(), ONE);
      const verdict = await cold.run(k.deferred.job());
      expect(verdict.ok).toBe(true);
      expect(k.deferred.conclude(verdict).map((x) => toHex(x))).toEqual(k.inline.finish().map((x) => toHex(x)));
      t += 5000; // the next one comes long after: still no thread
      expect((await cold.run(aggregatedTwoWays(c(), ONE).deferred.job())).ok).toBe(true);
      expect(cold.running).toBe(0);
    } finally {
      await cold.close();
    }
  });

  it('jobs that come often start a thread and then run on it; a thread left without jobs ends', async () => {
    let t = 0;
    const busy = createAggregationPool(1, { now: () => t, warmWithinMs: 1000, idleTimeoutMs: 300 });
    try {
      await busy.run(aggregatedTwoWays(c(), ONE).deferred.job());
      t += 10;
      await busy.run(aggregatedTwoWays(c(), ONE).deferred.job()); // often: a thread starts (this one still inline)
      await vi.waitFor(() => expect(busy.running).toBe(1), { timeout: 30_000, interval: 20 });
      const k = aggregatedTwoWays(c(), TWO, c().names[1], 1);
      expect(await busy.run(k.deferred.job())).toEqual({ ok: false, culprits: [c().names[1]], reason: expect.any(String) });
      // No job for idleTimeoutMs: the thread ends (its isolate's memory goes back to the system).
      await vi.waitFor(() => expect(busy.running).toBe(0), { timeout: 30_000, interval: 50 });
    } finally {
      await busy.close();
    }
  });
});
