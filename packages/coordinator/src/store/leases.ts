/**
 * Work leases as both stores keep them: one `work_leases` row per piece of unsettled work, with
 * its holder, its fencing epoch and when the claim lapses (ms on the store's clock).
 */
import { CoordinatorError } from '../errors.js';
import type { Lease, LeaseFence, WorkKind } from '../orchestrator/store-port.js';

/** A `work_leases` row. */
export interface LeaseRow {
  kind: string;
  id: string;
  owner: string | null;
  epoch: number;
  expires_at: number;
}

/** A claimed row as a Lease. */
export function leaseFromRow(r: LeaseRow): Lease {
  return { kind: r.kind as WorkKind, id: r.id, owner: r.owner ?? '', epoch: r.epoch, expiresAt: r.expires_at };
}

/**
 * Throws `lease_lost` unless `row` is the lease `fence` names, still held at `now`. Called inside
 * the transaction of the fenced write, after the row was read (and, in PostgreSQL, locked).
 */
export function assertFence(row: LeaseRow | undefined, fence: LeaseFence, now: number): void {
  const what = `${fence.kind} ${fence.id}`;
  if (!row) throw new CoordinatorError('lease_lost', `${what}: no lease (settled or unknown)`);
  if (row.owner !== fence.owner || row.epoch !== fence.epoch)
    throw new CoordinatorError('lease_lost', `${what}: the lease is at epoch ${row.epoch} of another holder (fence: epoch ${fence.epoch})`);
  if (row.expires_at <= now) throw new CoordinatorError('lease_lost', `${what}: the lease at epoch ${fence.epoch} has lapsed`);
}
