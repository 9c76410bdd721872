/**
 * When a signing request, accepted (or released by its approvals) at `at`, must settle. A request
 * whose signer set needs an offline party — its key's committee holds one, and fewer than
 * `threshold` of the online members are connected — waits for a trip to the vault and back:
 * `offlineDeadlineMs` (docs/offline.md). Any other: `signingTimeoutMs`.
 */
import type { KeyRecord } from '../../store/types.js';
import type { RouteDeps } from './context.js';

/** What the deadline depends on: who is offline and who is connected now, and the two settings. */
export type DeadlineDeps = Pick<RouteDeps, 'signingTimeoutMs' | 'offlineDeadlineMs'> & {
  orchestrator: Pick<RouteDeps['orchestrator'], 'parties'>;
};

export function signingDeadline(deps: DeadlineDeps, key: Pick<KeyRecord, 'parties' | 'threshold'>, at: number): string {
  const committee = new Set(key.parties);
  const members = deps.orchestrator.parties().filter((p) => committee.has(p.partyId));
  const needsOffline =
    members.some((p) => p.mode === 'offline') && members.filter((p) => p.mode === 'online' && p.connected).length < key.threshold;
  const ms = needsOffline && deps.offlineDeadlineMs !== undefined ? deps.offlineDeadlineMs : deps.signingTimeoutMs;
  return new Date(at + ms).toISOString();
}
