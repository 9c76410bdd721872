/**
 * The PostgreSQL store's offline-party tables (migration 5). Several instances may take an inbox
 * or draw commitments at once: the party's `offline_bundles` row is locked for a sequence change,
 * and a draw locks the rows it takes (others skip them), so no commitment is drawn twice.
 */
import type { NonceCommitmentWire } from '@glacis/protocol';
import type { OfflineCommitment } from '../orchestrator/store-port.js';
import type { PgConnection } from './pg-connection.js';

const SQL = {
  sequences: 'SELECT inbox_sequence, outbox_sequence FROM offline_bundles WHERE party_id = $1',
  ensure: 'INSERT INTO offline_bundles (party_id) VALUES ($1) ON CONFLICT (party_id) DO NOTHING',
  lock: 'SELECT inbox_sequence, outbox_sequence FROM offline_bundles WHERE party_id = $1 FOR UPDATE',
  setInbox: 'UPDATE offline_bundles SET inbox_sequence = $2 WHERE party_id = $1',
  setOutbox: 'UPDATE offline_bundles SET outbox_sequence = $2 WHERE party_id = $1',
  insert: `INSERT INTO offline_commitments (party_id, key_id, hiding, binding, received_at)
    SELECT $1, k, h, b, $5 FROM unnest($2::text[], $3::text[], $4::text[]) AS t(k, h, b)
    ON CONFLICT (party_id, key_id, hiding) DO NOTHING`,
  unused: `SELECT seq, hiding, binding FROM offline_commitments WHERE party_id = $1 AND key_id = $2 AND used_by IS NULL
    ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED`,
  use: 'UPDATE offline_commitments SET used_by = $1, used_at = $2 WHERE seq = ANY($3::bigint[])',
  count: 'SELECT COUNT(*)::int AS n FROM offline_commitments WHERE party_id = $1 AND key_id = $2 AND used_by IS NULL',
} as const;

/**
 * Marks every unused commitment of a key ($3) used by $1 at $2: the key switched, and the offline
 * parties dropped the nonces behind them. Run inside the switch's transaction.
 */
export const RETIRE_OFFLINE_COMMITMENTS = 'UPDATE offline_commitments SET used_by = $1, used_at = $2 WHERE key_id = $3 AND used_by IS NULL';

type Sequences = { inbox_sequence: number | null; outbox_sequence: number | null };

/** The offline-party methods of the PostgreSQL store. */
export function pgOffline(conn: PgConnection, iso: () => string) {
  return {
    async lastInboxSequence(partyId: string): Promise<number | undefined> {
      const [r] = await conn.query<Sequences>(SQL.sequences, [partyId]);
      return r?.inbox_sequence ?? undefined;
    },
    acceptInbox(partyId: string, sequence: number, commitments: readonly OfflineCommitment[]): Promise<boolean> {
      return conn.tx(async (c) => {
        await c.query(SQL.ensure, [partyId]);
        const last = (await c.query<Sequences>(SQL.lock, [partyId])).rows[0]?.inbox_sequence;
        if (last !== null && last !== undefined && sequence <= last) return false;
        await c.query(SQL.setInbox, [partyId, sequence]);
        await c.query(SQL.insert, [
          partyId,
          commitments.map((x) => x.keyId),
          commitments.map((x) => x.hiding),
          commitments.map((x) => x.binding),
          iso(),
        ]);
        return true;
      });
    },
    drawOfflineCommitments(partyId: string, keyId: string, count: number, usedBy: string): Promise<NonceCommitmentWire[]> {
      return conn.tx(async (c) => {
        const rows = (await c.query<{ seq: number; hiding: string; binding: string }>(SQL.unused, [partyId, keyId, count])).rows;
        if (rows.length < count) return [];
        await c.query(SQL.use, [usedBy, iso(), rows.map((r) => r.seq)]);
        return rows.map((r) => ({ hiding: r.hiding, binding: r.binding }));
      });
    },
    async countOfflineCommitments(partyId: string, keyId: string): Promise<number> {
      const [r] = await conn.query<{ n: number }>(SQL.count, [partyId, keyId]);
      return r?.n ?? 0;
    },
    nextOutboxSequence(partyId: string, now: number): Promise<number> {
      return conn.tx(async (c) => {
        await c.query(SQL.ensure, [partyId]);
        const last = (await c.query<Sequences>(SQL.lock, [partyId])).rows[0]?.outbox_sequence ?? -1;
        const next = Math.max(last + 1, now);
        await c.query(SQL.setOutbox, [partyId, next]);
        return next;
      });
    },
  };
}
