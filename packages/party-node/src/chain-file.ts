/**
 * A party's hash-chained JSON-lines files (`shares.log`, `decisions.log`): read back, and their
 * chain checked with the protocol's one checker (`verifyAuditChain`). A torn last line from a
 * crash is not an event; it is reported, not counted.
 */
import { type AuditEvent, type ChainVerdict, verifyAuditChain } from '@glacis/protocol';
import { readJsonLines } from './fs-atomic.js';

/** Every event of the chain file at `path` (a torn last line is ignored, and reported). */
export function readChainFile(path: string): { events: AuditEvent[]; tornTail: boolean } {
  const { lines, tornTail } = readJsonLines(path);
  // The chain check is what vouches for each event's shape.
  return { events: lines as AuditEvent[], tornTail };
}

/** Checks the chain of the file at `path`. */
export function verifyChainFile(path: string): ChainVerdict & { tornTail: boolean } {
  const { events, tornTail } = readChainFile(path);
  return { ...verifyAuditChain(events), tornTail };
}
