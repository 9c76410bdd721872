/**
 * The party's own record of its key lifecycle: `lifecycle.log`, one hash-chained event per line
 * (the chain of shares.log, protocol `nextAuditEvent`), each on disk (fsync) when `record`
 * resolves. Events: `key_refreshed`, `key_reshared`, `key_retired`, `key_repaired`,
 * `repair_helped`, `reshare_dealt`, `lifecycle_aborted`, `successor_discarded`,
 * `successor_test_signed`, `drill_answered`. Public data only: key ids, sessions, generations,
 * package hashes, codes. `glacis-party audit verify` checks this chain beside the share log's.
 */
import { join } from 'node:path';
import { type AuditEvent, type ChainVerdict, nextAuditEvent, verifyAuditChain } from '@glacis/protocol';
import { openDurableLog, readJsonLines } from '../fs-atomic.js';

export const LIFECYCLE_LOG_FILE = 'lifecycle.log';

/** The lifecycle events a party records. */
export type LifecycleEventType =
  | 'key_refreshed'
  | 'key_reshared'
  | 'key_retired'
  | 'key_repaired'
  | 'repair_helped'
  | 'reshare_dealt'
  | 'lifecycle_aborted'
  | 'successor_discarded'
  | 'successor_test_signed'
  | 'drill_answered';

export interface LifecycleLog {
  /** Resolves once the event is on disk. */
  record(type: LifecycleEventType, data: Record<string, unknown>, at: Date): Promise<AuditEvent>;
  close(): Promise<void>;
}

/** Checks the chain of `dataDir`'s lifecycle log (a torn last line is reported, not counted). */
export function verifyLifecycleLog(dataDir: string): ChainVerdict & { tornTail: boolean } {
  const { lines, tornTail } = readJsonLines(join(dataDir, LIFECYCLE_LOG_FILE));
  return { ...verifyAuditChain(lines as AuditEvent[]), tornTail };
}

/** Opens (creating) `dataDir`'s lifecycle log; a torn last line from a crash is cut off. */
export async function openLifecycleLog(dataDir: string): Promise<LifecycleLog> {
  const path = join(dataDir, LIFECYCLE_LOG_FILE);
  let last = (readJsonLines(path, { repair: true }).lines as AuditEvent[]).at(-1);
  const log = await openDurableLog(path);
  return {
    record(type, data, at) {
      const e = nextAuditEvent(last, at.toISOString(), type, data);
      last = e;
      return log.append(JSON.stringify(e)).then(() => e);
    },
    close: () => log.close(),
  };
}
