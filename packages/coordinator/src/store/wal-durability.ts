/**
 * Group commit for the SQLite store. A commit under `synchronous = FULL` fsyncs the WAL inside
 * better-sqlite3's synchronous call: the event loop stands still for every fsync, and a disk whose
 * fsync takes milliseconds caps the coordinator at one transaction per fsync. Instead the store
 * commits with `synchronous = NORMAL` (in WAL mode: the WAL is written at commit, fsync'd only at
 * checkpoints; SQLite's own guarantee is then consistency, not durability) and makes commits
 * durable itself: after each transaction it waits for an fdatasync of the WAL file, off the event
 * loop (libuv's thread pool), and transactions committed while one runs share the next
 * (protocol `createGroupCommit`). fsync is per file, whichever descriptor asks, so one that began
 * after a commit covers that commit's frames. A write is acknowledged — and a settlement
 * announced — only then (DESIGN.md invariant 3), and a read first waits until everything
 * committed before it is durable, so no answer ever shows a state a power cut could take back.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { createGroupCommit } from '@glacis/protocol';

/** How the WAL is made durable; tests pass one they hold or fail. */
export type WalSync = (wal: FileHandle) => Promise<void>;

export interface WalDurability {
  /** After a transaction: resolves once a WAL fsync that began after it has finished. */
  committed(): Promise<void>;
  /** Before a read: resolves once everything committed so far is durable (at once if it is). */
  visible(): Promise<void>;
  close(): Promise<void>;
}

/** No durability to wait for: an in-memory database. */
const NONE: WalDurability = { committed: async () => undefined, visible: async () => undefined, close: async () => undefined };

/** Durability of the WAL beside `dbPath` (`<dbPath>-wal`, which SQLite keeps while it is open). */
export function createWalDurability(dbPath: string, sync: WalSync = (wal) => wal.datasync()): WalDurability {
  if (dbPath === ':memory:') return NONE;
  let wal: FileHandle | undefined;
  let commits = 0; // transactions committed so far
  let durable = 0; // of which covered by a finished fsync
  const group = createGroupCommit<number>(async () => {
    // Every commit so far is in the WAL already (better-sqlite3 wrote it synchronously).
    const upTo = commits;
    wal ??= await open(`${dbPath}-wal`, 'r+');
    await sync(wal);
    durable = Math.max(durable, upTo);
  });
  return {
    committed() {
      commits++;
      return group.submit(commits);
    },
    visible() {
      return durable >= commits ? Promise.resolve() : group.submit(commits);
    },
    async close() {
      await group.drain().catch(() => undefined);
      await wal?.close();
    },
  };
}
