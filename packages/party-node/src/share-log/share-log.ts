/**
 * The party's own record of every signature share it released, hash-chained and fsync'd:
 * `shares.log`, one JSON event per line. The event is written (and on disk) after the nonce was
 * consumed and before the share leaves the process, so it is also the durable record of nonce
 * consumption that DESIGN.md invariant 1 asks for. Nonces themselves live only in memory: a
 * restart, a backup restore or a disk snapshot can never bring one back.
 */
import { join } from 'node:path';
import { type AuditEvent, type ChainVerdict, type NonceCommitmentWire, nextAuditEvent } from '@glacis/protocol';
import { readChainFile, verifyChainFile } from '../chain-file.js';
import { type DataSync, type DurableLog, openDurableLog, readJsonLines } from '../fs-atomic.js';

export const SHARE_LOG_FILE = 'shares.log';

/** What is recorded for each released share. */
export interface ShareRelease {
  keyId: string;
  requestId: string;
  sessionId: string;
  /** The intent's type and hex `intentDigest`: what was signed, as the decision log names it. */
  intentType: string;
  intentDigest: string;
  /** Hex SHA-256 of each message signed (one per listed PSBT input; one for raw bytes). */
  messageDigests: string[];
  /** `messageDigests[0]`. */
  messageDigest: string;
  /** The approvals this release counted (their terms are in approvals.log). */
  approvals: { approverKey: string; nonce: string }[];
  /** The commitments whose nonces these shares consumed, one per message. */
  commitments: NonceCommitmentWire[];
  /** `commitments[0]`. */
  commitment: NonceCommitmentWire;
}

export interface ShareLog {
  /** Resolves once the event is on disk. */
  recordRelease(r: ShareRelease, at: Date): Promise<AuditEvent>;
  close(): Promise<void>;
}

/** Reads every event of a share log (a torn last line from a crash is ignored, and reported). */
export function readShareLog(dataDir: string): { events: AuditEvent[]; tornTail: boolean } {
  return readChainFile(join(dataDir, SHARE_LOG_FILE));
}

/** Checks the chain of `dataDir`'s share log. */
export function verifyShareLog(dataDir: string): ChainVerdict & { tornTail: boolean } {
  return verifyChainFile(join(dataDir, SHARE_LOG_FILE));
}

/** Opens (creating) the share log of `dataDir`; `sync` is how appends are made durable (tests hold it). */
export async function openShareLog(dataDir: string, opts: { sync?: DataSync } = {}): Promise<ShareLog> {
  const path = join(dataDir, SHARE_LOG_FILE);
  // A torn last line is an event a crash cut short, so its share was never sent: cut it off.
  const events = readJsonLines(path, { repair: true }).lines as AuditEvent[];
  let last = events.at(-1);
  const log: DurableLog = await openDurableLog(path, opts);
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
