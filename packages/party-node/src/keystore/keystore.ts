/**
 * The one module that keeps a party's secrets on disk: its identity seed and its key shares.
 * Every write is atomic and fsync'd. (Encryption at rest is layered in here, nowhere else.)
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

const IDENTITY_FILE = 'identity.json';
const KEYS_DIR = 'keys';

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
    readonly code: 'identity_missing' | 'identity_exists' | 'corrupt_file' | 'unknown_key',
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
  /** Forgets a share whose DKG failed. Active shares are never discarded here. */
  discardPending(keyId: string): void;
  get(keyId: string): StoredShare | undefined;
  list(): StoredShare[];
}

export function openKeystore(dataDir: string): Keystore {
  const keysDir = join(dataDir, KEYS_DIR);
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const idPath = join(dataDir, IDENTITY_FILE);
  const keyPath = (keyId: string) => {
    // keyIds come from the coordinator: never let one name a path outside the keys directory.
    if (!sessionIdSchema.safeParse(keyId).success) throw new KeystoreError('unknown_key', `invalid key id "${keyId}"`);
    return join(keysDir, `${keyId}.json`);
  };

  function readKeyFile(path: string): StoredShare {
    let parsed: z.infer<typeof keyFileSchema>;
    try {
      parsed = keyFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
    } catch (e) {
      throw new KeystoreError(
        'corrupt_file',
        `${path}: unreadable or corrupt key file (${(e as Error).message}); restore it from a backup`,
      );
    }
    return { share: decodeKeyShare(parsed.share), status: parsed.status, certificate: parsed.certificate };
  }

  function writeKeyFile(s: StoredShare): void {
    const body = { v: 1, status: s.status, share: encodeKeyShare(s.share), certificate: s.certificate };
    writeFileAtomic(keyPath(s.share.keyId), JSON.stringify(body));
  }

  return {
    dataDir,
    hasIdentity: () => existsSync(idPath),
    createIdentity(identity) {
      if (existsSync(idPath)) throw new KeystoreError('identity_exists', `${idPath} already exists; refusing to overwrite an identity`);
      writeFileAtomic(idPath, JSON.stringify({ v: 1, seed: toHex(identity.exportSeed()) }));
    },
    loadIdentity() {
      if (!existsSync(idPath)) throw new KeystoreError('identity_missing', `${idPath} not found; run "glacis-party init" first`);
      try {
        const f = identityFileSchema.parse(JSON.parse(readFileSync(idPath, 'utf8')));
        return identityFromSeed(fromHex(f.seed));
      } catch (e) {
        throw new KeystoreError(
          'corrupt_file',
          `${idPath}: unreadable or corrupt identity file (${(e as Error).message}); restore it from a backup`,
        );
      }
    },
    savePending(share) {
      writeKeyFile({ share, status: 'pending', certificate: null });
    },
    activate(keyId, certificate) {
      const path = keyPath(keyId);
      if (!existsSync(path)) throw new KeystoreError('unknown_key', `no share for key ${keyId}`);
      const s = { ...readKeyFile(path), status: 'active' as const, certificate };
      writeKeyFile(s);
      return s;
    },
    discardPending(keyId) {
      const path = keyPath(keyId);
      if (!existsSync(path)) return;
      if (readKeyFile(path).status === 'pending') rmSync(path);
    },
    get(keyId) {
      const path = keyPath(keyId);
      return existsSync(path) ? readKeyFile(path) : undefined;
    },
    list() {
      return readdirSync(keysDir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => readKeyFile(join(keysDir, f)));
    },
  };
}
