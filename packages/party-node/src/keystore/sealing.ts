/**
 * Encryption at rest for the party's secrets. One master key per data directory, derived from
 * the operator's passphrase with scrypt (memory-hard; parameters in the header) or from a
 * key-encryption key for unattended nodes. Each file is sealed with XChaCha20-Poly1305 under a
 * fresh random nonce; the associated data binds the file's purpose (identity, key id), so files
 * cannot be swapped or renamed into each other undetected.
 *
 * keystore.json (the header) holds the KDF parameters and a sealed check value: a wrong
 * passphrase is told apart from a corrupted share file.
 */
import { randomBytes } from 'node:crypto';
import { canonicalBytes, fromHex, toHex, utf8 } from '@glacis/protocol';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { PartyError } from '../errors.js';

/**
 * Where the master key comes from. `onProgress` (0 to 1) follows scrypt, which takes about a second:
 * a terminal can show it.
 */
export type UnlockSource =
  | { kind: 'passphrase'; passphrase: string; onProgress?: (fraction: number) => void }
  | { kind: 'kek'; kek: Uint8Array };

const kdfSchema = z.discriminatedUnion('alg', [
  z.strictObject({
    alg: z.literal('scrypt'),
    logN: z.number().int().min(10).max(22),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
    salt: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  z.strictObject({ alg: z.literal('kek'), salt: z.string().regex(/^[0-9a-f]{64}$/) }),
]);
const sealedSchema = z.strictObject({
  format: z.literal('glacis-sealed'),
  v: z.literal(1),
  purpose: z.string().min(1).max(200),
  nonce: z.string().regex(/^[0-9a-f]{48}$/),
  ciphertext: z.string().regex(/^(?:[0-9a-f]{2})+$/),
});
export const headerSchema = z.strictObject({
  format: z.literal('glacis-keystore'),
  v: z.literal(1),
  kdf: kdfSchema,
  cipher: z.literal('xchacha20poly1305'),
  check: sealedSchema,
});
export type KeystoreHeader = z.infer<typeof headerSchema>;
export type SealedFile = z.infer<typeof sealedSchema>;

/** Default scrypt cost: N = 2^17, r = 8, p = 1 (128 MiB, about 0.6 s here). */
export const DEFAULT_SCRYPT_LOG_N = 17;
const CHECK_PURPOSE = 'keystore-check';
const CHECK_VALUE = 'glacis keystore check v1';

function deriveMasterKey(kdf: KeystoreHeader['kdf'], source: UnlockSource): Uint8Array {
  const salt = fromHex(kdf.salt);
  if (kdf.alg === 'scrypt') {
    if (source.kind !== 'passphrase')
      throw new PartyError('wrong_unlock_source', 'this keystore is sealed with a passphrase, but a key-encryption key was given');
    const progress = source.onProgress ? { onProgress: source.onProgress } : {};
    return scrypt(utf8(source.passphrase.normalize('NFKC')), salt, { N: 2 ** kdf.logN, r: kdf.r, p: kdf.p, dkLen: 32, ...progress });
  }
  if (source.kind !== 'kek')
    throw new PartyError('wrong_unlock_source', 'this keystore is sealed with a key-encryption key, but a passphrase was given');
  return hkdf(sha256, source.kek, salt, utf8('glacis/keystore/kek/v1'), 32);
}

/** The unlocked master key: seals and opens files. `toJSON` redacts. */
export interface Sealer {
  seal(purpose: string, plaintext: Uint8Array): SealedFile;
  /** Throws PartyError('authentication_failed') for a wrong key or a tampered/truncated file. */
  open(file: SealedFile, purpose: string): Uint8Array;
  toJSON(): string;
}

function makeSealer(masterKey: Uint8Array): Sealer {
  const ad = (purpose: string) => canonicalBytes('glacis/keystore-file/v1', { format: 'glacis-sealed', v: 1, purpose });
  return {
    seal(purpose, plaintext) {
      const nonce = new Uint8Array(randomBytes(24));
      const ciphertext = xchacha20poly1305(masterKey, nonce, ad(purpose)).encrypt(plaintext);
      return { format: 'glacis-sealed', v: 1, purpose, nonce: toHex(nonce), ciphertext: toHex(ciphertext) };
    },
    open(file, purpose) {
      if (file.purpose !== purpose) throw new PartyError('authentication_failed', `file holds "${file.purpose}", expected "${purpose}"`);
      try {
        return xchacha20poly1305(masterKey, fromHex(file.nonce), ad(purpose)).decrypt(fromHex(file.ciphertext));
      } catch {
        throw new PartyError('authentication_failed', 'authentication failed');
      }
    },
    toJSON: () => '<keystore master key redacted>',
  };
}

/** A new header for `source`; returns it with the unlocked sealer. */
export function createHeader(source: UnlockSource, opts: { logN?: number } = {}): { header: KeystoreHeader; sealer: Sealer } {
  const salt = toHex(new Uint8Array(randomBytes(32)));
  const kdf: KeystoreHeader['kdf'] =
    source.kind === 'passphrase' ? { alg: 'scrypt', logN: opts.logN ?? DEFAULT_SCRYPT_LOG_N, r: 8, p: 1, salt } : { alg: 'kek', salt };
  const sealer = makeSealer(deriveMasterKey(kdf, source));
  return {
    header: { format: 'glacis-keystore', v: 1, kdf, cipher: 'xchacha20poly1305', check: sealer.seal(CHECK_PURPOSE, utf8(CHECK_VALUE)) },
    sealer,
  };
}

/** Unlocks an existing header; a wrong passphrase or key gives PartyError('authentication_failed'). */
export function unlockHeader(header: KeystoreHeader, source: UnlockSource): Sealer {
  const sealer = makeSealer(deriveMasterKey(header.kdf, source));
  sealer.open(header.check, CHECK_PURPOSE);
  return sealer;
}

export { sealedSchema };
