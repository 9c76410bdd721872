/**
 * One-file backups of a party: its configuration, identity and key shares, sealed under a
 * separate backup passphrase (scrypt → XChaCha20-Poly1305) and checksummed (SHA-256 of the
 * ciphertext in the header, so a damaged file is told apart from a wrong passphrase).
 *
 * Nonce state is deliberately not in a backup — it never touches disk — so restoring a backup,
 * however old, can never revive a nonce that was handed out or used: the restored party starts
 * with fresh commitments.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  canonicalBytes,
  decodeKeyShare,
  encodeKeyShare,
  envelopeSchema,
  fromHex,
  identityFromSeed,
  keyShareRecordSchema,
  toHex,
  utf8,
} from '@glacis/protocol';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { CONFIG_FILE, type PartyConfig, partyConfigSchema } from '../config.js';
import { PartyError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { initKeystore, type Keystore, SHARE_STATUSES } from '../keystore/keystore.js';
import type { UnlockSource } from '../keystore/sealing.js';

const headerSchema = z.strictObject({
  format: z.literal('glacis-backup'),
  v: z.literal(1),
  partyId: z.string(),
  createdAt: z.string(),
  kdf: z.strictObject({
    alg: z.literal('scrypt'),
    logN: z.number().int().min(10).max(22),
    r: z.literal(8),
    p: z.literal(1),
    salt: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  nonce: z.string().regex(/^[0-9a-f]{48}$/),
  ciphertext: z.string().regex(/^(?:[0-9a-f]{2})+$/),
});
const contentSchema = z.strictObject({
  config: z.unknown(),
  identitySeed: z.string().regex(/^[0-9a-f]{64}$/),
  shares: z.array(
    z.strictObject({
      status: z.enum(SHARE_STATUSES),
      share: keyShareRecordSchema,
      certificate: z.array(envelopeSchema).nullable(),
      /** The key's generation (backups made before generations were recorded: 0). */
      generation: z.number().int().nonnegative().optional(),
    }),
  ),
});

const aad = (h: Pick<z.infer<typeof headerSchema>, 'partyId' | 'createdAt' | 'kdf'>) =>
  canonicalBytes('glacis/backup/v1', { format: 'glacis-backup', v: 1, partyId: h.partyId, createdAt: h.createdAt, kdf: h.kdf });
/** Follows the backup passphrase's scrypt, 0 to 1 (a terminal can show it). */
export type BackupProgress = (fraction: number) => void;

const kdfKey = (passphrase: string, kdf: z.infer<typeof headerSchema>['kdf'], onProgress: BackupProgress | undefined) =>
  scrypt(utf8(passphrase.normalize('NFKC')), fromHex(kdf.salt), {
    N: 2 ** kdf.logN,
    r: kdf.r,
    p: kdf.p,
    dkLen: 32,
    ...(onProgress ? { onProgress } : {}),
  });

/** The backup file's text for the party in `keystore` (configuration from `config`). */
export function exportBackup(
  keystore: Keystore,
  config: PartyConfig,
  backupPassphrase: string,
  opts: { logN?: number; now?: Date; onProgress?: BackupProgress } = {},
): string {
  const content = {
    config,
    identitySeed: toHex(keystore.loadIdentity().exportSeed()),
    shares: keystore
      .list()
      .map((s) => ({ status: s.status, share: encodeKeyShare(s.share), certificate: s.certificate, generation: s.generation })),
  };
  const kdf = { alg: 'scrypt' as const, logN: opts.logN ?? 17, r: 8 as const, p: 1 as const, salt: toHex(new Uint8Array(randomBytes(32))) };
  const partial = { partyId: config.partyId, createdAt: (opts.now ?? new Date()).toISOString(), kdf };
  const nonce = new Uint8Array(randomBytes(24));
  const key = kdfKey(backupPassphrase, kdf, opts.onProgress);
  const ciphertext = xchacha20poly1305(key, nonce, aad(partial)).encrypt(utf8(JSON.stringify(content)));
  key.fill(0);
  const header = {
    format: 'glacis-backup',
    v: 1,
    ...partial,
    sha256: toHex(sha256(ciphertext)),
    nonce: toHex(nonce),
    ciphertext: toHex(ciphertext),
  };
  return `${JSON.stringify(header)}\n`;
}

/**
 * Restores a backup into an empty `dataDir`, sealing the keystore with `unlock` (the new
 * machine's passphrase or key-encryption key). Returns the restored party id and key ids.
 */
