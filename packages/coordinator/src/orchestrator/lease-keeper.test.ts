import pino from 'pino';
import { describe, expect, test } from 'vitest';
import { createLeaseKeeper, type LeaseKeeperOptions } from './lease-keeper.js';
import type { Clock } from './ports.js';
import type { ClaimRequest, Lease, LeaseFence } from './store-port.js';

/** A clock whose timers fire only when the test moves time. */
function virtualClock() {
  let now = 0;
  let timers: { at: number; fn: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    setTimeout(fn, ms) {
      const t = { at: now + ms, fn };
      timers.push(t);
      return {
        cancel() {
          timers = timers.filter((x) => x !== t);
        },
      };
    },
  };
  async function advance(ms: number): Promise<void> {
    const end = now + ms;
    for (;;) {
      const next = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      timers = timers.filter((t) => t !== next);
      now = next.at;
      next.fn();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    now = end;
  }
  return { clock, advance };
}

/** A store double: `live` leases it would renew; `renewals` hang while `stall` is set. */
function storeDouble(work: Lease[]) {
  const s = {
    stall: false,
    claims: [] as ClaimRequest[],
    live: new Set<string>(),
    released: [] as string[],
    async claimWork(req: ClaimRequest): Promise<Lease[]> {
      s.claims.push(req);
      const taken = work.splice(0, req.limit).map((l) => ({ ...l, owner: req.owner, epoch: l.epoch + 1 }));
      for (const l of taken) s.live.add(l.id);
      return taken;
    },
    renewLeases(_owner: string, held: readonly LeaseFence[]): Promise<Lease[]> {
      if (s.stall) return new Promise(() => undefined);
      return Promise.resolve(held.filter((l) => s.live.has(l.id)).map((l) => ({ ...l, expiresAt: 0 })));
    },
    async releaseLeases(owner: string) {
      s.released.push(owner);
      return 0;
    },
  };
  return s;
}

const lease = (id: string): Lease => ({ kind: 'signature', id, owner: '', epoch: 0, expiresAt: 0 });
const TTL = 3_000;

function keeper(store: ReturnType<typeof storeDouble>, over: Partial<LeaseKeeperOptions> = {}) {
  const { clock, advance } = virtualClock();
  const claimed: string[] = [];
  const lost: string[] = [];
  const k = createLeaseKeeper({
    store,
    owner: 'me',
    ttlMs: TTL,
    clock,
    logger: pino({ level: 'silent' }),
    exclusive: false,
    onClaimed: (l) => claimed.push(l.id),
    onLost: (l) => lost.push(l.id),
    ...over,
  });
  return { k, advance, claimed, lost, clock };
}

describe('lease keeper', () => {
  test('a lease whose renewals stall is given up before the store could let another instance claim it', async () => {
    const store = storeDouble([lease('s1')]);
    let lostAt = -1;
    const { k, advance, lost, clock } = keeper(store, {
      onLost() {
        lostAt = clock.now();
      },
    });
    await k.claimNow();
    k.start();
    await advance(TTL); // renewed at 1000, 2000, 3000
    expect(lostAt).toBe(-1);
    expect(k.fence('signature', 's1')).toMatchObject({ epoch: 1 });
    const lastRenewalSent = clock.now();
    store.stall = true; // the database stops answering (a partition)
    await advance(2 * TTL);
    // The store's expiry is at least lastRenewalSent + TTL; we gave up no later than that.
    expect(lostAt).toBeGreaterThan(lastRenewalSent);
    expect(lostAt).toBeLessThanOrEqual(lastRenewalSent + TTL);
    expect(k.fence('signature', 's1')).toBeUndefined();
    expect(lost).toEqual([]);
    await k.close();
  });

  test('a lease the store no longer has as ours is lost at the next heartbeat', async () => {
    const store = storeDouble([lease('s1'), lease('s2')]);
    const { k, advance, claimed, lost } = keeper(store);
    await k.claimNow();
    expect(claimed).toEqual(['s1', 's2']);
    k.start();
    store.live.delete('s2'); // another instance claimed it
    await advance(TTL / 3);
    expect(lost).toEqual(['s2']);
    expect(k.fence('signature', 's1')).toMatchObject({ id: 's1', owner: 'me', epoch: 1 });
    await k.close();
  });

  test('a claim for work just accepted that another instance holds gives no fence', async () => {
    const store = storeDouble([]);
    const { k } = keeper(store);
    expect(await k.claim('signature', 'taken')).toBeUndefined();
    expect(store.claims[0]).toMatchObject({ target: { kind: 'signature', id: 'taken' }, limit: 1 });
  });

  test('exclusive: the first look takes live leases; later looks, and a shared keeper, only lapsed ones', async () => {
    const store = storeDouble([]);
    const exclusive = keeper(store, { exclusive: true });
    await exclusive.k.claimNow();
    await exclusive.k.claimNow();
    const shared = keeper(store);
    await shared.k.claimNow();
    expect(store.claims.map((c) => c.takeLive)).toEqual([true, false, false]);
  });

  test('an instance no party reaches looks for no work; close releases what it holds', async () => {
    const store = storeDouble([lease('s1')]);
    let parties = 0;
    const { k, claimed } = keeper(store, { canTakeWork: () => parties > 0 });
    await k.claimNow();
    expect(claimed).toEqual([]);
    parties = 1;
    await k.claimNow();
    expect(claimed).toEqual(['s1']);
    await k.close();
    expect(store.released).toEqual(['me']);
    expect(k.held).toBe(0);
  });
});
