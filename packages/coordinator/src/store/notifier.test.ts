import { describe, expect, test } from 'vitest';
import { createNotifier } from './notifier.js';

describe('notifier', () => {
  test('wakes every waiter on the settled row only', async () => {
    const n = createNotifier();
    const a = n.wait('key', 'k1', 5_000, () => false);
    const b = n.wait('key', 'k1', 5_000, () => false);
    const other = n.wait('key', 'k2', 30, () => false);
    expect(n.waiting).toBe(3);
    n.settled('key', 'k1');
    expect(await Promise.all([a, b, other])).toEqual([true, true, false]);
    expect(n.waiting).toBe(0);
  });

  test('a settle between subscribe and check is not missed: the check runs after subscribing', async () => {
    const n = createNotifier();
    let settled = false;
    const w = n.wait('signature', 's', 5_000, () => {
      settled = true;
      return settled;
    });
    expect(await w).toBe(true);
    expect(await n.wait('signature', 'unknown', 5_000, () => undefined)).toBe(false);
  });

  test('zero ms, abort and close answer false without waiting', async () => {
    const n = createNotifier();
    expect(await n.wait('key', 'k', 0, () => false)).toBe(false);
    const ctrl = new AbortController();
    ctrl.abort();
    expect(await n.wait('key', 'k', 5_000, () => false, ctrl.signal)).toBe(false);
    const held = n.wait('key', 'k', 5_000, () => false);
    n.close();
    expect(await held).toBe(false);
    expect(await n.wait('key', 'k', 5_000, () => true)).toBe(true);
  });
});
