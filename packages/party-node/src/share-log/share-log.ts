/**
 * The party's own record of every signature share it released, hash-chained and fsync'd:
 * `shares.log`, one JSON event per line. The event is written (and on disk) after the nonce was
 * consumed and before the share leaves the process, so it is also the durable record of nonce
 * consumption that DESIGN.md invariant 1 asks for. Nonces themselves live only in memory: a
 * restart, a backup restore or a disk snapshot can never bring one back.
 */
import { join } from 'node:path';
import { type AuditEvent, type ChainVerdict, type NonceCommitmentWire, nextAuditEvent, verifyAuditChain } from '@glacis/protocol';
import { type DurableLog, openDurableLog, readJsonLines } from '../fs-atomic.js';

export const SHARE_LOG_FILE = 'shares.log';

/** What is recorded for each released share. */
export interface ShareRelease {
  keyId: string;
  requestId: string;
  sessionId: string;
  /** Hex SHA-256 of the message signed. */
  messageDigest: string;
  /** The approvals this release counted (their terms are in approvals.log). */
  approvals: { approverKey: string; nonce: string }[];
  /** The commitment whose nonce this share consumed. */
  commitment: NonceCommitmentWire;
}

export interface ShareLog {
  /** Resolves once the event is on disk. */
  recordRelease(r: ShareRelease, at: Date): Promise<AuditEvent>;
  close(): Promise<void>;
}

/** Reads every event of a share log (a torn last line from a crash is ignored, and reported). */
export function readShareLog(dataDir: string): { events: AuditEvent[]; tornTail: boolean } {
  const { lines, tornTail } = readJsonLines(join(dataDir, SHARE_LOG_FILE));
  // The chain check (verifyShareLog) is what vouches for each event's shape.
  return { events: lines as AuditEvent[], tornTail };
}

/** Checks the chain of `dataDir`'s share log. */
export function verifyShareLog(dataDir: string): ChainVerdict & { tornTail: boolean } {
  const { events, tornTail } = readShareLog(dataDir);
  return { ...verifyAuditChain(events), tornTail };
}

export async function openShareLog(dataDir: string): Promise<ShareLog> {
  const path = join(dataDir, SHARE_LOG_FILE);
  // A torn last line is an event a crash cut short, so its share was never sent: cut it off.
  const events = readJsonLines(path, { repair: true }).lines as AuditEvent[];
  let last = events.at(-1);
  const log: DurableLog = await openDurableLog(path);
  return {
    async recordRelease(r, at) {
      const e = nextAuditEvent(last, at.toISOString(), 'share_released', r);
      last = e;
      await log.append(JSON.stringify(e));
      return e;
    },
    close: () => log.close(),
  };
}
