/**
 * The one module that keeps a party's secrets on disk: its identity seed and its key shares.
 * Every file is sealed (sealing.ts) and written atomically with fsync. Files:
 *   keystore.json      header: KDF parameters and a check value (no secret)
 *   identity.json      sealed identity seed
 *   keys/<keyId>.json  sealed share, its status (pending/active) and DKG certificate
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
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
import { writeFileAtomic } from '../fs-atomic.js';
import {
  createHeader,
  headerSchema,
  type KeystoreHeader,
  type Sealer,
  SealingError,
  sealedSchema,
  type UnlockSource,
  unlockHeader,
} from './sealing.js';

const HEADER_FILE = 'keystore.json';
const IDENTITY_FILE = 'identity.json';
const KEYS_DIR = 'keys';
const RESTORE_HINT = 'restore this party from its backup ("glacis-party backup import", see docs/operations.md)';

const identityFileSchema = z.strictObject({ v: z.literal(1), seed: z.string().regex(/^[0-9a-f]{64}$/) });
const keyFileSchema = z.strictObject({
  v: z.literal(1),
  status: z.enum(['pending', 'active']),
  share: keyShareRecordSchema,
  certificate: z.array(envelopeSchema).nullable(),
});

/** A stored share and whether its DKG certificate has been seen. */
export interface StoredShare {
  share: KeyShare;
  status: 'pending' | 'active';
  certificate: Envelope[] | null;
}

/** Typed keystore error: names the file and what to do. */
export class KeystoreError extends Error {
  override readonly name = 'KeystoreError';
  constructor(
    readonly code:
      | 'not_initialized'
      | 'already_initialized'
      | 'identity_missing'
      | 'identity_exists'
      | 'wrong_passphrase'
      | 'corrupt_file'
      | 'unknown_key',
    message: string,
  ) {
    super(message);
  }
}

export interface Keystore {
  readonly dataDir: string;
  hasIdentity(): boolean;
  createIdentity(identity: IdentityKey): void;
  loadIdentity(): IdentityKey;
  /** Stores a share derived in a DKG that has not been certified yet. */
  savePending(share: KeyShare): void;
  /** Marks a share active once its certificate checked out. */
  activate(keyId: string, certificate: Envelope[]): StoredShare;
  /** Writes a share restored from a backup; refuses to overwrite one that exists. */
  restore(s: StoredShare): void;
  /** Forgets a share whose DKG failed. Active shares are never discarded here. */
  discardPending(keyId: string): void;
  get(keyId: string): StoredShare | undefined;
  list(): StoredShare[];
}

function readHeader(path: string): KeystoreHeader {
  try {
    return headerSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    throw new KeystoreError('corrupt_file', `${path}: unreadable or corrupt keystore header (${(e as Error).message}); ${RESTORE_HINT}`);
  }
}

/** Creates keystore.json for a new data directory and returns the open keystore. */
export function initKeystore(dataDir: string, source: UnlockSource, opts: { scryptLogN?: number } = {}): Keystore {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, HEADER_FILE);
  if (existsSync(path)) throw new KeystoreError('already_initialized', `${path} exists: this data directory already has a keystore`);
  const { header } = createHeader(source, opts.scryptLogN === undefined ? {} : { logN: opts.scryptLogN });
  writeFileAtomic(path, `${JSON.stringify(header, null, 2)}\n`);
  return openKeystore(dataDir, source);
}

