/**
 * The one module that keeps a party's secrets on disk: its identity seed and its key shares.
 * Every file is sealed (sealing.ts) and written atomically with fsync. Files:
 *   keystore.json      header: KDF parameters and a check value (no secret)
 *   identity.json      sealed identity seed
 *   keys/<keyId>.json  sealed share, its status (pending/active/failed) and DKG certificate
 *
 *   staged/<keyId>.json   sealed successor of a key's share, waiting for its certificate
 *   retired/<keyId>.json  a key this party reshared away (public: no share)
 *
 * SECURITY (DESIGN.md invariant 6): an active share is never replaced or deleted except by a
 * lifecycle operation that completed. A key file is only ever created exclusively (it cannot
 * replace one that exists); the only rewrites here are a pending or failed share turning active
 * on its certificate and a pending share turning failed. Refresh, reshare and repair go through
 * their own two-phase entry point (successions.ts): a successor is staged beside the live share
 * and replaces it only once its certificate is checked.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  copyKeyShare,
  decodeKeyShare,
  type Envelope,
  encodeKeyShare,
  envelopeSchema,
  fromHex,
  type IdentityKey,
  identityFromSeed,
  type KeyShare,
  keyShareRecordSchema,
  sessionIdSchema,
  toHex,
} from '@glacis/protocol';
import { z } from 'zod';
import type { CrashPoint } from '../crash-points.js';
import { isPartyError, PartyError } from '../errors.js';
import { createFileExclusive, removeTempFiles, writeFileAtomic } from '../fs-atomic.js';
import { createHeader, headerSchema, type KeystoreHeader, type Sealer, sealedSchema, type UnlockSource, unlockHeader } from './sealing.js';
import { openSuccessions, type Successions } from './successions.js';

const HEADER_FILE = 'keystore.json';
const IDENTITY_FILE = 'identity.json';
const KEYS_DIR = 'keys';
const RESTORE_HINT = 'restore this party from its backup ("glacis-party backup import", see docs/operations.md)';

const identityFileSchema = z.strictObject({ v: z.literal(1), seed: z.string().regex(/^[0-9a-f]{64}$/) });
/** pending: derived, not yet certified; active: certified, signs; failed: its DKG was reported failed. */
export const SHARE_STATUSES = ['pending', 'active', 'failed'] as const;
export type ShareStatus = (typeof SHARE_STATUSES)[number];

const keyFileSchema = z.strictObject({
  v: z.literal(1),
  status: z.enum(SHARE_STATUSES),
  share: keyShareRecordSchema,
  certificate: z.array(envelopeSchema).nullable(),
  /** 0 from the DKG, one more after each refresh or reshare (files written before it existed: 0). */
  generation: z.number().int().nonnegative().optional(),
});

/** A stored share and whether its certificate has been seen. */
export interface StoredShare {
  share: KeyShare;
  status: ShareStatus;
  /** The certificate that made it active: the DKG's, or the lifecycle operation's (null: none yet, or a repair). */
  certificate: Envelope[] | null;
  /** The key's generation this share is of: backups of an earlier generation are stale. */
  generation: number;
}

export interface Keystore {
  readonly dataDir: string;
  hasIdentity(): boolean;
  createIdentity(identity: IdentityKey): void;
  loadIdentity(): IdentityKey;
  /**
   * Stores a share derived in a DKG that has not been certified yet. Throws `key_exists` (and
   * changes nothing) when any share of that key is already stored, whatever its status.
   */
  createPending(share: KeyShare): void;
  /**
   * Marks a pending or failed share active once its certificate checked out (a certificate every
   * member signed outweighs an earlier report that the DKG failed). Already active: unchanged.
   */
  activate(keyId: string, certificate: Envelope[]): StoredShare;
  /**
   * Marks a pending share failed (its DKG was reported failed): it is kept, never used to sign,
   * and still activated by a valid certificate. Returns false, changing nothing, for any other.
   */
  markFailed(keyId: string): boolean;
  /** Writes a share restored from a backup; throws `key_exists` if a share of that key is stored. */
  restore(s: StoredShare): void;
  get(keyId: string): StoredShare | undefined;
  list(): StoredShare[];
  /**
   * The shares that can be read, and the key ids of those that cannot (damaged, truncated,
   * swapped): a running node goes on without a damaged share, reports it missing, and has it
   * repaired (a repaired share replaces an unreadable one: successions.ts).
   */
  usable(): { shares: StoredShare[]; damaged: string[] };
  /** Two-phase successions (refresh, reshare, repair): successions.ts. */
  readonly successions: Successions;
  /**
   * Seals `value` (JSON) under the keystore's master key for `purpose`, for another module's secret
   * at rest (the offline party's preprocessed nonces). The text is what to write to the file.
   */
  sealText(purpose: string, value: unknown): string;
  /** Opens a file `sealText` made for `purpose`; `corrupt_file` when unreadable or tampered. */
  openSealedFile(path: string, purpose: string): string;
}

