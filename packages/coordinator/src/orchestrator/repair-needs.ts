/**
 * Self-recovery: which committee members miss their share of an active key, and the repairs the
 * coordinator runs on its own. Every party reports what it holds on each connection (`key_sync`
 * holdings: key, generation, `keyPackageHash`); a member that lists no share of an active key, or
 * a share of another generation (a stale backup, a lost disk), is marked `needsRepair` for it
 * (`GET /v1/parties`). When the key's lifecycle policy allows automatic repair (coordinator
 * setting `autoRepair`, globally or for listed keys), the coordinator starts the repair itself as
 * soon as the member and `t` helpers are connected; otherwise it waits for an admin's
 * `POST /v1/keys/{id}/repair`. A repair that fails is retried no sooner than `retryMs` later.
 */
import { keyPackageHash } from '@glacis/protocol';
import { packageOf } from './lifecycle-run.js';
import type { KeyRow } from './store-port.js';

/** What the coordinator knows of one member's share of one key. */
export type ShareStatus = 'held' | 'missing' | 'unknown';

export interface RepairNeedsOptions {
  /** Whether the coordinator repairs `keyId`'s missing shares itself. */
  autoRepair: (keyId: string) => boolean;
  isConnected: (partyId: string) => boolean;
  now: () => number;
  retryMs: number;
  /** Starts an automatic repair; resolves false when it could not be started now (retried later). */
  startRepair: (keyId: string, partyId: string) => Promise<boolean>;
}

export interface RepairNeeds {
  /** A member's report: the package hash of each active share it holds, for its active keys. */
  reported(partyId: string, keys: readonly KeyRow[], held: ReadonlyMap<string, string>): void;
  held(keyId: string, partyId: string): void;
  /** The key switched: its new committee holds the new generation (each confirmed it); others are unknown. */
  switched(keyId: string, committee: readonly string[], threshold: number): void;
  status(keyId: string, partyId: string): ShareStatus;
  needsRepair(partyId: string): string[];
  /** Starts the automatic repairs that can run now (after a connection, a report, a failure). */
  kick(): Promise<void>;
  /** An automatic repair of `keyId` for `partyId` ended without repairing: wait before the next. */
  repairFailed(keyId: string, partyId: string): void;
}

export function createRepairNeeds(o: RepairNeedsOptions): RepairNeeds {
  const statuses = new Map<string, Map<string, ShareStatus>>(); // partyId → keyId → status
  const committees = new Map<string, { parties: readonly string[]; threshold: number }>(); // keyId → committee
  const notBefore = new Map<string, number>(); // `${keyId}:${partyId}` → when an automatic repair may run
  let kicking: Promise<void> | undefined;

  const set = (partyId: string, keyId: string, s: ShareStatus) => {
    const m = statuses.get(partyId) ?? new Map<string, ShareStatus>();
    m.set(keyId, s);
    statuses.set(partyId, m);
  };

  async function runKick(): Promise<void> {
    for (const [partyId, m] of statuses) {
      for (const [keyId, s] of m) {
        const c = committees.get(keyId);
        if (s !== 'missing' || !c || !o.autoRepair(keyId) || !o.isConnected(partyId)) continue;
        const slot = `${keyId}:${partyId}`;
        if ((notBefore.get(slot) ?? 0) > o.now()) continue;
        if (c.parties.filter((p) => p !== partyId && o.isConnected(p)).length < c.threshold) continue;
        notBefore.set(slot, o.now() + o.retryMs);
        await o.startRepair(keyId, partyId);
      }
    }
  }

  return {
    reported(partyId, keys, held) {
      for (const key of keys) {
        committees.set(key.keyId, { parties: key.parties, threshold: key.threshold });
        set(partyId, key.keyId, held.get(key.keyId) === keyPackageHash(packageOf(key)) ? 'held' : 'missing');
      }
    },
    held(keyId, partyId) {
      set(partyId, keyId, 'held');
      notBefore.delete(`${keyId}:${partyId}`);
    },
    switched(keyId, committee, threshold) {
      for (const [partyId, m] of statuses) if (!committee.includes(partyId)) m.delete(keyId);
      committees.set(keyId, { parties: committee, threshold });
      for (const p of committee) set(p, keyId, 'held');
    },
    status: (keyId, partyId) => statuses.get(partyId)?.get(keyId) ?? 'unknown',
    needsRepair: (partyId) =>
      [...(statuses.get(partyId) ?? [])]
        .filter(([, s]) => s === 'missing')
        .map(([k]) => k)
        .sort(),
    kick() {
      // One pass at a time: a pass awaits the store, and connections keep coming.
      kicking ??= runKick().finally(() => {
        kicking = undefined;
      });
      return kicking;
    },
    repairFailed(keyId, partyId) {
      notBefore.set(`${keyId}:${partyId}`, o.now() + o.retryMs);
    },
  };
}
