/** The SQLite store's offline-party tables (migration 5): preprocessed commitments and bundle sequences. */
import type { NonceCommitmentWire } from '@glacis/protocol';
import type { Database } from 'better-sqlite3';
import type { OfflineCommitment } from '../orchestrator/store-port.js';

/** What the SQLite store does for offline parties; each method is one transaction. */
export interface SqliteOffline {
  lastInboxSequence(partyId: string): number | undefined;
  acceptInbox(partyId: string, sequence: number, commitments: readonly OfflineCommitment[]): boolean;
  draw(partyId: string, keyId: string, count: number, usedBy: string): NonceCommitmentWire[];
  count(partyId: string, keyId: string): number;
  nextOutboxSequence(partyId: string, now: number): number;
  /**
   * Marks every unused commitment of `keyId` used by `usedBy`: the key switched, and the offline
   * parties dropped the nonces behind them. Runs inside the caller's (the switch's) transaction.
   */
  retireForKey(keyId: string, usedBy: string): number;
}

type Sequences = { inbox_sequence: number | null; outbox_sequence: number | null };

/** Offline-party statements over `db`; `iso` is the store's clock as RFC 3339. */
export function createSqliteOffline(db: Database, iso: () => string): SqliteOffline {
  const q = {
    sequences: db.prepare<[string], Sequences>('SELECT inbox_sequence, outbox_sequence FROM offline_bundles WHERE party_id = ?'),
    setInbox: db.prepare<[string, number]>(
      `INSERT INTO offline_bundles (party_id, inbox_sequence) VALUES (?, ?)
       ON CONFLICT (party_id) DO UPDATE SET inbox_sequence = excluded.inbox_sequence`,
    ),
    setOutbox: db.prepare<[string, number]>(
      `INSERT INTO offline_bundles (party_id, outbox_sequence) VALUES (?, ?)
       ON CONFLICT (party_id) DO UPDATE SET outbox_sequence = excluded.outbox_sequence`,
    ),
    insert: db.prepare<[string, string, string, string, string]>(
      `INSERT INTO offline_commitments (party_id, key_id, hiding, binding, received_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (party_id, key_id, hiding) DO NOTHING`,
    ),
    unused: db.prepare<[string, string, number], { seq: number; hiding: string; binding: string }>(
      'SELECT seq, hiding, binding FROM offline_commitments WHERE party_id = ? AND key_id = ? AND used_by IS NULL ORDER BY seq LIMIT ?',
    ),
    use: db.prepare<[string, string, number]>('UPDATE offline_commitments SET used_by = ?, used_at = ? WHERE seq = ?'),
    retire: db.prepare<[string, string, string]>(
      'UPDATE offline_commitments SET used_by = ?, used_at = ? WHERE key_id = ? AND used_by IS NULL',
    ),
    count: db.prepare<[string, string], { n: number }>(
      'SELECT COUNT(*) AS n FROM offline_commitments WHERE party_id = ? AND key_id = ? AND used_by IS NULL',
    ),
  };
  return {
    lastInboxSequence: (partyId) => q.sequences.get(partyId)?.inbox_sequence ?? undefined,
    acceptInbox: (partyId, sequence, commitments) =>
      db
        .transaction(() => {
          const last = q.sequences.get(partyId)?.inbox_sequence;
          if (last !== null && last !== undefined && sequence <= last) return false;
          q.setInbox.run(partyId, sequence);
          const at = iso();
          for (const c of commitments) q.insert.run(partyId, c.keyId, c.hiding, c.binding, at);
          return true;
        })
        .immediate(),
    draw: (partyId, keyId, count, usedBy) =>
      db
        .transaction(() => {
          const rows = q.unused.all(partyId, keyId, count);
          if (rows.length < count) return [];
          const at = iso();
          for (const r of rows) q.use.run(usedBy, at, r.seq);
          return rows.map((r) => ({ hiding: r.hiding, binding: r.binding }));
        })
        .immediate(),
    count: (partyId, keyId) => q.count.get(partyId, keyId)?.n ?? 0,
    retireForKey: (keyId, usedBy) => q.retire.run(usedBy, iso(), keyId).changes,
    nextOutboxSequence: (partyId, now) =>
      db
        .transaction(() => {
          const last = q.sequences.get(partyId)?.outbox_sequence ?? -1;
          const next = Math.max(last + 1, now);
          q.setOutbox.run(partyId, next);
          return next;
        })
        .immediate(),
  };
}
