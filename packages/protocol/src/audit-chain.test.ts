import { describe, expect, test } from 'vitest';
import {
  type AuditEvent,
  auditEventHash,
  CHAIN_START,
  GENESIS_HASH,
  nextAuditEvent,
  verifyAuditChain,
  verifyAuditPages,
} from './audit-chain.js';

function chain(n: number): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (let i = 1; i <= n; i++) out.push(nextAuditEvent(out.at(-1), `2026-01-01T00:00:0${i}.000Z`, 'e', { i }));
  return out;
}
const at = (events: AuditEvent[], i: number) => events[i] as AuditEvent;

describe('verifyAuditChain', () => {
  test('accepts an intact chain and an empty one, and reports the head', () => {
    const events = chain(4);
    expect(verifyAuditChain(events)).toEqual({ ok: true, events: 4, head: at(events, 3).hash, headSeq: 4 });
    expect(verifyAuditChain([])).toEqual({ ok: true, events: 0, head: GENESIS_HASH, headSeq: 0 });
  });

  test('verifies a log page by page, each page from the previous head', () => {
    const events = chain(5);
    const first = verifyAuditChain(events.slice(0, 2));
    if (!first.ok) throw new Error('first page');
    const second = verifyAuditChain(events.slice(2), { seq: first.headSeq, hash: first.head });
    expect(second).toEqual({ ok: true, events: 3, head: at(events, 4).hash, headSeq: 5 });
    // A page with no next event keeps the head it was given.
    expect(verifyAuditChain([], { seq: 5, hash: at(events, 4).hash })).toMatchObject({ ok: true, headSeq: 5 });
  });

  test('a page that does not continue the verified head is refused', () => {
    const events = chain(5);
    expect(verifyAuditChain(events.slice(2))).toMatchObject({ ok: false, brokenAt: 3 });
    // The right seq but another chain's hash: an attacker replaced everything after seq 2.
    const forked = chain(5);
    expect(verifyAuditChain(events.slice(2), { seq: 2, hash: at(forked, 0).hash })).toMatchObject({
      ok: false,
      brokenAt: 3,
      reason: 'prevHash does not match the previous event',
    });
  });

  test('names the first broken event: edited, missing, or edited and rehashed', () => {
    const edited = chain(4).map((e) => (e.seq === 2 ? { ...e, type: 'forged' } : e));
    expect(verifyAuditChain(edited)).toMatchObject({ ok: false, events: 2, brokenAt: 2, reason: expect.stringContaining('edited') });
    const gap = chain(4).filter((e) => e.seq !== 3);
    expect(verifyAuditChain(gap)).toMatchObject({ ok: false, brokenAt: 4, reason: expect.stringContaining('missing') });
    const rehashed = chain(3).map((e) => {
      if (e.seq !== 2) return e;
      const forged = { ...e, data: { i: 9 } };
      return { ...forged, hash: auditEventHash(forged) };
    });
    expect(verifyAuditChain(rehashed)).toMatchObject({ ok: false, brokenAt: 3, reason: 'prevHash does not match the previous event' });
  });

  test('the hash does not depend on key order in data', () => {
    const base = { seq: 1, at: 'x', type: 't', prevHash: GENESIS_HASH };
    expect(auditEventHash({ ...base, data: { a: 1, b: 2 } })).toBe(auditEventHash({ ...base, data: { b: 2, a: 1 } }));
  });

  test('nextAuditEvent continues from a chain point', () => {
    expect(nextAuditEvent(undefined, 'x', 't', null)).toMatchObject({ seq: 1, prevHash: GENESIS_HASH });
    expect(nextAuditEvent(CHAIN_START, 'x', 't', null)).toMatchObject({ seq: 1, prevHash: GENESIS_HASH });
    expect(nextAuditEvent({ seq: 7, hash: 'ab'.repeat(32) }, 'x', 't', null)).toMatchObject({ seq: 8, prevHash: 'ab'.repeat(32) });
  });
});

describe('verifyAuditPages', () => {
  async function* pages(events: AuditEvent[], size: number) {
    for (let i = 0; i < events.length; i += size) yield events.slice(i, i + size);
  }

  test('a log read in pages verifies like the whole log', async () => {
    const events = chain(7);
    expect(await verifyAuditPages(pages(events, 3))).toEqual(verifyAuditChain(events));
    expect(await verifyAuditPages(pages([], 3))).toEqual({ ok: true, events: 0, head: GENESIS_HASH, headSeq: 0 });
  });

  test('a break in a later page is named by its seq and counted from the start', async () => {
    const events = chain(7).map((e) => (e.seq === 5 ? { ...e, at: 'later' } : e));
    expect(await verifyAuditPages(pages(events, 2))).toMatchObject({ ok: false, events: 5, brokenAt: 5 });
    const dropped = chain(7).filter((e) => e.seq !== 4);
    expect(await verifyAuditPages(pages(dropped, 3))).toMatchObject({ ok: false, brokenAt: 5 });
  });
});
