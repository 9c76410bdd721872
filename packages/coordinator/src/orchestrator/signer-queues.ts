/**
 * What the coordinator knows of each signer's backlog: the signing packages sent to it and not
 * answered yet, in the order they went, and how long it takes per package. From these, when an
 * answer still missing is due — how long a session waiting for it is worth waiting for before
 * another starts (the session grace, signing-machine.ts).
 *
 * A party answers packages one after another in the order they came (one event loop, one share log
 * group-committed in order), so a package waits behind every package sent to that party before it
 * and not answered yet, whichever request they belong to. Each signer is modelled as such a queue.
 * Its time per package is estimated as TCP estimates a round trip (RFC 6298 §2: a smoothed value
 * and its mean deviation), from samples of round trip ÷ (packages ahead when it was sent + 1); the
 * allowance per package is the smoothed value plus four deviations. A package with k packages
 * still ahead of it is due k allowances plus one wait (an allowance, at least `minWaitMs`) after
 * the party last made progress on them (answered one of them), or after it was sent. So a party that is busy signing other requests' packages is
 * not mistaken for a stalled one (its progress keeps moving the due time), and a burst of load is
 * accounted for the moment it is sent, before any round trip of it could be measured; a party that
 * answers nothing, or answers packages sent after this one but not this one, lets the due time pass.
 *
 * An unanswered package stops counting once it is older than `retainMs` (the longest a session
 * is ever held, so a package that old can no longer hold anything back): a silent party's backlog
 * does not grow without bound.
 */

/** RFC 6298 §2.3's gains: of a new sample in the smoothed value, and in its deviation. */
const ALPHA = 1 / 8;
const BETA = 1 / 4;

export interface SignerQueues {
  /** The package `key` (one session's, to one party) went to `party` at `now` (again, if resent). */
  sent(party: string, key: string, now: number): void;
  /**
   * `party` answered the package `key` at `now` (nothing if it is not tracked); `sample`: the
   * answer is a share, whose round trip is a sample of the party's time per package (a refusal
   * takes no signing time).
   */
  answered(party: string, key: string, now: number, sample: boolean): void;
  /** `party`'s connection closed: what it was sent went with it. */
  dropParty(party: string): void;
  /** When `party`'s answer to the package `key` is due (ms, the caller's clock), or undefined when it is not tracked. */
  due(party: string, key: string, now: number): number | undefined;
  /** Packages tracked (all parties): bounded by what is sent in `retainMs`. */
  readonly size: number;
}

interface Package {
  party: string;
  /** Its place in the party's queue. */
  seq: number;
  sentAt: number;
  /** Packages of the party still unanswered when it was sent. */
  ahead: number;
}

interface Queue {
  /** The place of the next package sent. */
  next: number;
  /** No package before this place is still unanswered. */
  low: number;
  /** Unanswered packages by place. */
  open: Map<number, string>;
  /** The party's latest answer: to which place, and when. */
  last: { seq: number; at: number } | undefined;
  /** Time per package (ms), once one was answered. */
  perPackage: { smoothed: number; deviation: number } | undefined;
}

export interface SignerQueueOptions {
  /** The allowance per package of a party with no answer measured yet (ms). */
  initialAllowanceMs: number;
  /**
   * The least a package is waited for after the party last made progress (ms): its answer, next
   * in line, may come a little later than the one before did.
   */
  minWaitMs: number;
  /** How long an unanswered package keeps counting (ms). */
  retainMs: number;
}

export function createSignerQueues(o: SignerQueueOptions): SignerQueues {
  const packages = new Map<string, Package>();
  const queues = new Map<string, Queue>();

  function queueOf(party: string): Queue {
    let q = queues.get(party);
    if (!q) {
      q = { next: 0, low: 0, open: new Map(), last: undefined, perPackage: undefined };
      queues.set(party, q);
    }
    return q;
  }

  /** Moves `low` past answered places, forgetting packages older than `retainMs` on the way. */
  function advance(q: Queue, now: number): void {
    while (q.low < q.next) {
      const key = q.open.get(q.low);
      if (key !== undefined) {
        const p = packages.get(key) as Package;
        if (p.sentAt >= now - o.retainMs) return;
        packages.delete(key);
        q.open.delete(q.low);
      }
      q.low++;
    }
  }

  function forget(key: string): Package | undefined {
    const p = packages.get(key);
    if (!p) return undefined;
    packages.delete(key);
    queueOf(p.party).open.delete(p.seq);
    return p;
  }

  return {
    sent(party, key, now) {
      forget(key);
      const q = queueOf(party);
      advance(q, now);
      const seq = q.next++;
      packages.set(key, { party, seq, sentAt: now, ahead: q.open.size });
      q.open.set(seq, key);
    },
    answered(party, key, now, sample) {
      const p = packages.get(key);
      if (!p || p.party !== party) return;
      forget(key);
      const q = queueOf(party);
      advance(q, now);
      q.last = { seq: p.seq, at: now };
      if (sample) {
        const ms = (now - p.sentAt) / (p.ahead + 1);
        const e = q.perPackage;
        if (e === undefined) q.perPackage = { smoothed: ms, deviation: ms / 2 };
        else {
          e.deviation = (1 - BETA) * e.deviation + BETA * Math.abs(e.smoothed - ms);
          e.smoothed = (1 - ALPHA) * e.smoothed + ALPHA * ms;
        }
      }
    },
    dropParty(party) {
      const q = queues.get(party);
      if (!q) return;
      for (const key of q.open.values()) packages.delete(key);
      q.open.clear();
      q.low = q.next;
    },
    due(party, key, now) {
      const p = packages.get(key);
      if (!p || p.party !== party) return undefined;
      const q = queueOf(party);
      advance(q, now);
      if (!packages.has(key)) return undefined;
      const e = q.perPackage;
      const allowance = e === undefined ? o.initialAllowanceMs : e.smoothed + 4 * e.deviation;
      // An answer to a package sent after this one says nothing of progress towards it.
      const progress = q.last !== undefined && q.last.seq < p.seq ? Math.max(p.sentAt, q.last.at) : p.sentAt;
      // Places between are answered or not: either count is an upper bound of what is still ahead.
      const ahead = Math.min(p.seq - q.low, q.open.size - 1);
      return progress + Math.max(o.minWaitMs, allowance) + ahead * allowance;
    },
    get size() {
      return packages.size;
    },
  };
}
