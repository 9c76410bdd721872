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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregatedTwoWays, type Cluster, cluster } from '../packages/protocol/test/harness.js';

const ONE = [utf8('on a worker thread')];
const TWO = [utf8('on a worker thread, first input'), utf8('on a worker thread, second input')];
let pool: AggregationPool;
const keys = new Map<SuiteId, Cluster>();

beforeAll(() => {
  for (const id of SUITE_IDS) keys.set(id, cluster(id, 3, 2));
  pool = createAggregationPool(2);
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

  it('a job the worker cannot run (a key of no known suite) rejects; the pool goes on serving', async () => {
    const c = keys.get('ed25519') as Cluster;
    const job = aggregatedTwoWays(c, ONE).deferred.job();
    const broken = { ...job, key: { ...job.key, suite: 'rot13' } } as unknown as AggregationJob;
    await expect(pool.run(broken)).rejects.toThrow();
    expect((await pool.run(job)).ok).toBe(true);
  });
});
