/**
 * Group commit, without I/O of its own (the caller passes the flush): items submitted while a
 * flush (a write + fsync) is under way wait for the next one and share it, so a disk whose fsync
 * takes milliseconds does not cap the writer at one durable write per fsync. Each submission
 * resolves only once a flush that started after it — and so covers it — has finished: what the
 * caller acknowledges is on disk (DESIGN.md invariant 1 for a party's share log, invariant 3 for
 * the coordinator's commits). Batches keep submission order; one flush runs at a time.
 *
 * Fail closed: once a flush fails, the file's state is unknown (a partial write), so that batch
 * and every later submission reject with the same error and nothing more is flushed. The process
 * must restart (a party repairs a torn tail on start) before it writes again.
 */

/** Writes a batch and makes it durable; the committer never runs two at once. */
export type Flush<T> = (batch: readonly T[]) => Promise<void>;

export interface GroupCommit<T> {
  /** Queues `item`; resolves once a flush containing it is durable. */
  submit(item: T): Promise<void>;
  /** Resolves once everything submitted so far is durable; rejects once the committer has failed. */
  drain(): Promise<void>;
  /** Flushes so far (tests and metrics: how many fsyncs the appends shared). */
  readonly flushes: number;
}

type Waiting<T> = { item: T; resolve: () => void; reject: (e: unknown) => void };

export function createGroupCommit<T>(flush: Flush<T>): GroupCommit<T> {
  let queue: Waiting<T>[] = [];
  let running: Promise<void> | null = null;
  let failed: { error: unknown } | null = null;
  let flushes = 0;

  async function run(): Promise<void> {
    while (queue.length > 0 && failed === null) {
      const batch = queue;
      queue = [];
      try {
        flushes++;
        await flush(batch.map((w) => w.item));
      } catch (error) {
        failed = { error };
        for (const w of batch) w.reject(error);
        break;
      }
      for (const w of batch) w.resolve();
    }
    if (failed !== null) for (const w of queue.splice(0)) w.reject(failed.error);
    running = null;
  }

  return {
    submit(item) {
      if (failed !== null) return Promise.reject(failed.error);
      const done = new Promise<void>((resolve, reject) => queue.push({ item, resolve, reject }));
      running ??= run();
      return done;
    },
    async drain() {
      while (running !== null) await running;
      if (failed !== null) throw failed.error;
    },
    get flushes() {
      return flushes;
    },
  };
}
