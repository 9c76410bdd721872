/**
 * This coordinator instance's work leases (store-port.ts `LeaseFence`): it claims the work it
 * accepts and the work other instances left (their leases lapsed), renews what it runs by
 * heartbeat, and reports a lease lost the moment it can no longer be sure it holds it.
 *
 * Sure means: the last renewal that succeeded was *sent* at t, so the store's expiry is at least
 * t + ttl on the store's clock; we count the lease as ours only until t + ttl − heartbeat on our
 * own clock, and look every heartbeat, so we stop running the work before anyone else may claim
 * it (clocks may be offset from the server's; we rely only on them ticking at the same rate).
 * The store's fence check is what makes a late write harmless; stopping early is what keeps two
 * instances from driving one request's sessions at once.
 */
import type { Logger } from 'pino';
import type { Clock } from './ports.js';
import type { Lease, LeaseFence, OrchestratorStore, WorkKind } from './store-port.js';

export interface LeaseKeeperOptions {
  store: Pick<OrchestratorStore, 'claimWork' | 'renewLeases' | 'releaseLeases'>;
  /** This instance life's id (its leases' owner). */
  owner: string;
  ttlMs: number;
  clock: Clock;
  logger: Logger;
  /**
   * The store is this process's alone (SQLite): the first claim takes every lease, lapsed or not,
   * since whatever held them was an earlier life of this process.
   */
  exclusive: boolean;
  /** How often to look for work whose lease lapsed (default ttlMs / 2). */
  claimIntervalMs?: number;
  /** Leases taken per look (default 16). */
  claimLimit?: number;
  /** Whether this instance should take on others' work now (e.g. it has parties connected). */
  canTakeWork?: () => boolean;
  /** A lease was claimed by a look (not by `claim`): run the work. */
  onClaimed(lease: Lease): void;
  /** A lease is no longer surely ours: stop the work, write nothing more. */
  onLost(lease: LeaseFence): void;
}

export interface LeaseKeeper {
  /** Claims work this instance just accepted; its fence, or undefined if another instance took it. */
  claim(kind: WorkKind, id: string): Promise<LeaseFence | undefined>;
  /** The fence of a lease surely held now, or undefined. */
  fence(kind: WorkKind, id: string): LeaseFence | undefined;
  /** The work settled or was given up: stop renewing its lease. */
  drop(kind: WorkKind, id: string): void;
  /** One look for claimable work (recovery at start); the leases are dispatched with onClaimed. */
  claimNow(): Promise<void>;
  /** Starts the heartbeat and the periodic looks. */
  start(): void;
  /** Stops, and lets every lease lapse at once so another instance takes the work over without waiting. */
  close(): Promise<void>;
  /** Leases held now. */
  readonly held: number;
}

type Held = { lease: LeaseFence; sureUntil: number };
const slot = (kind: WorkKind, id: string) => `${kind}:${id}`;
const fenceOf = (l: LeaseFence): LeaseFence => ({ kind: l.kind, id: l.id, owner: l.owner, epoch: l.epoch });