function readHeader(path: string): KeystoreHeader {
  try {
    return headerSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    throw new PartyError('corrupt_file', `${path}: unreadable or corrupt keystore header (${(e as Error).message}); ${RESTORE_HINT}`);
  }
}

/** Creates keystore.json for a new data directory and returns the open keystore. */
export function initKeystore(dataDir: string, source: UnlockSource, opts: { scryptLogN?: number } = {}): Keystore {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, HEADER_FILE);
  if (existsSync(path)) throw new PartyError('already_initialized', `${path} exists: this data directory already has a keystore`);
  const { header } = createHeader(source, opts.scryptLogN === undefined ? {} : { logN: opts.scryptLogN });
  writeFileAtomic(path, `${JSON.stringify(header, null, 2)}\n`);
  return openKeystore(dataDir, source);
}

/** Options of openKeystore. */
export interface OpenKeystoreOptions {
  /** Test-only crash injection at each step of a switch (crash-points.ts). */
  crash?: (point: CrashPoint) => void;
}

/**
 * Opens and unlocks the keystore of `dataDir`. A wrong passphrase changes nothing on disk. A switch
 * a crash interrupted after its certificate was recorded is finished here (successions.ts).
 */
export function openKeystore(dataDir: string, source: UnlockSource, opts: OpenKeystoreOptions = {}): Keystore {
  const headerPath = join(dataDir, HEADER_FILE);
  if (!existsSync(headerPath)) throw new PartyError('not_initialized', `${headerPath} not found; run "glacis-party init" first`);
  let sealer: Sealer;
  try {
    sealer = unlockHeader(readHeader(headerPath), source);
  } catch (e) {
    if (isPartyError(e, 'wrong_unlock_source') || isPartyError(e, 'authentication_failed')) {
      throw new PartyError(
        'wrong_passphrase',
        `${headerPath}: cannot unlock the keystore: ${e.code === 'wrong_unlock_source' ? e.message : 'wrong passphrase or key-encryption key'}; nothing was changed`,
      );
    }
    throw e;
  }
  const keysDir = join(dataDir, KEYS_DIR);
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  removeTempFiles(keysDir);
  const idPath = join(dataDir, IDENTITY_FILE);

  /** Reads a keystore file's text; unreadable names the file and how to recover. */
  function readRaw(path: string): string {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw new PartyError('corrupt_file', `${path}: unreadable (${(e as Error).message}); the node will not use it; ${RESTORE_HINT}`);
    }
  }

  /** Opens the text of a sealed file read from `path`; any failure names the file and how to recover. */
  function openRaw(path: string, raw: string, purpose: string): string {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      throw new PartyError(
        'corrupt_file',
        `${path}: unreadable or truncated (${(e as Error).message}); the node will not use it; ${RESTORE_HINT}`,
      );
    }
    const parsed = sealedSchema.safeParse(json);
    if (!parsed.success)
      throw new PartyError('corrupt_file', `${path}: not a sealed keystore file; the node will not use it; ${RESTORE_HINT}`);
    try {
      return new TextDecoder().decode(sealer.open(parsed.data, purpose));
    } catch {
      throw new PartyError(
        'corrupt_file',
        `${path}: authentication failed (corrupted, truncated or swapped); the node will not use it; ${RESTORE_HINT}`,
      );
    }
  }

  /** Reads and opens a sealed file. */
  const readSealed = (path: string, purpose: string): string => openRaw(path, readRaw(path), purpose);
  const sealedText = (purpose: string, value: unknown) =>
    JSON.stringify(sealer.seal(purpose, new TextEncoder().encode(JSON.stringify(value))));
  const keyPath = (keyId: string) => {
    // keyIds come from the coordinator: never let one name a path outside the keys directory.
    if (!sessionIdSchema.safeParse(keyId).success) throw new PartyError('unknown_key', `invalid key id "${keyId}"`);
    return join(keysDir, `${keyId}.json`);
  };

  /**
   * Key files already opened and checked, by path: the exact text read and what it gave. A key's
   * file is read from disk for every signing package (a share deleted, damaged or swapped on disk
   * is seen at the next package), but opening it again (the AEAD) and checking the share against
   * the key's commitments (a decode of every commitment element) cost a third to a half of a
   * party's CPU per signature (bench profile). The same text gives the same result: it is opened
   * and checked again only when the file's text differs.
   */
  const opened = new Map<string, { raw: string; keyId: string; stored: StoredShare }>();

  function readKeyFile(path: string, keyId: string): StoredShare {
    const raw = readRaw(path);
    const hit = opened.get(path);
    if (hit && hit.raw === raw && hit.keyId === keyId) return handOut(hit.stored);
    opened.delete(path);
    const text = openRaw(path, raw, `key:${keyId}`);
    let parsed: z.infer<typeof keyFileSchema>;
    try {
      parsed = keyFileSchema.parse(JSON.parse(text));
    } catch (e) {
      throw new PartyError('corrupt_file', `${path}: decrypted but malformed (${(e as Error).message}); ${RESTORE_HINT}`);
    }
    const stored: StoredShare = {
      share: decodeKeyShare(parsed.share),
      status: parsed.status,
      certificate: parsed.certificate,
      generation: parsed.generation ?? 0,
    };
    opened.set(path, { raw, keyId, stored });
    return handOut(stored);
  }

  /**
   * What a caller gets of a kept share: its own copy of the secret bytes (a signer zeroes its share
   * when the key is switched; the kept one, and every other caller's, must not change with it).
   */
  function handOut(s: StoredShare): StoredShare {
    return { ...s, share: copyKeyShare(s.share) };
  }

  const keyFileText = (s: StoredShare) =>
    sealedText(`key:${s.share.keyId}`, {
      v: 1,
      status: s.status,
      share: encodeKeyShare(s.share),
      certificate: s.certificate,
      generation: s.generation,
    });

  /** The only way a key file comes to exist. */
  function createKeyFile(s: StoredShare): void {
    const keyId = s.share.keyId;
    if (!createFileExclusive(keyPath(keyId), keyFileText(s)))
      throw new PartyError('key_exists', `a share of key ${keyId} is already stored; it is never replaced`);
  }

  /** Rewrites a stored share with a new status, unless it is active (never rewritten). */
  function changeStatus(
    keyId: string,
    from: readonly ShareStatus[],
    to: ShareStatus,
    certificate: Envelope[] | null,
  ): StoredShare | undefined {
    const path = keyPath(keyId);
    if (!existsSync(path)) throw new PartyError('unknown_key', `no share of key ${keyId}`);
    const current = readKeyFile(path, keyId);
    if (current.status === 'active' || !from.includes(current.status)) return undefined;
    const next = { ...current, status: to, certificate };
    writeFileAtomic(path, keyFileText(next));
    return next;
  }

  const successions = openSuccessions({
    dataDir,
    sealedText,
    readSealed,
    keyPath,
    readKeyFile,
    keyFileText,
    createKeyFile,
    crash: opts.crash ?? (() => undefined),
  });

  return {
    dataDir,
    hasIdentity: () => existsSync(idPath),
    createIdentity(identity) {
      if (!createFileExclusive(idPath, sealedText('identity', { v: 1, seed: toHex(identity.exportSeed()) })))
        throw new PartyError('identity_exists', `${idPath} already exists; refusing to overwrite an identity`);
    },
    loadIdentity() {
      if (!existsSync(idPath)) throw new PartyError('identity_missing', `${idPath} not found; run "glacis-party init" first`);
      const text = readSealed(idPath, 'identity');
      try {
        return identityFromSeed(fromHex(identityFileSchema.parse(JSON.parse(text)).seed));
      } catch (e) {
        throw new PartyError('corrupt_file', `${idPath}: decrypted but malformed (${(e as Error).message}); ${RESTORE_HINT}`);
      }
    },
    createPending(share) {
      createKeyFile({ share, status: 'pending', certificate: null, generation: 0 });
    },
    activate(keyId, certificate) {
      return changeStatus(keyId, ['pending', 'failed'], 'active', certificate) ?? readKeyFile(keyPath(keyId), keyId);
    },
    markFailed(keyId) {
      return changeStatus(keyId, ['pending'], 'failed', null) !== undefined;
    },
    restore(stored) {
      createKeyFile(stored);
    },
    get(keyId) {
      const path = keyPath(keyId);
      return existsSync(path) ? readKeyFile(path, keyId) : undefined;
    },
    sealText: sealedText,
    openSealedFile: readSealed,
    list() {
      return readdirSync(keysDir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => readKeyFile(join(keysDir, f), f.slice(0, -'.json'.length)));
    },
    usable() {
      const shares: StoredShare[] = [];
      const damaged: string[] = [];
      for (const f of readdirSync(keysDir).filter((name) => name.endsWith('.json'))) {
        const keyId = f.slice(0, -'.json'.length);
        try {
          shares.push(readKeyFile(join(keysDir, f), keyId));
        } catch (e) {
          if (!isPartyError(e, 'corrupt_file')) throw e;
          damaged.push(keyId);
        }
      }
      return { shares, damaged };
    },
    successions,
  };
}
