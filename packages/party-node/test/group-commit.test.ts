/**
 * Group commit of the party's durable logs (shares.log through openDurableLog, approvals.log):
 * releases made while an fsync is under way share the next one, and none is reported durable
 * before an fsync that covers its bytes has finished (DESIGN.md invariant 1). The fsync is a seam
 * the test holds open and releases by hand.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settledFlags } from '../../../test/support/settled-flags.js';
import { openDurableLog } from '../src/fs-atomic.js';
import { APPROVALS_FILE, openApprovalLedger } from '../src/policy/approval-ledger.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'glacis-group-commit-'));

/** An fsync that waits until the test releases it; records what was in the file when it began. */
function heldSync(path: string) {
  const calls: { fileAtStart: string; release: () => void; fail: (e: Error) => void }[] = [];
  const sync = (fh: FileHandle) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ fileAtStart: readFileSync(path, 'utf8'), release: () => void fh.datasync().then(resolve, reject), fail: reject });
    });
  return { sync, calls };
}

/** Lets pending promise callbacks and file writes run. */
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('group commit of the durable logs', () => {
  it('appends made while an fsync runs share the next fsync; none resolves before the fsync that covers it', async () => {
    const path = join(fresh(), 'shares.log');
    const { sync, calls } = heldSync(path);
    const log = await openDurableLog(path, { sync });
    const first = log.append('a');
    await settle();
    expect(calls).toHaveLength(1);
    const later = [log.append('b'), log.append('c'), log.append('d')];
    const done = settledFlags([first, ...later]);
    await settle();
    expect(done, 'nothing is durable while the first fsync is held').toEqual([false, false, false, false]);
    expect(calls, 'the later appends wait: no second write while an fsync runs').toHaveLength(1);

    calls[0]?.release();
    await settle();
    expect(done, 'the first fsync covered only the first append').toEqual([true, false, false, false]);
    expect(calls, 'the three waiting appends went out in one write and one fsync').toHaveLength(2);
    expect(calls[1]?.fileAtStart).toBe('a\nb\nc\nd\n');

    calls[1]?.release();
    await Promise.all(later);
    expect(calls).toHaveLength(2);
    expect(readFileSync(path, 'utf8')).toBe('a\nb\nc\nd\n');
    await log.close();
  });

  it('a failed fsync fails its whole batch and every append after it: nothing is reported durable again', async () => {
    const path = join(fresh(), 'shares.log');
    const { sync, calls } = heldSync(path);
    const log = await openDurableLog(path, { sync });
    const first = log.append('a');
    await settle();
    const second = log.append('b');
    calls[0]?.fail(new Error('EIO'));
    await expect(first).rejects.toThrow('EIO');
    await expect(second).rejects.toThrow('EIO');
    await expect(log.append('c')).rejects.toThrow('EIO');
    expect(calls, 'no write after the failure').toHaveLength(1);
    await log.close();
  });

  it('approvals counted while an fsync runs share the next one, and each is on disk before record() resolves', async () => {
    const dir = fresh();
    const path = join(dir, APPROVALS_FILE);
    const { sync, calls } = heldSync(path);
    const NOW = Date.parse('2030-01-01T00:00:00Z');
    const ledger = await openApprovalLedger(dir, { now: () => NOW, sync });
    const use = (nonce: string) => ({
      approverKey: 'ab'.repeat(32),
      nonce: nonce.repeat(16),
      digest: 'cd'.repeat(32),
      expiresAt: new Date(NOW + 60_000).toISOString(),
      keyId: 'k1',
      requestId: `r${nonce}`,
    });
    const records = ['01', '02', '03'].map((n) => ledger.record([use(n)]));
    const done = settledFlags(records);
    await settle();
    expect(calls).toHaveLength(1);
    calls[0]?.release();
    await settle();
    expect(done).toEqual([true, false, false]);
    expect(calls).toHaveLength(2);
    // A package that counted nothing new still waits for what is being written.
    const nothingNew = ledger.record([use('02')]);
    const waited = settledFlags([nothingNew]);
    await settle();
    expect(waited).toEqual([false]);
    calls[1]?.release();
    await Promise.all([...records, nothingNew]);
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(3);
    await ledger.close();
  });
});
