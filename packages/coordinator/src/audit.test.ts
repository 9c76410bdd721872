import { describe, expect, test } from 'vitest';
import { auditHash, GENESIS_HASH, normalizeAuditData, verifyAuditChain } from './audit.js';
import type { AuditEvent } from './store/types.js';

function chain(n: number): AuditEvent[] {
  const out: AuditEvent[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const e = { seq, at: `2026-01-01T00:00:0${seq}.000Z`, type: 'e', data: { seq }, prevHash };
    const hash = auditHash(e);
    out.push({ ...e, hash });
    prevHash = hash;
  }
  return out;
}

describe('verifyAuditChain', () => {
  test('accepts an intact chain and an empty one', () => {
    const events = chain(4);
    expect(verifyAuditChain(events)).toEqual({ ok: true, count: 4, lastHash: events[3]?.hash });
    expect(verifyAuditChain([])).toEqual({ ok: true, count: 0, lastHash: GENESIS_HASH });
  });

  test('verifies a later page from the previous page’s last hash', () => {
    const events = chain(5);
    const first = verifyAuditChain(events.slice(0, 2));
    expect(first.ok).toBe(true);
    if (first.ok) expect(verifyAuditChain(events.slice(2), first.lastHash).ok).toBe(true);
    expect(verifyAuditChain(events.slice(2))).toEqual({ ok: false, seq: 3, reason: 'prev_hash_mismatch' });
  });

  test('names the first broken event', () => {
    const edited = chain(4).map((e) => (e.seq === 2 ? { ...e, type: 'forged' } : e));
    expect(verifyAuditChain(edited)).toEqual({ ok: false, seq: 2, reason: 'hash_mismatch' });
    const gap = chain(4).filter((e) => e.seq !== 3);
    expect(verifyAuditChain(gap)).toEqual({ ok: false, seq: 4, reason: 'seq_gap' });
    const rehashed = chain(3).map((e) => (e.seq === 2 ? { ...e, data: { seq: 9 }, hash: auditHash({ ...e, data: { seq: 9 } }) } : e));
    expect(verifyAuditChain(rehashed)).toEqual({ ok: false, seq: 3, reason: 'prev_hash_mismatch' });
  });

  test('the hash does not depend on key order in data', () => {
    const base = { seq: 1, at: 'x', type: 't', prevHash: GENESIS_HASH };
    expect(auditHash({ ...base, data: { a: 1, b: 2 } })).toBe(auditHash({ ...base, data: { b: 2, a: 1 } }));
  });
});

describe('normalizeAuditData', () => {
  test('keeps JSON, stringifies what canonical JSON cannot hold, cuts deep nesting', () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    const out = normalizeAuditData({
      s: 'x',
      i: 3,
      f: 1.25,
      inf: Number.POSITIVE_INFINITY,
      b: new Uint8Array([1, 255]),
      list: [1, undefined],
      deep,
    });
    expect(out).toMatchObject({ s: 'x', i: 3, f: '1.25', inf: 'Infinity', b: '01ff', list: [1, null] });
    expect(JSON.stringify(out)).toContain('[nested too deeply]');
  });
});
