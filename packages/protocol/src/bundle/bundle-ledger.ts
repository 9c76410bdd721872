/**
 * Replay protection for bundles: the recipient remembers, per sender, the highest sequence it
 * accepted. `openBundle` only reads the ledger; the caller records a bundle once it has durably
 * acted on it, so a crash between opening and acting lets the same bundle in again rather than
 * losing it. Storage is the caller's: `MemoryBundleLedger` snapshots to plain JSON for a file, and
 * a database can implement the one-method interface directly.
 */

/** What `openBundle` asks of the recipient's memory. */
export interface BundleLedger {
  /** The highest sequence accepted from `sender` (to this recipient), or undefined if none yet. */
  lastSequence(sender: string): number | undefined;
}

/** A ledger held in memory, persisted by the caller through `snapshot()`. */
export class MemoryBundleLedger implements BundleLedger {
  private readonly last = new Map<string, number>();

  /**
   * Rebuilds a ledger from `snapshot()` output. A damaged snapshot throws rather than being
   * partly read: a dropped entry would quietly let that sender's old bundles in again.
   */
  constructor(snapshot: Readonly<Record<string, number>> = {}) {
    for (const [sender, seq] of Object.entries(snapshot)) {
      if (!Number.isSafeInteger(seq) || seq < 0)
        throw new RangeError(`bundle ledger snapshot: ${JSON.stringify(sender)} has no valid sequence`);
      this.last.set(sender, seq);
    }
  }

  lastSequence(sender: string): number | undefined {
    return this.last.get(sender);
  }

  /** Records an accepted bundle. Sequences only move forward. */
  record(bundle: { readonly sender: string; readonly sequence: number }): void {
    const prev = this.last.get(bundle.sender);
    if (prev === undefined || bundle.sequence > prev) this.last.set(bundle.sender, bundle.sequence);
  }

  /** Sender → last accepted sequence, JSON-able. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.last].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}
