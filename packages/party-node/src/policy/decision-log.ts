/**
 * The party's own record of every policy decision it made and every policy it activated or
 * refused: `decisions.log`, one hash-chained JSON event per line (protocol `nextAuditEvent`, the
 * chain of the share log and the coordinator's audit log), appended and fsync'd — so this share
 * holder can prove what it decided and why, releases and refusals alike.
 *
 * It is also the durable velocity state: an admitted request's decision carries the velocity
 * event it counted, and at start the log is read back into the velocity history, so no crash or
 * restart resets a window. The event is counted in memory the moment it is recorded (the same
 * turn as the decision), and the signing handler awaits it on disk before the share leaves.
 * Events older than the longest window a policy may set (31 days) are dropped from memory; the
 * file keeps everything.
 */
import { join } from 'node:path';
import {
  type AuditEvent,
  type ChainVerdict,
  nextAuditEvent,
  POLICY_LIMITS,
  type VelocityEvent,
  velocityEventSchema,
} from '@glacis/protocol';
import { readChainFile, verifyChainFile } from '../chain-file.js';
import { PartyError } from '../errors.js';
import { type DataSync, type DurableLog, openDurableLog, readJsonLines } from '../fs-atomic.js';
import type { DecisionRecord } from './decide.js';

export const DECISION_LOG_FILE = 'decisions.log';

/** Event types of the decision log. */
export type DecisionEventType = 'policy_decision' | 'policy_activated' | 'policy_refused';

/** A policy offer this party activated or refused. */
export interface PolicyEventData {
  version: number | null;
  digest: string | null;
  /** Administrators whose signatures verified (activated only). */
  signers?: string[];
  /** Why it was refused (refused only). */
  code?: string;
  message?: string;
}

export interface DecisionLog {
  /** Every velocity event counted in the last 31 days, as of `now`. */
  history(now: number): VelocityEvent[];
  /** The event this request (key, request id, intent digest) was counted with, if it was admitted before. */
  counted(keyId: string, requestId: string, intentDigest: string): VelocityEvent | undefined;
  /** Appends a decision; its velocity event counts from now on. Resolves once it is on disk. */
  recordDecision(d: DecisionRecord, at: Date): Promise<AuditEvent>;
  /** Appends a policy activation or refusal. Resolves once it is on disk. */
  recordPolicy(type: 'policy_activated' | 'policy_refused', data: PolicyEventData, at: Date): Promise<AuditEvent>;
  close(): Promise<void>;
}

const countKey = (keyId: string, requestId: string, intentDigest: string) => `${keyId}\u0000${requestId}\u0000${intentDigest}`;

/** Reads every event of a decision log (a torn last line from a crash is ignored, and reported). */
export function readDecisionLog(dataDir: string): { events: AuditEvent[]; tornTail: boolean } {
  return readChainFile(join(dataDir, DECISION_LOG_FILE));
}

/** Checks the chain of `dataDir`'s decision log. */
export function verifyDecisionLog(dataDir: string): ChainVerdict & { tornTail: boolean } {
  return verifyChainFile(join(dataDir, DECISION_LOG_FILE));
}

/**
 * Opens (creating) the decision log of `dataDir`, with the velocity history it holds as of `now`.
 * Appends are group-committed like the share log's (fs-atomic.ts `openDurableLog`); `sync` is how
 * they are made durable (tests hold it).
 */
export async function openDecisionLog(dataDir: string, now: number, opts: { sync?: DataSync } = {}): Promise<DecisionLog> {
  const path = join(dataDir, DECISION_LOG_FILE);
  // A torn last line is a decision a crash cut short: its share never left. Cut it off.
  const events = readJsonLines(path, { repair: true }).lines as AuditEvent[];
  const liveAt = (t: number, at: number) => t > at - POLICY_LIMITS.maxWindowSeconds * 1000;
  const live = (e: VelocityEvent, at: number) => liveAt(e.at, at);
  let history: VelocityEvent[] = [];
  // The oldest event held: a decision looks at the history every time, and scanning all of it
  // for expired events on each call was a measurable share of a party's CPU per signature
  // (docs/benchmarks.md profile). Nothing to drop unless the oldest one expired.
  let oldest = Number.POSITIVE_INFINITY;
  const byRequest = new Map<string, VelocityEvent>();
  const count = (d: Pick<DecisionRecord, 'keyId' | 'requestId' | 'intentDigest'>, e: VelocityEvent) => {
    history.push(e);
    oldest = Math.min(oldest, e.at);
    byRequest.set(countKey(d.keyId, d.requestId, d.intentDigest), e);
  };
  for (const [i, e] of events.entries()) {
    if (e.type !== 'policy_decision') continue;
    const d = e.data as Partial<DecisionRecord>;
    if (d.velocity === null || d.velocity === undefined) continue;
    const v = velocityEventSchema.safeParse(d.velocity);
    if (!v.success || typeof d.requestId !== 'string' || typeof d.intentDigest !== 'string' || typeof d.keyId !== 'string') {
      throw new PartyError('corrupt_file', `${path}: event ${i + 1} holds no readable velocity event; the file was damaged`);
    }
    if (live(v.data, now)) count({ keyId: d.keyId, requestId: d.requestId, intentDigest: d.intentDigest }, v.data);
  }
  let last = events.at(-1);
  const log: DurableLog = await openDurableLog(path, opts);

  function prune(at: number): void {
    if (history.length === 0 || liveAt(oldest, at)) return;
    history = history.filter((e) => live(e, at));
    oldest = history.reduce((m, e) => Math.min(m, e.at), Number.POSITIVE_INFINITY);
    for (const [k, e] of byRequest) if (!live(e, at)) byRequest.delete(k);
  }

  function append(type: DecisionEventType, data: unknown, at: Date): Promise<AuditEvent> {
    const e = nextAuditEvent(last, at.toISOString(), type, data);
    last = e;
    return log.append(JSON.stringify(e)).then(() => e);
  }

  return {
    history(at) {
      prune(at);
      return history;
    },
    counted: (keyId, requestId, intentDigest) => byRequest.get(countKey(keyId, requestId, intentDigest)),
    recordDecision(d, at) {
      // SECURITY: counted before anything is awaited, so a package handled next sees this event.
      if (d.velocity !== null) count(d, d.velocity);
      return append('policy_decision', d, at);
    },
    recordPolicy: (type, data, at) => append(type, data, at),
    close: () => log.close(),
  };
}
