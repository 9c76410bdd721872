/**
 * Every DKG session this party ever started: `dkg-sessions.log`, one JSON line
 * `{"sessionId","keyId","at"}` each, on disk (fsync) before the session's round 1 leaves. A
 * restarted party's replay window is empty, so this record is what refuses a replayed `dkg_start`,
 * and what keeps a key id to the one session that first claimed it. One line per key the party
 * was ever asked to make: it is never pruned.
 */
import { join } from 'node:path';
import { sessionIdSchema } from '@glacis/protocol';
import { z } from 'zod';
import { PartyError } from '../errors.js';
import { appendLineSync, readJsonLines } from '../fs-atomic.js';

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
