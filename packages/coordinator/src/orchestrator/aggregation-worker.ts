/**
 * A worker thread of the aggregation pool (aggregation-pool.ts): runs one session's aggregation
 * (protocol `runAggregationJob`: session context, group-signature check, cheaters by exact
 * per-share checks). Holds public data only. Each thread keeps its own prepared keys. A null task
 * only starts the thread (the pool warming one up) and is answered with null.
 */
import { type AggregationJob, type AggregationVerdict, createKeyCache, runAggregationJob } from '@glacis/protocol';

const keys = createKeyCache();

export default function aggregate(job: AggregationJob | null): AggregationVerdict | null {
  return job === null ? null : runAggregationJob(job, keys);
}
