/**
 * The durable record of consumed nonces. Nonces themselves live only in memory (a restart forgets
 * every handed-out commitment, so none can be used again); this log records each consumption,
 * fsync'd, before the share that used it leaves the process — DESIGN.md invariant 1.
 */
import { join } from 'node:path';
import type { NonceCommitmentWire } from '@glacis/protocol';
import { type DurableLog, openDurableLog } from '../fs-atomic.js';

export interface NonceConsumption {
  keyId: string;
  requestId: string;
  sessionId: string;
  commitment: NonceCommitmentWire;
  at: string;
}

export interface NonceLog {
  /** Resolves once the record is on disk. */
  recordConsumed(c: NonceConsumption): Promise<void>;
  close(): Promise<void>;
}

export async function openNonceLog(dataDir: string): Promise<NonceLog> {
  const log: DurableLog = await openDurableLog(join(dataDir, 'nonces.log'));
  return {
    recordConsumed: (c) => log.append(JSON.stringify(c)),
    close: () => log.close(),
  };
}