export function createLeaseKeeper(o: LeaseKeeperOptions): LeaseKeeper {
  const heartbeatMs = Math.max(1, Math.floor(o.ttlMs / 3));
  const held = new Map<string, Held>();
  const log = o.logger;
  let firstLook = true;
  let renewing = false;
  let looking = false;
  let closed = false;
  let heartbeat: { cancel(): void } | undefined;
  let looker: { cancel(): void } | undefined;

  const sure = (sentAt: number) => sentAt + o.ttlMs - heartbeatMs;

  function hold(lease: LeaseFence, sentAt: number): void {
    held.set(slot(lease.kind, lease.id), { lease: fenceOf(lease), sureUntil: sure(sentAt) });
  }

  function lose(h: Held, why: string): void {
    const key = slot(h.lease.kind, h.lease.id);
    if (held.get(key) !== h) return;
    held.delete(key);
    log.warn({ kind: h.lease.kind, id: h.lease.id, epoch: h.lease.epoch, why }, 'lease lost; work stopped here');
    o.onLost(h.lease);
  }

  /** Drops every lease whose certainty ran out (no renewal got through in time). */
  function expire(): void {
    const now = o.clock.now();
    for (const h of [...held.values()]) if (h.sureUntil <= now) lose(h, 'not renewed in time');
  }

  async function renew(): Promise<void> {
    expire();
    if (renewing || held.size === 0) return;
    renewing = true;
    const sentAt = o.clock.now();
    const asked = [...held.values()];
    try {
      const renewed = await o.store.renewLeases(
        o.owner,
        asked.map((h) => h.lease),
        o.ttlMs,
      );
      const kept = new Set(renewed.map((l) => `${slot(l.kind, l.id)}:${l.epoch}`));
      for (const h of asked) {
        if (held.get(slot(h.lease.kind, h.lease.id)) !== h) continue;
        if (kept.has(`${slot(h.lease.kind, h.lease.id)}:${h.lease.epoch}`)) h.sureUntil = sure(sentAt);
        else lose(h, 'the store no longer has it as ours (settled meanwhile, or claimed by another instance)');
      }
    } catch (e) {
      log.warn({ err: (e as Error).message, held: asked.length }, 'lease renewal failed');
    } finally {
      renewing = false;
    }
  }

  async function look(): Promise<void> {
    if (looking || closed) return;
    const takeLive = o.exclusive && firstLook;
    if (!takeLive && o.canTakeWork && !o.canTakeWork()) return;
    looking = true;
    const sentAt = o.clock.now();
    try {
      const leases = await o.store.claimWork({ owner: o.owner, ttlMs: o.ttlMs, limit: o.claimLimit ?? 16, takeLive });
      firstLook = false;
      for (const lease of leases) {
        hold(lease, sentAt);
        log.info({ kind: lease.kind, id: lease.id, epoch: lease.epoch }, 'work claimed');
        o.onClaimed(lease);
      }
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'claiming work failed');
    } finally {
      looking = false;
    }
  }

  /**
   * Runs `fn` every `ms` without waiting for it: a call into a store that stopped answering must
   * not stop the heartbeat, which is what notices that leases can no longer be renewed.
   */
  function every(ms: number, fn: () => Promise<void>): { cancel(): void } {
    let timer: { cancel(): void } | undefined;
    let stopped = false;
    const tick = () => {
      if (stopped) return;
      void fn();
      timer = o.clock.setTimeout(tick, ms);
    };
    timer = o.clock.setTimeout(tick, ms);
    return {
      cancel() {
        stopped = true;
        timer?.cancel();
      },
    };
  }

  return {
    get held() {
      return held.size;
    },
    async claim(kind, id) {
      const sentAt = o.clock.now();
      const [lease] = await o.store.claimWork({ owner: o.owner, ttlMs: o.ttlMs, limit: 1, target: { kind, id } });
      if (!lease) return undefined;
      hold(lease, sentAt);
      return fenceOf(lease);
    },
    fence(kind, id) {
      const h = held.get(slot(kind, id));
      if (!h) return undefined;
      if (h.sureUntil <= o.clock.now()) {
        lose(h, 'not renewed in time');
        return undefined;
      }
      return h.lease;
    },
    drop(kind, id) {
      held.delete(slot(kind, id));
    },
    claimNow: look,
    start() {
      heartbeat ??= every(heartbeatMs, renew);
      looker ??= every(o.claimIntervalMs ?? Math.max(1, Math.floor(o.ttlMs / 2)), look);
    },
    async close() {
      closed = true;
      heartbeat?.cancel();
      looker?.cancel();
      held.clear();
      try {
        await o.store.releaseLeases(o.owner);
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'releasing leases failed; they lapse on their own');
      }
    },
  };
}
