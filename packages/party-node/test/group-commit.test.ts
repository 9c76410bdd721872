/**
 * Group commit of the party's durable logs (shares.log and decisions.log through openDurableLog,
 * approvals.log): appends made while an fsync is under way share the next one, and none is
 * reported durable before an fsync that covers its bytes has finished. And through a whole party
 * node: a share leaves only once every record it depends on — its release, the approvals it
 * counted, its policy decision with the velocity event — is on disk (DESIGN.md invariant 1). The
 * fsync is a seam the test holds open and releases by hand.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner, type Message, toHex, utf8 } from '@glacis/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { makeApprover } from '../../../test/support/approvals.js';
import { settledFlags } from '../../../test/support/settled-flags.js';
import { openDurableLog } from '../src/fs-atomic.js';
import { APPROVALS_FILE, openApprovalLedger } from '../src/policy/approval-ledger.js';
import { DECISION_LOG_FILE, openDecisionLog } from '../src/policy/decision-log.js';
import type { RecordSyncs } from '../src/records.js';
import { SHARE_LOG_FILE } from '../src/share-log/share-log.js';
import { decisionRecord, type Harness, only, rng, startHarness } from './harness.js';

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
/**
 * Waits until `cond` holds (bounded), then one settle more for anything that should NOT happen to
 * show itself. A fixed settle alone failed under load: the write and fsync run off the event loop.
 */
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 250 && !cond(); i++) await settle();
  await settle();
};

describe('group commit of the durable logs', () => {
  it('appends made while an fsync runs share the next fsync; none resolves before the fsync that covers it', async () => {
    const path = join(fresh(), 'shares.log');
    const { sync, calls } = heldSync(path);
    const log = await openDurableLog(path, { sync });
    const first = log.append('a');
    await until(() => calls.length >= 1);
    expect(calls).toHaveLength(1);
    const later = [log.append('b'), log.append('c'), log.append('d')];
    const done = settledFlags([first, ...later]);
    await settle();
    expect(done, 'nothing is durable while the first fsync is held').toEqual([false, false, false, false]);
    expect(calls, 'the later appends wait: no second write while an fsync runs').toHaveLength(1);

    calls[0]?.release();
    await until(() => done[0] === true && calls.length >= 2);
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
    await until(() => calls.length >= 1);
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
    await until(() => calls.length >= 1);
    expect(calls).toHaveLength(1);
    calls[0]?.release();
    await until(() => done[0] === true && calls.length >= 2);
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

  it('policy decisions recorded while an fsync runs share the next one; none resolves before it is on disk', async () => {
    const dir = fresh();
    const { sync, calls } = heldSync(join(dir, DECISION_LOG_FILE));
    const NOW = Date.parse('2030-01-01T00:00:00Z');
    const log = await openDecisionLog(dir, NOW, { sync });
    const recorded = ['r1', 'r2', 'r3'].map((r) => log.recordDecision(decisionRecord(r, NOW), new Date(NOW)));
    const done = settledFlags(recorded);
    await until(() => calls.length >= 1);
    expect(calls).toHaveLength(1);
    expect(log.history(NOW), 'counted at once, before anything is on disk').toHaveLength(3);
    calls[0]?.release();
    await until(() => done[0] === true && calls.length >= 2);
    expect(done, 'the first fsync covered the first decision only').toEqual([true, false, false]);
    expect(calls, 'the other two share the second fsync').toHaveLength(2);
    calls[1]?.release();
    await Promise.all(recorded);
    expect(readFileSync(join(dir, DECISION_LOG_FILE), 'utf8').trim().split('\n')).toHaveLength(3);
    await log.close();
  });
});

/**
 * An fsync that passes straight through until armed; once armed it waits until the test releases
 * it (every held call at once).
 */
function armableSync() {
  let armed = false;
  const held: (() => void)[] = [];
  const sync = (fh: FileHandle) =>
    armed ? new Promise<void>((resolve, reject) => void held.push(() => void fh.datasync().then(resolve, reject))) : fh.datasync();
  return {
    sync,
    held,
    arm: () => {
      armed = true;
    },
    release() {
      armed = false;
      for (const f of held.splice(0)) f();
    },
  };
}

describe('a share leaves only once every record it depends on is durable', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  const approver = makeApprover();
  const FILES: Record<keyof RecordSyncs, string> = { shares: SHARE_LOG_FILE, approvals: APPROVALS_FILE, decisions: DECISION_LOG_FILE };

  for (const [log, file] of Object.entries(FILES) as [keyof RecordSyncs, string][]) {
    it(`${file}: while its fsync is held the party sends no share; once it is released the share leaves`, async () => {
      const hold = armableSync();
      h = await startHarness({
        policy: { approvers: [approver.approverKey], requiredApprovals: 1 },
        syncs: { [log]: hold.sync },
      });
      const { sessionId, confirmations, peerShares } = await h.dkg('k1');
      h.deliver({ type: 'dkg_complete', sessionId, to: 'p1', body: { keyId: 'k1', confirmations } });
      const peer = createSigner(peerShares.get('p2') as NonNullable<ReturnType<typeof peerShares.get>>, rng);
      h.deliver({ type: 'commit_request', sessionId: 'c-r1', to: 'p1', body: { keyId: 'k1', count: 1 } });
      const [mine] = only(h.take(), 'commitments').commitments;
      const message = toHex(utf8('pay 1 BTC'));
      const approval = approver.approve({ keyId: 'k1', message, expiresAt: new Date(h.clock.clock.now() + 3_600_000).toISOString() });

      hold.arm();
      h.deliver({
        type: 'signing_package',
        sessionId: 's-r1-1',
        to: 'p1',
        body: {
          keyId: 'k1',
          requestId: 'r1',
          intent: { type: 'raw', message },
          approvals: [approval],
          commitments: [
            { partyId: 'p1', ...(mine as NonNullable<typeof mine>) },
            { partyId: 'p2', ...peer.commit() },
          ],
        },
      });
      const deadline = Date.now() + 5_000;
      while (hold.held.length === 0 && Date.now() < deadline) await settle();
      expect(hold.held.length, `the release appended to ${file} and asked for its fsync`).toBeGreaterThan(0);
      await settle();
      const early = h.take();
      expect(
        early.map((m: Message) => m.type),
        `no share while ${file} is not on disk`,
      ).toEqual([]);

      hold.release();
      const sent: Message[] = [];
      while (!sent.some((m) => m.type === 'signature_share') && Date.now() < deadline) {
        await settle();
        sent.push(...h.take());
      }
      expect(sent.map((m) => m.type)).toEqual(['signature_share']);
    });
  }
});
