/** The party's durable records: what survives a restart, what a crash leaves, what gets pruned. */
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDkgSessionRecord } from '../src/dkg/session-record.js';
import { APPROVALS_FILE, type ApprovalUse, openApprovalLedger } from '../src/policy/approval-ledger.js';
import { DECISION_LOG_FILE, openDecisionLog, verifyDecisionLog } from '../src/policy/decision-log.js';
import { decisionRecord } from './harness.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'glacis-records-'));
const NOW = Date.parse('2030-01-01T00:00:00Z');
const use = (nonce: string, expiresInMs: number, requestId = 'r1'): ApprovalUse => ({
  approverKey: 'ab'.repeat(32),
  nonce: nonce.repeat(16),
  digest: 'cd'.repeat(32),
  expiresAt: new Date(NOW + expiresInMs).toISOString(),
  keyId: 'k1',
  requestId,
});

describe('the record of approvals counted', () => {
  it('is on disk when record() resolves, and read back after a restart', async () => {
    const dir = fresh();
    const ledger = await openApprovalLedger(dir, { now: () => NOW });
    await ledger.record([use('01', 60_000)]);
    expect(readFileSync(join(dir, APPROVALS_FILE), 'utf8')).toContain('01'.repeat(16));
    await ledger.close();
    const again = await openApprovalLedger(dir, { now: () => NOW });
    expect(again.priorUse('ab'.repeat(32), '01'.repeat(16))).toEqual({ keyId: 'k1', requestId: 'r1', digest: 'cd'.repeat(32) });
    await again.close();
  });

  it('sees a use at once, before it is on disk: a concurrent package cannot count the same approval', async () => {
    const ledger = await openApprovalLedger(fresh(), { now: () => NOW });
    const durable = ledger.record([use('02', 60_000)]);
    expect(ledger.priorUse('ab'.repeat(32), '02'.repeat(16))?.requestId).toBe('r1');
    await durable;
    await ledger.close();
  });

  it('keeps the first request an approval was counted for', async () => {
    const ledger = await openApprovalLedger(fresh(), { now: () => NOW });
    await ledger.record([use('03', 60_000, 'r1')]);
    await ledger.record([use('03', 60_000, 'r2')]);
    expect(ledger.priorUse('ab'.repeat(32), '03'.repeat(16))?.requestId).toBe('r1');
    await ledger.close();
  });

  it('drops entries once expired (plus the slack for a clock set back), at open and as it grows', async () => {
    const dir = fresh();
    let now = NOW;
    const ledger = await openApprovalLedger(dir, { now: () => now, retainMs: 1000, compactEvery: 3 });
    await ledger.record([use('04', 10_000), use('05', 100_000)]);
    now = NOW + 11_001; // 04 expired more than retainMs ago
    await ledger.record([use('06', 100_000)]); // the third append: rewritten without 04
    const text = readFileSync(join(dir, APPROVALS_FILE), 'utf8');
    expect(text).not.toContain('04'.repeat(16));
    expect(text).toContain('05'.repeat(16));
    expect(ledger.priorUse('ab'.repeat(32), '04'.repeat(16))).toBeUndefined();
    await ledger.close();
    now = NOW + 200_000;
    const later = await openApprovalLedger(dir, { now: () => now, retainMs: 1000 });
    expect(readFileSync(join(dir, APPROVALS_FILE), 'utf8')).toBe('');
    await later.close();
  });

  it('a torn last line (a crash mid-append: that share never left) is dropped', async () => {
    const dir = fresh();
    const ledger = await openApprovalLedger(dir, { now: () => NOW });
    await ledger.record([use('07', 60_000)]);
    await ledger.close();
    appendFileSync(join(dir, APPROVALS_FILE), '{"approverKey":"ab');
    const again = await openApprovalLedger(dir, { now: () => NOW });
    await again.record([use('08', 60_000)]);
    await again.close();
    const lines = readFileSync(join(dir, APPROVALS_FILE), 'utf8').split('\n').filter(Boolean);
    expect(lines.map((l) => JSON.parse(l).nonce)).toEqual(['07'.repeat(16), '08'.repeat(16)]);
  });
});

