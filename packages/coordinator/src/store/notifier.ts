/**
 * In-process settle notifications, so `?wait=` can answer the moment a row becomes final without
 * polling. A store calls `settled(kind, id)` after the commit that made the row final; waiters
 * subscribe first and check the row second, so a settle between the two is never missed.
 */
import type { SettleKind } from './types.js';

/** Wakes waiters when a row settles. */
export interface Notifier {
  /** Wakes everyone waiting on (kind, id). Call after commit. */
  settled(kind: SettleKind, id: string): void;
  /**
   * Waits for (kind, id) to settle. `isSettled` is called after subscribing: true (or undefined
   * for an unknown id) answers at once. Resolves false on timeout, abort or close.
   */
  wait(kind: SettleKind, id: string, ms: number, isSettled: () => boolean | undefined, signal?: AbortSignal): Promise<boolean>;
  /** Releases every waiter with false. */
  close(): void;
  /** Number of waiters, for tests and metrics. */
  readonly waiting: number;
}

/** A Notifier for one process. */
export function createNotifier(): Notifier {
  const waiters = new Map<string, Set<(settled: boolean) => void>>();
  let closed = false;
  let count = 0;

  return {
    settled(kind, id) {
      const set = waiters.get(`${kind}:${id}`);
      if (!set) return;
      for (const w of [...set]) w(true);
    },
    wait(kind, id, ms, isSettled, signal) {
      if (closed || ms <= 0 || signal?.aborted) return Promise.resolve(isSettled() === true);
      const slot = `${kind}:${id}`;
      return new Promise<boolean>((resolve) => {
        let set = waiters.get(slot);
        if (!set) {
          set = new Set();
          waiters.set(slot, set);
        }
        const own = set;
        const done = (settled: boolean) => {
          if (!own.delete(done)) return;
          count--;
          if (own.size === 0) waiters.delete(slot);
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(settled);
        };
        const onAbort = () => done(false);
        own.add(done);
        count++;
        const timer = setTimeout(() => done(false), ms);
        signal?.addEventListener('abort', onAbort, { once: true });
        const now = isSettled();
        if (now === true) done(true);
        else if (now === undefined) done(false);
      });
    },
    close() {
      closed = true;
      for (const set of [...waiters.values()]) for (const w of [...set]) w(false);
    },
    get waiting() {
      return count;
    },
  };
}
