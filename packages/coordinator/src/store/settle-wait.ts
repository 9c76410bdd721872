/**
 * `?wait=` over a database that other coordinator instances write too: a settle this process did
 * not make reaches it as a notification (LISTEN/NOTIFY), which is only a hint; the row is checked
 * every `pollMs` as well, so a lost notification (a dropped listening connection) costs at most
 * one poll interval, never a wrong answer.
 */
import type { Notifier } from './notifier.js';
import type { SettleKind } from './types.js';

/** Everything one wait needs. */
export interface PolledWait {
  notifier: Notifier;
  kind: SettleKind;
  id: string;
  ms: number;
  /** True when final, false when not yet, undefined for an id that names nothing. */
  check: () => Promise<boolean | undefined>;
  pollMs: number;
  signal?: AbortSignal | undefined;
  /** True once the store is closed. */
  closed: () => boolean;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Resolves true once the row is final, false on timeout, abort, close, or an unknown id. */
export async function waitPolled(w: PolledWait): Promise<boolean> {
  const deadline = Date.now() + w.ms;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  w.signal?.addEventListener('abort', onAbort, { once: true });
  let notified = false;
  // Subscribed before the first check, so a settle between the two is not missed.
  const hint = w.notifier
    .wait(w.kind, w.id, w.ms, () => false, stop.signal)
    .then((v) => {
      notified = v;
      stop.abort();
    });
  try {
    for (;;) {
      const state = await w.check().catch(() => false);
      if (state !== false) return state === true;
      const left = deadline - Date.now();
      if (left <= 0 || w.signal?.aborted || w.closed()) return false;
      if (!stop.signal.aborted) {
        // A notification ends this sleep early, and the check above confirms it.
        await sleep(Math.min(w.pollMs, left), stop.signal);
      } else if (notified) {
        // Notified, yet not final on a re-read: keep polling until the deadline.
        await sleep(Math.min(w.pollMs, left), w.signal ?? new AbortController().signal);
      } else {
        // The notifier gave up (timeout, abort or close): one last look at the row.
        return (await w.check().catch(() => false)) === true;
      }
    }
  } finally {
    w.signal?.removeEventListener('abort', onAbort);
    stop.abort();
    await hint;
  }
}
