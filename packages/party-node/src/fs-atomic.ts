/**
 * Durable file writes. A write is temp file → fsync → rename (or link) → fsync of the directory,
 * so after a crash the file holds either the old or the new content, never a torn mix.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createGroupCommit } from '@glacis/protocol';
import { PartyError } from './errors.js';

const TEMP_MARK = '.tmp-';

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `data` to a new temp file beside `path`, on disk (fsync) when this returns. */
function writeTemp(path: string, data: Uint8Array | string): string {
  const tmp = `${path}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** Atomically replaces `path` with `data` (mode 0600: party files are private). */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  renameSync(writeTemp(path, data), path);
  fsyncDir(dirname(path));
}

/**
 * Creates `path` with `data`, atomically and only if no file of that name exists: false (and
 * nothing changed) if one does. link(2) fails with EEXIST instead of replacing, so an existing
 * file is never overwritten even by a racing writer, and the name only ever appears complete.
 * A crash can leave a temp file behind, never a partial `path` (`removeTempFiles` sweeps them).
 */
export function createFileExclusive(path: string, data: Uint8Array | string): boolean {
  const tmp = writeTemp(path, data);
  try {
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
  fsyncDir(dirname(path));
  return true;
}

/** Overwrites the open file `fd` with zeros over its whole length and makes that durable. */
function zeroFill(fd: number): void {
  const { size } = fstatSync(fd);
  const zeros = Buffer.alloc(Math.min(size, 1 << 16));
  for (let at = 0; at < size; at += zeros.length) writeSync(fd, zeros, 0, Math.min(zeros.length, size - at), at);
  fsyncSync(fd);
}

/**
 * Atomically replaces `path` with `data` like `writeFileAtomic`, then overwrites the old file's
 * bytes with zeros before they are released: the old content never stays readable on disk beyond
 * the crash of that one instant (the file system may still keep copies the application cannot
 * reach: journals, SSD remapping, snapshots). Readers only ever see the old or the new content.
 */
export function replaceFileErasingOld(path: string, data: Uint8Array | string): void {
  let old: number | undefined;
  try {
    old = openSync(path, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  try {
    writeFileAtomic(path, data);
    if (old !== undefined) zeroFill(old);
  } finally {
    if (old !== undefined) closeSync(old);
  }
}

/** Overwrites `path` with zeros, then removes it (durably). Nothing if it does not exist. */
export function eraseFile(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    zeroFill(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(path);
  fsyncDir(dirname(path));
}

/** True while process `pid` exists (a signal 0 probe; EPERM: it exists, owned by someone else). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp files a crash left in `dir` (they never hold a committed write). Only those whose
 * writer (the pid in the name) is gone: a CLI command opening the keystore beside a running party
 * (`keys list`, `backup export`) must not pull a temp file from under the party's own write.
 */
export function removeTempFiles(dir: string): void {
  for (const f of readdirSync(dir)) {
    const at = f.indexOf(TEMP_MARK);
    if (at < 0) continue;
    const pid = Number.parseInt(f.slice(at + TEMP_MARK.length), 10);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) continue;
    unlinkSync(join(dir, f));
  }
}

/**
 * Reads a JSON-lines file. A last line without its newline is a write a crash cut short: it is
 * not returned, and with `repair` it is cut off so the next append starts on a line of its own.
 */
export function readJsonLines(path: string, opts: { repair?: boolean } = {}): { lines: unknown[]; tornTail: boolean } {
  if (!existsSync(path)) return { lines: [], tornTail: false };
  const text = readFileSync(path, 'utf8');
  const parts = text.split('\n');
  const last = parts.pop(); // '' when the file ends with a newline
  const tornTail = last !== undefined && last !== '';
  if (tornTail && opts.repair) truncateSync(path, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
  const lines = parts.flatMap((l, i): unknown[] => {
    if (l === '') return [];
    try {
      return [JSON.parse(l)];
    } catch {
      throw new PartyError('corrupt_file', `${path}: line ${i + 1} is not JSON; the file was damaged`);
    }
  });
  return { lines, tornTail };
}

/** An append-only file whose every append is on disk (fsync) before the promise resolves. */
export interface DurableLog {
  append(line: string): Promise<void>;
  close(): Promise<void>;
}

/** How an append-only log makes its writes durable; tests pass a slow or failing one. */
export type DataSync = (fh: FileHandle) => Promise<void>;

const datasync: DataSync = (fh) => fh.datasync();

/**
 * Opens (creating) an append-only log at `path`. Appends are group-committed (group-commit.ts):
 * those made while a write + fdatasync is under way share the next one, in order, and each
 * resolves only once its own bytes are on disk.
 */
export async function openDurableLog(path: string, opts: { sync?: DataSync } = {}): Promise<DurableLog> {
  const fh = await open(path, 'a', 0o600);
  fsyncDir(dirname(path));
  const sync = opts.sync ?? datasync;
  const commits = createGroupCommit<string>(async (lines) => {
    await fh.write(lines.join(''));
    await sync(fh);
  });
  return {
    append: (line) => commits.submit(`${line}\n`),
    async close() {
      await commits.drain().catch(() => undefined);
      await fh.close();
    },
  };
}

/** Appends one line to `path` (creating it) and returns once it is on disk. For rare records. */
export function appendLineSync(path: string, line: string): void {
  const created = !existsSync(path);
  const fd = openSync(path, 'a', 0o600);
  try {
    writeSync(fd, `${line}\n`);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (created) fsyncDir(dirname(path));
}

/**
 * Deletes `path` and makes the deletion durable (fsync of the directory) before returning; a file
 * already gone is fine. After this returns, no crash can bring the file back.
 */
export function removeFileDurably(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  fsyncDir(dirname(path));
}
