/**
 * The coordinator's aggregation pool on real worker threads (built `dist/`, as `glacis-coordinator
 * serve` runs it: piscina loads `aggregation-worker.js`, which imports the built protocol). A job
 * built on this thread crosses to a worker by postMessage and its verdict comes back: the same
 * signature bytes and the same cheaters as the inline path, in every suite, with jobs for several
 * keys interleaved on two threads (each keeps its own prepared keys). A job the worker cannot run
 * rejects, which the signing driver turns into a session that failed without blame
 * (packages/coordinator/test/signing-worker-path.test.ts).
 */
import { type AggregationPool, createAggregationPool } from '@glacis/coordinator';
import { type AggregationJob, getSuite, SUITE_IDS, type SuiteId, toHex, utf8 } from '@glacis/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregatedTwoWays, type Cluster, cluster } from '../packages/protocol/test/harness.js';

const message = utf8('on a worker thread');
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
  it('every suite, jobs interleaved on two threads: each verdict is the inline one, signature or cheater', async () => {
    const cases = [...keys.entries()].flatMap(([id, c]) => {
      const cheater = c.names[1] as string;
      return [
        { id, c, cheater: undefined, ...aggregatedTwoWays(c, message) },
        { id, c, cheater, ...aggregatedTwoWays(c, message, cheater) },
      ];
    });
    const verdicts = await Promise.all(cases.map((k) => pool.run(k.deferred.job())));
    for (const [i, k] of cases.entries()) {
      const verdict = verdicts[i];
      if (k.cheater === undefined) {
        expect(verdict?.ok, k.id).toBe(true);
        const signature = k.deferred.conclude(verdict as NonNullable<typeof verdict>);
        expect(toHex(signature), k.id).toBe(toHex(k.inline.finish()));
        expect(getSuite(k.id).verify(signature, message, Buffer.from(k.c.pub.publicKey, 'hex')), k.id).toBe(true);
      } else {
        expect(verdict, k.id).toEqual({ ok: false, culprits: [k.cheater], reason: expect.any(String) });
        expect(() => k.inline.finish(), k.id).toThrow(expect.objectContaining({ code: 'invalid_signature_share', culprits: [k.cheater] }));
      }
    }
  });

  it('a job the worker cannot run (a key of no known suite) rejects; the pool goes on serving', async () => {
    const c = keys.get('ed25519') as Cluster;
    const job = aggregatedTwoWays(c, message).deferred.job();
    const broken = { ...job, key: { ...job.key, suite: 'rot13' } } as unknown as AggregationJob;
    await expect(pool.run(broken)).rejects.toThrow();
    expect((await pool.run(job)).ok).toBe(true);
  });
});
