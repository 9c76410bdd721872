/**
 * A party's durable records besides its keystore, opened together: the share log (every share
 * released, hash-chained), the approvals it counted, its decision log (every policy decision and
 * activation, hash-chained, and with it the velocity history), the DKG and lifecycle sessions it
 * started, and its lifecycle log (hash-chained).
 */
import { type DkgSessionRecord, openDkgSessionRecord } from './dkg/session-record.js';
import type { DataSync } from './fs-atomic.js';
import { LIFECYCLE_CONFIRMED_FILE, LIFECYCLE_SESSIONS_FILE } from './lifecycle/lifecycle-handler.js';
import { type LifecycleLog, openLifecycleLog } from './lifecycle/lifecycle-log.js';
import { type ApprovalLedger, openApprovalLedger } from './policy/approval-ledger.js';
import { type DecisionLog, openDecisionLog } from './policy/decision-log.js';
import { type Clock, realClock } from './ports.js';
import { openShareLog, type ShareLog } from './share-log/share-log.js';

export interface PartyRecords {
  shareLog: ShareLog;
  approvals: ApprovalLedger;
  decisions: DecisionLog;
  dkgSessions: DkgSessionRecord;
  /** Every refresh, repair and reshare session started here (same form as the DKG's). */
  lifecycleSessions: DkgSessionRecord;
  /** The sessions whose successor this party confirmed (it never abandons one of them). */
  lifecycleConfirmed: DkgSessionRecord;
  lifecycleLog: LifecycleLog;
  close(): Promise<void>;
}

/** How each log a share depends on is made durable (default fdatasync); tests hold one to watch a release wait. */
export interface RecordSyncs {
  shares?: DataSync;
  approvals?: DataSync;
  decisions?: DataSync;
}

const withSync = (sync: DataSync | undefined) => (sync ? { sync } : {});

/** Opens the records of `dataDir` (repairing what a crash cut short). */
export async function openPartyRecords(dataDir: string, clock: Clock = realClock, syncs: RecordSyncs = {}): Promise<PartyRecords> {
  const dkgSessions = openDkgSessionRecord(dataDir);
  const approvals = await openApprovalLedger(dataDir, { now: clock.now, ...withSync(syncs.approvals) });
  const shareLog = await openShareLog(dataDir, withSync(syncs.shares));
  const lifecycleSessions = openDkgSessionRecord(dataDir, LIFECYCLE_SESSIONS_FILE);
  const lifecycleConfirmed = openDkgSessionRecord(dataDir, LIFECYCLE_CONFIRMED_FILE);
  const lifecycleLog = await openLifecycleLog(dataDir);
  const decisions = await openDecisionLog(dataDir, clock.now(), withSync(syncs.decisions));
  return {
    shareLog,
    approvals,
    decisions,
    dkgSessions,
    lifecycleSessions,
    lifecycleConfirmed,
    lifecycleLog,
    async close() {
      await Promise.all([shareLog.close(), approvals.close(), decisions.close(), lifecycleLog.close()]);
    },
  };
}
