/**
 * The browser's audit-chain check against the protocol's, on chains the protocol built
 * (nextAuditEvent, the coordinator's own constructor) from generated events: the same verdict on
 * the chain, and on every edit an attacker can make to a copy of it — an event's type, time or
 * data changed, one removed, two swapped, one rehashed without its successors.
 */
import { type AuditEvent, nextAuditEvent, verifyAuditChain as protocolVerify } from '@glacis/protocol';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CHAIN_START, checkAnchors, parseAnchor, verifyAuditChain } from '../src/audit-chain.js';
import { isConsoleError } from '../src/errors.js';

const subtle = globalThis.crypto.subtle;

const data = fc.dictionary(
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.oneof(fc.string({ unit: 'binary' }), fc.maxSafeInteger(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 })),
  { maxKeys: 5 },
);
const eventInputs = fc.array(
  fc.record({
    type: fc.constantFrom('key_requested', 'signature_completed', 'party_excluded', 'policy_refusal'),
    data,
    ms: fc.nat(10_000),
  }),
  { minLength: 1, maxLength: 12 },
);

function build(inputs: { type: string; data: unknown; ms: number }[]): AuditEvent[] {
  const events: AuditEvent[] = [];
  let at = Date.parse('2026-01-05T09:30:00.000Z');
  for (const i of inputs) {
    at += i.ms;
    events.push(nextAuditEvent(events.at(-1), new Date(at).toISOString(), i.type, i.data));
  }
  // As the browser receives it: JSON text, parsed.
  return JSON.parse(JSON.stringify(events));
}

async function same(events: AuditEvent[]): Promise<void> {
  expect(await verifyAuditChain(subtle, events)).toEqual(protocolVerify(events));
}

describe('the audit chain in the browser', () => {
  test('verifies what the protocol built, and agrees with it on every edit', async () => {
    await fc.assert(
      fc.asyncProperty(eventInputs, fc.nat(), async (inputs, pick) => {
        const events = build(inputs);
        expect((await verifyAuditChain(subtle, events)).ok).toBe(true);
        await same(events);
        const i = pick % events.length;
        const e = events[i] as AuditEvent;
        await same(events.map((x, j) => (j === i ? { ...e, type: `${e.type}_edited` } : x)));
        await same(events.map((x, j) => (j === i ? { ...e, data: { ...(e.data as object), injected: 1 } } : x)));
        await same(events.map((x, j) => (j === i ? { ...e, at: '2020-01-01T00:00:00.000Z' } : x)));
        await same(events.filter((_, j) => j !== i));
        if (i + 1 < events.length) await same(events.map((x, j) => (j === i ? (events[i + 1] as AuditEvent) : j === i + 1 ? e : x)));
      }),
      { numRuns: 150 },
    );
  });

  test('continues from a previous page’s head, and names the first broken event', async () => {
    const events = build(Array.from({ length: 6 }, (_, i) => ({ type: 'signature_completed', data: { i }, ms: 1 })));
    const first = await verifyAuditChain(subtle, events.slice(0, 3));
    expect(first).toMatchObject({ ok: true, headSeq: 3 });
    if (!first.ok) return;
    expect(await verifyAuditChain(subtle, events.slice(3), { seq: first.headSeq, hash: first.head })).toEqual(
      protocolVerify(events.slice(3), { seq: 3, hash: first.head }),
    );
    const edited = events.map((e) => (e.seq === 2 ? { ...e, type: 'nothing_to_see' } : e));
    expect(await verifyAuditChain(subtle, edited, CHAIN_START)).toMatchObject({ ok: false, brokenAt: 2 });
  });

  test('anchors: a recorded head must still be there, with its hash', async () => {
    const events = build(Array.from({ length: 4 }, (_, i) => ({ type: 't', data: { i }, ms: 1 })));
    const verdict = await verifyAuditChain(subtle, events);
    const hashAt = (seq: number) => events.find((e) => e.seq === seq)?.hash;
    const anchor = parseAnchor(`2:${events[1]?.hash}`);
    expect(checkAnchors(verdict, hashAt, [anchor])).toEqual(verdict);
    expect(checkAnchors(verdict, hashAt, [{ seq: 2, hash: 'ab'.repeat(32) }])).toMatchObject({ ok: false, brokenAt: 2 });
    expect(checkAnchors(verdict, hashAt, [{ seq: 9, hash: 'ab'.repeat(32) }])).toMatchObject({
      ok: false,
      brokenAt: 9,
      reason: 'the log ends at seq 4, before the anchor at 9',
    });
    for (const bad of ['', `0:${'ab'.repeat(32)}`, '2:AB', `2:${'ab'.repeat(31)}`, `x:${'ab'.repeat(32)}`]) {
      expect(() => parseAnchor(bad)).toThrow();
      try {
        parseAnchor(bad);
      } catch (e) {
        expect(isConsoleError(e, 'invalid_anchor')).toBe(true);
      }
    }
  });
});
