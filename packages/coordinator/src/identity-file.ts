/** The coordinator's identity seed on disk (32 bytes hex, mode 0600, written atomically). */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { fromHex, type IdentityKey, identityFromSeed, toHex } from '@glacis/protocol';

export class IdentityFileError extends Error {
  override readonly name = 'IdentityFileError';
}

/** Creates the seed file; refuses to overwrite one. */
export function createIdentityFile(path: string): IdentityKey {
  if (existsSync(path)) throw new IdentityFileError(`${path} exists; refusing to replace the coordinator's identity`);
  const seed = new Uint8Array(randomBytes(32));
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${toHex(seed)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  return identityFromSeed(seed);
}

/** Loads the coordinator's identity; a clear error names the file when it is missing or damaged. */
export function loadIdentityFile(path: string): IdentityKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new IdentityFileError(
      `${path}: cannot read the coordinator identity (${(e as Error).message}); run "glacis-coordinator init" first`,
    );
  }
  if (!/^[0-9a-f]{64}$/.test(text)) throw new IdentityFileError(`${path}: not a 32-byte hex seed; restore it from a backup`);
  return identityFromSeed(fromHex(text));
}