export function importBackup(
  text: string,
  backupPassphrase: string,
  dataDir: string,
  unlock: UnlockSource,
  opts: { scryptLogN?: number; onProgress?: BackupProgress } = {},
): RestoredBackup {
  let header: z.infer<typeof headerSchema>;
  try {
    header = headerSchema.parse(JSON.parse(text));
  } catch (e) {
    throw new PartyError('backup_corrupt', `not a Glacis backup, or damaged: ${(e as Error).message}`);
  }
  const ciphertext = fromHex(header.ciphertext);
  if (toHex(sha256(ciphertext)) !== header.sha256)
    throw new PartyError('backup_corrupt', 'backup checksum mismatch: the file is damaged; use another copy');
  let plaintext: Uint8Array;
  const key = kdfKey(backupPassphrase, header.kdf, opts.onProgress);
  try {
    plaintext = xchacha20poly1305(key, fromHex(header.nonce), aad(header)).decrypt(ciphertext);
  } catch {
    throw new PartyError('backup_wrong_passphrase', 'cannot open the backup: wrong backup passphrase (the checksum is intact)');
  } finally {
    key.fill(0);
  }
  const content = contentSchema.parse(JSON.parse(new TextDecoder().decode(plaintext)));
  const config = partyConfigSchema.parse(content.config);
  if (existsSync(join(dataDir, CONFIG_FILE)) || existsSync(join(dataDir, 'keystore.json'))) {
    throw new PartyError('backup_target_not_empty', `${dataDir} already holds a party; restore into an empty directory`);
  }
  const keystore = initKeystore(dataDir, unlock, opts.scryptLogN === undefined ? {} : { scryptLogN: opts.scryptLogN });
  keystore.createIdentity(identityFromSeed(fromHex(content.identitySeed)));
  for (const s of content.shares) {
    keystore.restore({ status: s.status, share: decodeKeyShare(s.share), certificate: s.certificate, generation: s.generation ?? 0 });
  }
  writeFileAtomic(join(dataDir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
  return {
    partyId: config.partyId,
    takenAt: header.createdAt,
    keys: content.shares.map((s) => s.share.public.keyId),
    generations: Object.fromEntries(content.shares.map((s) => [s.share.public.keyId, s.generation ?? 0])),
  };
}

/** What `importBackup` restored. */
export interface RestoredBackup {
  partyId: string;
  /** When the backup was made. */
  takenAt: string;
  keys: string[];
  /**
   * The generation of each key's share in the backup. A key refreshed or reshared since has a later
   * generation (`GET /v1/keys/{id}` → `generation`): its share here is stale and cannot sign; the
   * coordinator marks the restored party `needsRepair` for it, and a repair replaces it.
   */
  generations: Record<string, number>;
}

const keyGenerationSchema = z.looseObject({ keyId: z.string(), generation: z.number().int().nonnegative() });
const currentKeysSchema = z.union([z.looseObject({ keys: z.array(keyGenerationSchema) }), keyGenerationSchema]);

/**
 * The current generation of each key, from the JSON of `GET /v1/keys` (or of one `Key`), which an
 * operator saves beside the backup before restoring. Throws `backup_corrupt` for anything else.
 */
export function currentGenerations(text: string, source: string): Map<string, number> {
  let parsed: z.infer<typeof currentKeysSchema>;
  try {
    parsed = currentKeysSchema.parse(JSON.parse(text));
  } catch (e) {
    throw new PartyError('backup_corrupt', `${source}: not the keys GET /v1/keys lists (${(e as Error).message.slice(0, 200)})`);
  }
  const keys: z.infer<typeof keyGenerationSchema>[] =
    'keyId' in parsed ? [parsed as z.infer<typeof keyGenerationSchema>] : (parsed.keys as z.infer<typeof keyGenerationSchema>[]);
  return new Map(keys.map((k) => [k.keyId, k.generation]));
}

/**
 * The restored shares that are stale: of an earlier generation than the key's current one (it
 * was refreshed or reshared since the backup was taken). A stale share cannot sign; a repair
 * replaces it. This is a warning from public data: nothing is changed for it.
 */
export function staleShares(
  restored: RestoredBackup,
  current: ReadonlyMap<string, number>,
): { keyId: string; backupGeneration: number; currentGeneration: number }[] {
  return Object.entries(restored.generations).flatMap(([keyId, backupGeneration]) => {
    const currentGeneration = current.get(keyId);
    return currentGeneration !== undefined && currentGeneration > backupGeneration ? [{ keyId, backupGeneration, currentGeneration }] : [];
  });
}

/** Reads a backup file from disk. */
export function readBackupFile(path: string): string {
  return readFileSync(path, 'utf8');
}
