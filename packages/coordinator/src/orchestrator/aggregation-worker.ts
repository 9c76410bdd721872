/**
 * A worker thread of the aggregation pool (aggregation-pool.ts): runs one session's aggregation
 * (protocol `runAggregationJob`: session context, group-signature check, cheaters by exact
 * per-share checks). Holds public data only. Each thread keeps its own prepared keys.
 */
import { type AggregationJob, type AggregationVerdict, createKeyCache, runAggregationJob } from '@glacis/protocol';

const keys = createKeyCache();

export default function aggregate(job: AggregationJob): AggregationVerdict {
  return runAggregationJob(job, keys);
}
