/**
 * The offline party's preprocessed nonces, kept between runs: one file per nonce pair in
 * `nonces/`, sealed under the keystore's master key like a share (purpose `nonce:KEY:ID`, so a file
 * cannot be renamed into another nonce's place). A vault trip may be days after the commitments
 * left, so nonces cannot live in memory as an online party's do.
 *
 * SECURITY (DESIGN.md invariant 1): a nonce file is deleted, durably, after the share log records
 * its consumption and before the share leaves (`consume`). `reconcile` deletes every nonce the share
 * log names, so a crash between the log record and the deletion cannot leave a usable copy. Backups
 * (backup/backup.ts) hold the keystore's shares only, never this directory: a restored party has no
 * nonces, and a replayed package naming an old commitment is refused (`unknown_commitment`).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, type NonceCommitmentWire, type PreprocessedNonce, sessionIdSchema, toHex } from '@glacis/protocol';
import { z } from 'zod';
import { createFileExclusive, removeFileDurably, removeTempFiles } from '../fs-atomic.js';
import type { Keystore } from '../keystore/keystore.js';

export const NONCE_DIR = 'nonces';

const scalarHex = z.string().regex(/^(?:[0-9a-f]{2}){16,64}$/);
const nonceFileSchema = z.strictObject({
  v: z.literal(1),
  keyId: z.string(),
  commitment: z.strictObject({ hiding: z.string(), binding: z.string() }),
  hiding: scalarHex,
  binding: scalarHex,
});

export interface NonceVault {
  /** Seals each nonce pair to disk (fsync'd) before returning: only then may its commitment leave. */
  store(keyId: string, entries: readonly PreprocessedNonce[]): void;
  /** Every stored nonce pair of `keyId`. SECRET. */
  load(keyId: string): PreprocessedNonce[];
  /** How many are stored per key. */
  count(keyId: string): number;
  /** Deletes the nonces of these commitments, durably. */
  consume(keyId: string, commitments: readonly NonceCommitmentWire[]): void;
}

/** A stable file id for a commitment: hashing keeps names short and free of anything but hex. */
const idOf = (c: NonceCommitmentWire) => createHash('sha256').update(`${c.hiding}:${c.binding}`).digest('hex').slice(0, 40);

export function openNonceVault(keystore: Keystore): NonceVault {
  const dir = join(keystore.dataDir, NONCE_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  removeTempFiles(dir);
  const checkKey = (keyId: string) => {
    // Key ids reach file names: only the characters a session id may hold.
    if (!sessionIdSchema.safeParse(keyId).success) throw new RangeError(`invalid key id ${JSON.stringify(keyId.slice(0, 64))}`);
  };
  const fileOf = (keyId: string, id: string) => join(dir, `${keyId}.${id}.json`);
  const filesOf = (keyId: string) => readdirSync(dir).filter((f) => f.startsWith(`${keyId}.`) && f.endsWith('.json'));

  return {
    store(keyId, entries) {
      checkKey(keyId);
      for (const e of entries) {
        const id = idOf(e.commitment);
        const text = keystore.sealText(`nonce:${keyId}:${id}`, {
          v: 1,
          keyId,
          commitment: e.commitment,
          hiding: toHex(e.nonces.hiding),
          binding: toHex(e.nonces.binding),
        });
        if (!createFileExclusive(fileOf(keyId, id), text)) throw new RangeError('nonce commitment collision');
      }
    },
    load(keyId) {
      checkKey(keyId);
      return filesOf(keyId).map((f) => {
        const id = f.slice(keyId.length + 1, -'.json'.length);
        const parsed = nonceFileSchema.parse(JSON.parse(keystore.openSealedFile(join(dir, f), `nonce:${keyId}:${id}`)));
        return { commitment: parsed.commitment, nonces: { hiding: fromHex(parsed.hiding), binding: fromHex(parsed.binding) } };
      });
    },
    count(keyId) {
      checkKey(keyId);
      return filesOf(keyId).length;
    },
    consume(keyId, commitments) {
      checkKey(keyId);
      for (const c of commitments) {
        const path = fileOf(keyId, idOf(c));
        if (existsSync(path)) removeFileDurably(path);
      }
    },
  };
}
