/** The SQLite store's work leases (leases.ts): claims, renewals, and the fence check of a write. */
import type { Database, Statement } from 'better-sqlite3';
import type { ClaimRequest, Lease, LeaseFence, WorkKind } from '../orchestrator/store-port.js';
import { assertFence, type LeaseRow, leaseFromRow } from './leases.js';

/** What the SQLite store does with leases; every method runs inside the caller's transaction. */
export interface SqliteLeases {
  /** The free lease of work just created. */
  insert(kind: WorkKind, id: string): void;
  /** Settled work has nothing left to claim. */
  remove(kind: WorkKind, id: string): void;
  /** Makes the work claimable now, whoever holds it (their fence no longer passes). */
  free(kind: WorkKind, id: string): void;
  /** Throws `lease_lost` unless `fence` is current. */
  check(fence: LeaseFence): void;
  claim(req: ClaimRequest): Lease[];
  renew(owner: string, leases: readonly LeaseFence[], ttlMs: number): Lease[];
  release(owner: string): number;
}

/** Lease statements over `db`; `now` is the store's clock (ms). */
export function createSqliteLeases(db: Database, now: () => number): SqliteLeases {
  const q = {
    insert: db.prepare<[string, string]>('INSERT INTO work_leases (kind, id) VALUES (?, ?)'),
    remove: db.prepare<[string, string]>('DELETE FROM work_leases WHERE kind = ? AND id = ?'),
    free: db.prepare<[string, string]>('UPDATE work_leases SET expires_at = 0 WHERE kind = ? AND id = ?'),
    get: db.prepare<[string, string], LeaseRow>('SELECT * FROM work_leases WHERE kind = ? AND id = ?'),
    lapsed: db.prepare<[number, number], LeaseRow>('SELECT * FROM work_leases WHERE expires_at <= ? ORDER BY expires_at, kind, id LIMIT ?'),
    every: db.prepare<[number], LeaseRow>('SELECT * FROM work_leases ORDER BY expires_at, kind, id LIMIT ?'),
    take: db.prepare(
      'UPDATE work_leases SET owner = @owner, epoch = epoch + 1, expires_at = @expiresAt WHERE kind = @kind AND id = @id',
    ) as Statement,
    renew: db.prepare(
      `UPDATE work_leases SET expires_at = @expiresAt
       WHERE kind = @kind AND id = @id AND owner = @owner AND epoch = @epoch AND expires_at > @now`,
    ) as Statement,
    release: db.prepare<[string, number]>('UPDATE work_leases SET expires_at = 0 WHERE owner = ? AND expires_at > ?'),
  };
  const read = (kind: string, id: string) => q.get.get(kind, id);

  return {
    insert: (kind, id) => void q.insert.run(kind, id),
    remove: (kind, id) => void q.remove.run(kind, id),
    free: (kind, id) => void q.free.run(kind, id),
    check: (fence) => assertFence(read(fence.kind, fence.id), fence, now()),
    claim(req) {
      const at = now();
      let rows: LeaseRow[];
      if (req.target) {
        const r = read(req.target.kind, req.target.id);
        rows = r && (req.takeLive || r.expires_at <= at) ? [r] : [];
      } else {
        rows = req.takeLive ? q.every.all(req.limit) : q.lapsed.all(at, req.limit);
      }
      const expiresAt = at + req.ttlMs;
      for (const r of rows) q.take.run({ owner: req.owner, expiresAt, kind: r.kind, id: r.id });
      return rows.map((r) => leaseFromRow({ ...r, owner: req.owner, epoch: r.epoch + 1, expires_at: expiresAt }));
    },
    renew(owner, leases, ttlMs) {
      const at = now();
      const expiresAt = at + ttlMs;
      const renewed: Lease[] = [];
      for (const l of leases) {
        if (q.renew.run({ expiresAt, kind: l.kind, id: l.id, owner, epoch: l.epoch, now: at }).changes > 0)
          renewed.push({ kind: l.kind, id: l.id, owner, epoch: l.epoch, expiresAt });
      }
      return renewed;
    },
    release: (owner) => q.release.run(owner, 0).changes,
  };
}
