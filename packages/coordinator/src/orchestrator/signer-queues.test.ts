/**
 * The signers' queues (signer-queues.ts): when a missing share is due, given what the party was
 * sent before it and how fast it has been answering.
 */
import { describe, expect, it } from 'vitest';
import { createSignerQueues } from './signer-queues.js';

const queues = () => createSignerQueues({ initialAllowanceMs: 100, minWaitMs: 250, retainMs: 5000 });

describe('signer queues', () => {
  it('a package with nothing ahead is due one wait after it was sent', () => {
    const q = queues();
    q.sent('p1', 'a', 0);
    expect(q.due('p1', 'a', 0)).toBe(250);
  });

  it('a package behind k others is due k allowances more; each answer ahead of it moves that on', () => {
    const q = queues();
    for (const k of ['a', 'b', 'c', 'd']) q.sent('p1', k, 0);
    // Nothing measured yet: 100 ms per package ahead.
    expect(q.due('p1', 'd', 10)).toBe(250 + 3 * 100);
    // The party answers a and b 40 ms apart (samples: 40 / 1 and 80 / 2 = 40 ms per package):
    // smoothed 40, deviation 3/4 · 20 (the first sample's half) + 1/4 · 0 = 15, allowance 40 + 4 · 15.
    q.answered('p1', 'a', 40, true);
    q.answered('p1', 'b', 80, true);
    expect(q.due('p1', 'd', 80)).toBe(80 + 250 + 1 * 100);
  });

  it('a party busy with other packages keeps a package due later than a fixed grace would', () => {
    const q = queues();
    for (let i = 0; i < 64; i++) q.sent('p1', `k${i}`, 0);
    // It answers one every 10 ms: the last one is never overdue while it does.
    for (let i = 0; i < 63; i++) {
      q.answered('p1', `k${i}`, 10 * (i + 1), true);
      expect(q.due('p1', 'k63', 10 * (i + 1))).toBeGreaterThan(10 * (i + 2));
    }
  });

  it('an answer to a package sent after this one is no progress towards it', () => {
    const q = queues();
    q.sent('p1', 'a', 0);
    q.sent('p1', 'b', 1);
    q.answered('p1', 'b', 200, false);
    // b's answer came; a is still due from when it was sent, with nothing left ahead of it.
    expect(q.due('p1', 'a', 200)).toBe(250);
  });

  it('what a party was sent goes with its connection', () => {
    const q = queues();
    q.sent('p1', 'a', 0);
    q.sent('p2', 'b', 0);
    q.dropParty('p1');
    expect(q.due('p1', 'a', 1)).toBeUndefined();
    expect(q.due('p2', 'b', 1)).toBe(250);
    expect(q.size).toBe(1);
  });

  it('a package unanswered for longer than retainMs stops counting: a silent party holds nothing up for good', () => {
    const q = queues();
    for (let i = 0; i < 100; i++) q.sent('p1', `old${i}`, i);
    q.sent('p1', 'new', 6000);
    // The old ones were sent more than 5 s before: forgotten, so nothing is ahead of the new one.
    expect(q.due('p1', 'new', 6000)).toBe(6250);
    expect(q.due('p1', 'old0', 6000)).toBeUndefined();
    expect(q.size).toBe(1);
  });

  it('a refusal moves the queue on without being taken for signing time; a package resent takes its new place', () => {
    const q = queues();
    q.sent('p1', 'a', 0);
    q.answered('p1', 'a', 3000, false);
    q.sent('p1', 'b', 3000);
    q.sent('p1', 'c', 3000);
    expect(q.due('p1', 'c', 3000)).toBe(3000 + 250 + 100); // still the initial allowance
    q.sent('p1', 'b', 3100); // b again (its party reconnected): now behind c
    expect(q.due('p1', 'b', 3100)).toBe(3100 + 250 + 100);
    expect(q.size).toBe(2);
  });
});