describe('the record of DKG sessions started', () => {
  it('remembers every session and the first session of each key across restarts', () => {
    const dir = fresh();
    const r = openDkgSessionRecord(dir);
    r.recordStart('dkg-k1', 'k1', new Date(NOW));
    const again = openDkgSessionRecord(dir);
    expect(again.hasStarted('dkg-k1')).toBe(true);
    expect(again.hasStarted('dkg-k2')).toBe(false);
    expect(again.sessionFor('k1')).toBe('dkg-k1');
  });

  it('a torn last line is a start that never happened: cut off, and the next start is a line of its own', () => {
    const dir = fresh();
    openDkgSessionRecord(dir).recordStart('dkg-k1', 'k1', new Date(NOW));
    appendFileSync(join(dir, 'dkg-sessions.log'), '{"sessionId":"dkg-k2","ke');
    const r = openDkgSessionRecord(dir);
    expect(r.hasStarted('dkg-k2')).toBe(false);
    r.recordStart('dkg-k3', 'k3', new Date(NOW));
    expect(openDkgSessionRecord(dir).hasStarted('dkg-k3')).toBe(true);
  });
});

describe('the decision log', () => {
  it('is the velocity history: what it counted comes back after a restart, a torn last line does not, old events drop out', async () => {
    const dir = fresh();
    const log = await openDecisionLog(dir, NOW);
    await log.recordDecision(decisionRecord('r-old', NOW - 32 * 86_400_000), new Date(NOW));
    await log.recordDecision(decisionRecord('r1', NOW), new Date(NOW));
    await log.recordDecision(decisionRecord('r-denied', NOW, false), new Date(NOW));
    await log.close();
    appendFileSync(join(dir, DECISION_LOG_FILE), '{"seq":4,"torn'); // a crash mid-append
    const again = await openDecisionLog(dir, NOW);
    expect(again.history(NOW).map((e) => e.at)).toEqual([NOW]);
    expect(again.counted('k1', 'r1', 'ab'.repeat(32))).toEqual({ at: NOW, keyId: 'k1', intentType: 'raw', amount: '0' });
    expect(again.counted('k1', 'r-denied', 'ab'.repeat(32))).toBeUndefined();
    await again.recordDecision(decisionRecord('r2', NOW + 1), new Date(NOW + 1));
    await again.close();
    expect(verifyDecisionLog(dir)).toMatchObject({ ok: true, events: 4, tornTail: false });
  });

  it('drops an event from the history once it is older than the longest window, whatever order it was counted in', async () => {
    const log = await openDecisionLog(fresh(), NOW);
    const DAY = 86_400_000;
    await log.recordDecision(decisionRecord('r-young', NOW), new Date(NOW));
    await log.recordDecision(decisionRecord('r-old', NOW - 20 * DAY), new Date(NOW)); // counted after a younger one
    expect(log.history(NOW).map((e) => e.at)).toEqual([NOW, NOW - 20 * DAY]);
    // Twelve days on, the old one is 32 days old: out of every window; the young one stays.
    expect(log.history(NOW + 12 * DAY).map((e) => e.at)).toEqual([NOW]);
    expect(log.counted('k1', 'r-old', 'ab'.repeat(32))).toBeUndefined();
    expect(log.history(NOW + 32 * DAY)).toEqual([]);
    await log.recordDecision(decisionRecord('r-late', NOW + 32 * DAY), new Date(NOW + 32 * DAY));
    expect(log.history(NOW + 32 * DAY).map((e) => e.at)).toEqual([NOW + 32 * DAY]);
    await log.close();
  });

  it('counts a decision the moment it is recorded, before it is on disk', async () => {
    const log = await openDecisionLog(fresh(), NOW);
    const durable = log.recordDecision(decisionRecord('r1', NOW), new Date(NOW));
    expect(log.history(NOW)).toHaveLength(1);
    await durable;
    await log.close();
  });
});
