/**
 * Durable file writes. A write is temp file → fsync → rename → fsync of the directory, so after a
 * crash the file holds either the old or the new content, never a torn mix.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Atomically replaces `path` with `data` (mode 0600: party files are private). */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** An append-only file whose every append is on disk (fsync) before the promise resolves. */
export interface DurableLog {
  append(line: string): Promise<void>;
  close(): Promise<void>;
}

/** Opens (creating) an append-only log at `path`. */
export async function openDurableLog(path: string): Promise<DurableLog> {
  const fh = await open(path, 'a', 0o600);
  fsyncDir(dirname(path));
  let chain: Promise<void> = Promise.resolve();
  return {
    append(line: string) {
      // Serialise appends: each resolves only after its own bytes are fsync'd.
      chain = chain.then(async () => {
        await fh.write(`${line}\n`);
        await fh.datasync();
      });
      return chain;
    },
    async close() {
      await chain.catch(() => undefined);
      await fh.close();
    },
  };
}
