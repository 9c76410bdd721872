/**
 * Every DKG session this party ever started: `dkg-sessions.log`, one JSON line
 * `{"sessionId","keyId","at"}` each, on disk (fsync) before the session's round 1 leaves. A
 * restarted party's replay window is empty, so this record is what refuses a replayed `dkg_start`,
 * and what keeps a key id to the one session that first claimed it. One line per key the party
 * was ever asked to make: it is never pruned.
 */
import { join } from 'node:path';
import { type Envelope, ProtocolError, sessionIdSchema, verifyDkgCertificate } from '@glacis/protocol';
import { z } from 'zod';
import { PartyError } from '../errors.js';
import { appendLineSync, readJsonLines } from '../fs-atomic.js';
import type { Keystore, StoredShare } from '../keystore/keystore.js';

export const DKG_SESSIONS_FILE = 'dkg-sessions.log';

const entrySchema = z.strictObject({ sessionId: sessionIdSchema, keyId: sessionIdSchema, at: z.string() });

export interface DkgSessionRecord {
  /** True when a DKG session of this id was started here before (in any life of the process). */
  hasStarted(sessionId: string): boolean;
  /** The session that started a DKG for `keyId` here, if one did. */
  sessionFor(keyId: string): string | undefined;
  /** Records a start; on disk when this returns. */
  recordStart(sessionId: string, keyId: string, at: Date): void;
}

/**
 * Opens `dataDir`'s record (a torn last line, from a crash mid-write, is cut: that start never
 * happened). `file` names another record of the same form (the lifecycle sessions').
 */
export function openDkgSessionRecord(dataDir: string, file: string = DKG_SESSIONS_FILE): DkgSessionRecord {
  const path = join(dataDir, file);
  const sessions = new Set<string>();
  const byKey = new Map<string, string>();
  const { lines } = readJsonLines(path, { repair: true });
  for (const [i, line] of lines.entries()) {
    const e = entrySchema.safeParse(line);
    if (!e.success) throw new PartyError('corrupt_file', `${path}: line ${i + 1} is not a session record; restore the file or its party`);
    sessions.add(e.data.sessionId);
    if (!byKey.has(e.data.keyId)) byKey.set(e.data.keyId, e.data.sessionId);
  }
  return {
    hasStarted: (sessionId) => sessions.has(sessionId),
    sessionFor: (keyId) => byKey.get(keyId),
    recordStart(sessionId, keyId, at) {
      appendLineSync(path, JSON.stringify({ sessionId, keyId, at: at.toISOString() }));
      sessions.add(sessionId);
      if (!byKey.has(keyId)) byKey.set(keyId, sessionId);
    },
  };
}

/**
 * Throws unless a `dkg_start` of `sessionId` for `keyId` may begin here: the session is new
 * (`replayed_message`: a start is never replayed, in this life or an earlier one), and the key id
 * belongs to no other session (`liveOwner`, or the record) and no stored share (`dkg_key_reserved`).
 */
export function assertDkgStartFree(
  record: DkgSessionRecord,
  keystore: Pick<Keystore, 'get'>,
  sessionId: string,
  keyId: string,
  liveOwner?: string,
): void {
  if (record.hasStarted(sessionId))
    throw new ProtocolError('replayed_message', `DKG session ${sessionId} was already started here; a dkg_start is never replayed`);
  const owner = liveOwner ?? record.sessionFor(keyId);
  if (owner !== undefined)
    throw new ProtocolError('dkg_key_reserved', `key ${keyId} belongs to DKG session ${owner} here; refusing a second session for it`);
  if (keystore.get(keyId))
    throw new ProtocolError('dkg_key_reserved', `a share of key ${keyId} is already stored here; it is never replaced`);
}

/**
 * A DKG reported failed: the pending share it made here is marked failed (kept, never signs; a
 * valid certificate still activates it). Only the session that made the share can fail it.
 */
export function failPendingShare(record: DkgSessionRecord, keystore: Keystore, sessionId: string, keyId: string): boolean {
  if (record.sessionFor(keyId) !== sessionId) return false;
  return keystore.get(keyId)?.status === 'pending' && keystore.markFailed(keyId);
}

/**
 * Activates the stored share of `keyId` on a certificate this party checks itself: every member's
 * signed confirmation, for the key this party derived. Throws a ProtocolError otherwise.
 */
export function activateCertified(
  keystore: Keystore,
  keyOf: (partyId: string) => Uint8Array | undefined,
  keyId: string,
  confirmations: Envelope[],
): StoredShare {
  const stored = keystore.get(keyId);
  if (!stored) throw new ProtocolError('dkg_confirmation_mismatch', `a certificate for key ${keyId}, of which this party holds no share`);
  const pub = stored.share.public;
  const certified = verifyDkgCertificate(confirmations, {
    keyId,
    suite: pub.suite,
    threshold: pub.threshold,
    committee: pub.committee,
    keyOf,
  });
  if (certified.publicKey !== pub.publicKey || certified.groupCommitment.join() !== pub.groupCommitment.join()) {
    throw new ProtocolError('dkg_confirmation_mismatch', 'certified key differs from the key this party derived');
  }
  return stored.status === 'active' ? stored : keystore.activate(keyId, confirmations);
}
