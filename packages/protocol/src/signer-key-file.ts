/**
 * The file a person's Ed25519 signing key lives in on a desk: an approver's key (approvals) or a
 * policy administrator's (policy signatures). One JSON object, the seed sealed under a passphrase:
 *
 *   {"format":"glacis-signer-key","version":1,"role":"approver"|"policy-admin","publicKey":<64 hex>,
 *    "kdf":{"name":"scrypt","logN":17,"r":8,"p":1,"salt":<64 hex>},
 *    "cipher":{"name":"xchacha20-poly1305","nonce":<48 hex>},"ciphertext":<96 hex>}
 *
 * key = scrypt(UTF-8 of the NFC-normalised passphrase, salt, N = 2^logN, r, p, 32 bytes);
 * ciphertext = XChaCha20-Poly1305(key, nonce, the 32-byte seed) with, as associated data,
 * "glacis/signer-key/v1" ‖ 0x00 ‖ canonical JSON of every field but `ciphertext` — so neither the
 * public key, the role nor the KDF cost can be changed without the file failing to open. The
 * public key is checked against the opened seed. docs/policy.md describes the format for other
 * implementations (the web console imports these files).
 *
 * Pure: the randomness (salt, nonce, seed) comes in as `rng`; nothing touches a disk.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { z } from 'zod';
import { fromHex, type Rng, toHex, utf8 } from './bytes.js';
import { type Canonical, canonicalBytes } from './canonical.js';
import { ProtocolError } from './errors.js';
import { type IdentityKey, identityFromSeed } from './identity.js';

const DOMAIN = 'glacis/signer-key/v1';
/** Default scrypt cost: N = 2^17, r = 8 (128 MiB, about half a second). */
export const SIGNER_KEY_LOG_N = 17;

/** What the key signs for, recorded in the file (and bound to it). */
export const SIGNER_KEY_ROLES = ['approver', 'policy-admin'] as const;
export type SignerKeyRole = (typeof SIGNER_KEY_ROLES)[number];

const fileSchema = z.strictObject({
  format: z.literal('glacis-signer-key'),
  version: z.literal(1),
  role: z.enum(SIGNER_KEY_ROLES),
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  kdf: z.strictObject({
    name: z.literal('scrypt'),
    logN: z.number().int().min(10).max(22),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
    salt: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  cipher: z.strictObject({ name: z.literal('xchacha20-poly1305'), nonce: z.string().regex(/^[0-9a-f]{48}$/) }),
  ciphertext: z.string().regex(/^[0-9a-f]{96}$/),
});
/** A signer key file, as stored. */
export type SignerKeyFile = z.infer<typeof fileSchema>;

function keyFrom(passphrase: string, kdf: SignerKeyFile['kdf']): Uint8Array {
  return scrypt(utf8(passphrase.normalize('NFC')), fromHex(kdf.salt), { N: 2 ** kdf.logN, r: kdf.r, p: kdf.p, dkLen: 32 });
}

function associatedData(f: Omit<SignerKeyFile, 'ciphertext'>): Uint8Array {
  return canonicalBytes(DOMAIN, f as unknown as Canonical);
}

/** Seals a fresh Ed25519 key (seed from `rng`) under `passphrase`; returns the file and the key. */
export function createSignerKeyFile(
  passphrase: string,
  role: SignerKeyRole,
  rng: Rng,
  opts: { logN?: number } = {},
): { file: SignerKeyFile; identity: IdentityKey } {
  if (passphrase.length === 0) throw new ProtocolError('keyfile_invalid', 'signer key file: an empty passphrase protects nothing');
  const seed = rng(32);
  const identity = identityFromSeed(seed);
  const header = {
    format: 'glacis-signer-key' as const,
    version: 1 as const,
    role,
    publicKey: toHex(identity.publicKey),
    kdf: { name: 'scrypt' as const, logN: opts.logN ?? SIGNER_KEY_LOG_N, r: 8, p: 1, salt: toHex(rng(32)) },
    cipher: { name: 'xchacha20-poly1305' as const, nonce: toHex(rng(24)) },
  };
  const key = keyFrom(passphrase, header.kdf);
  const sealed = xchacha20poly1305(key, fromHex(header.cipher.nonce), associatedData(header)).encrypt(seed);
  key.fill(0);
  seed.fill(0);
  return { file: { ...header, ciphertext: toHex(sealed) }, identity };
}

/**
 * Opens a signer key file (untrusted JSON) with `passphrase`. `keyfile_invalid`: not such a file,
 * or its public key is not the sealed seed's; `keyfile_wrong_passphrase`: the passphrase does not
 * open it (or the file was altered: the two cannot be told apart, by design of the AEAD).
 */
export function openSignerKeyFile(raw: unknown, passphrase: string): { role: SignerKeyRole; identity: IdentityKey } {
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProtocolError('keyfile_invalid', `signer key file: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'malformed'}`);
  }
  const { ciphertext, ...header } = parsed.data;
  const key = keyFrom(passphrase, header.kdf);
  let seed: Uint8Array;
  try {
    seed = xchacha20poly1305(key, fromHex(header.cipher.nonce), associatedData(header)).decrypt(fromHex(ciphertext));
  } catch (e) {
    throw new ProtocolError('keyfile_wrong_passphrase', 'signer key file: the passphrase does not open it (or the file was altered)', [], {
      cause: e,
    });
  } finally {
    key.fill(0);
  }
  const identity = identityFromSeed(seed);
  seed.fill(0);
  if (toHex(identity.publicKey) !== header.publicKey) {
    throw new ProtocolError('keyfile_invalid', 'signer key file: the sealed key is not the public key it states');
  }
  return { role: header.role, identity };
}