/** Opens and unlocks the keystore of `dataDir`. A wrong passphrase changes nothing on disk. */
export function openKeystore(dataDir: string, source: UnlockSource): Keystore {
  const headerPath = join(dataDir, HEADER_FILE);
  if (!existsSync(headerPath)) throw new KeystoreError('not_initialized', `${headerPath} not found; run "glacis-party init" first`);
  let sealer: Sealer;
  try {
    sealer = unlockHeader(readHeader(headerPath), source);
  } catch (e) {
    if (e instanceof SealingError) {
      throw new KeystoreError(
        'wrong_passphrase',
        `${headerPath}: cannot unlock the keystore: ${e.code === 'wrong_unlock_source' ? e.message : 'wrong passphrase or key-encryption key'}; nothing was changed`,
      );
    }
    throw e;
  }
  const keysDir = join(dataDir, KEYS_DIR);
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const idPath = join(dataDir, IDENTITY_FILE);

  /** Reads and opens a sealed file; any failure names the file and how to recover. */
  function readSealed(path: string, purpose: string): string {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new KeystoreError(
        'corrupt_file',
        `${path}: unreadable or truncated (${(e as Error).message}); the node will not use it; ${RESTORE_HINT}`,
      );
    }
    const parsed = sealedSchema.safeParse(raw);
    if (!parsed.success)
      throw new KeystoreError('corrupt_file', `${path}: not a sealed keystore file; the node will not use it; ${RESTORE_HINT}`);
    try {
      return new TextDecoder().decode(sealer.open(parsed.data, purpose));
    } catch {
      throw new KeystoreError(
        'corrupt_file',
        `${path}: authentication failed (corrupted, truncated or swapped); the node will not use it; ${RESTORE_HINT}`,
      );
    }
  }
  const writeSealed = (path: string, purpose: string, value: unknown) =>
    writeFileAtomic(path, JSON.stringify(sealer.seal(purpose, new TextEncoder().encode(JSON.stringify(value)))));
  const keyPath = (keyId: string) => {
    // keyIds come from the coordinator: never let one name a path outside the keys directory.
    if (!sessionIdSchema.safeParse(keyId).success) throw new KeystoreError('unknown_key', `invalid key id "${keyId}"`);
    return join(keysDir, `${keyId}.json`);
  };

  function readKeyFile(path: string, keyId: string): StoredShare {
    const text = readSealed(path, `key:${keyId}`);
    let parsed: z.infer<typeof keyFileSchema>;
    try {
      parsed = keyFileSchema.parse(JSON.parse(text));
    } catch (e) {
      throw new KeystoreError('corrupt_file', `${path}: decrypted but malformed (${(e as Error).message}); ${RESTORE_HINT}`);
    }
    return { share: decodeKeyShare(parsed.share), status: parsed.status, certificate: parsed.certificate };
  }

  function writeKeyFile(s: StoredShare): void {
    const body = { v: 1, status: s.status, share: encodeKeyShare(s.share), certificate: s.certificate };
    writeSealed(keyPath(s.share.keyId), `key:${s.share.keyId}`, body);
  }

  return {
    dataDir,
    hasIdentity: () => existsSync(idPath),
    createIdentity(identity) {
      if (existsSync(idPath)) throw new KeystoreError('identity_exists', `${idPath} already exists; refusing to overwrite an identity`);
      writeSealed(idPath, 'identity', { v: 1, seed: toHex(identity.exportSeed()) });
    },
    loadIdentity() {
      if (!existsSync(idPath)) throw new KeystoreError('identity_missing', `${idPath} not found; run "glacis-party init" first`);
      const text = readSealed(idPath, 'identity');
      try {
        return identityFromSeed(fromHex(identityFileSchema.parse(JSON.parse(text)).seed));
      } catch (e) {
        throw new KeystoreError('corrupt_file', `${idPath}: decrypted but malformed (${(e as Error).message}); ${RESTORE_HINT}`);
      }
    },
    savePending(share) {
      writeKeyFile({ share, status: 'pending', certificate: null });
    },
    activate(keyId, certificate) {
      const path = keyPath(keyId);
      if (!existsSync(path)) throw new KeystoreError('unknown_key', `no share for key ${keyId}`);
      const s = { ...readKeyFile(path, keyId), status: 'active' as const, certificate };
      writeKeyFile(s);
      return s;
    },
    restore(stored) {
      if (existsSync(keyPath(stored.share.keyId)))
        throw new KeystoreError('already_initialized', `a share for key ${stored.share.keyId} already exists`);
      writeKeyFile(stored);
    },
    discardPending(keyId) {
      const path = keyPath(keyId);
      if (!existsSync(path)) return;
      if (readKeyFile(path, keyId).status === 'pending') rmSync(path);
    },
    get(keyId) {
      const path = keyPath(keyId);
      return existsSync(path) ? readKeyFile(path, keyId) : undefined;
    },
    list() {
      return readdirSync(keysDir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => readKeyFile(join(keysDir, f), f.slice(0, -'.json'.length)));
    },
  };
}
