/**
 * An approver's Ed25519 key in the browser, and the `glacis` CLI's signer key file it travels in
 * (protocol `signer-key-file.ts`, docs/policy.md "Signer key files"):
 *
 *   {"format":"glacis-signer-key","version":1,"role":"approver"|"policy-admin","publicKey":<64 hex>,
 *    "kdf":{"name":"scrypt","logN":17,"r":8,"p":1,"salt":<64 hex>},
 *    "cipher":{"name":"xchacha20-poly1305","nonce":<48 hex>},"ciphertext":<96 hex>}
 *
 * key = scrypt(UTF-8 of the NFC passphrase, salt, 2^logN, r, p, 32); ciphertext =
 * XChaCha20-Poly1305(key, nonce, seed), associated data `glacis/signer-key/v1` ‖ 0x00 ‖ canonical
 * JSON of every other field. A key generated here is exported in that same format, so the CLI
 * opens it and the console opens the CLI's. WebCrypto has neither scrypt nor XChaCha20, so those
 * two come from @noble (vendor/signer-key.js, loaded only when a file is opened or written); the key
 * itself is WebCrypto's: generated there, and once loaded held as a non-extractable CryptoKey in
 * this page's memory only. The seed exists as bytes only while a file is sealed or opened, and is
 * overwritten straight after.
 */
import { canonicalBytes } from './canonical.js';
import type { Subtle } from './ed25519.js';
import { ConsoleError } from './errors.js';
import { fromHex, isHex, toHex } from './hex.js';

const DOMAIN = 'glacis/signer-key/v1';
/** The CLI's default scrypt cost (N = 2^17, r = 8: 128 MiB). */
export const SIGNER_KEY_LOG_N = 17;
export const SIGNER_KEY_ROLES = ['approver', 'policy-admin'] as const;
export type SignerKeyRole = (typeof SIGNER_KEY_ROLES)[number];

/** A signer key file, as stored. */
export interface SignerKeyFile {
  format: 'glacis-signer-key';
  version: 1;
  role: SignerKeyRole;
  publicKey: string;
  kdf: { name: 'scrypt'; logN: number; r: number; p: number; salt: string };
  cipher: { name: 'xchacha20-poly1305'; nonce: string };
  ciphertext: string;
}

/** A key that signs in this page; its private half cannot be read back out of WebCrypto. */
export interface LoadedSignerKey {
  readonly publicKey: string;
  readonly role: SignerKeyRole;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** Random bytes (the browser's `crypto.getRandomValues`; tests pass their own). */
export type Rng = (n: number) => Uint8Array;

const invalid = (why: string): never => {
  throw new ConsoleError('invalid_key_file', `not a glacis signer key file: ${why}`);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function exactly(o: Record<string, unknown>, fields: readonly string[], at: string): void {
  const extra = Object.keys(o).find((k) => !fields.includes(k));
  if (extra !== undefined) invalid(`${at}${extra}: unknown field`);
  const missing = fields.find((k) => !(k in o));
  if (missing !== undefined) invalid(`${at}${missing}: missing`);
}

const intIn = (v: unknown, min: number, max: number, at: string): number =>
  Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : invalid(`${at}: expected ${min}..${max}`);

const hexOf = (v: unknown, bytes: number, at: string): string =>
  typeof v === 'string' && isHex(v, bytes) ? v : invalid(`${at}: expected ${bytes * 2} lowercase hex characters`);

/** Parses a key file as the protocol's schema does: strict, every field checked. */
export function parseSignerKeyFile(text: string): SignerKeyFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return invalid('not JSON');
  }
  if (!isObject(raw)) return invalid('expected an object');
  exactly(raw, ['format', 'version', 'role', 'publicKey', 'kdf', 'cipher', 'ciphertext'], '');
  if (raw.format !== 'glacis-signer-key') invalid('format: expected "glacis-signer-key"');
  if (raw.version !== 1) invalid('version: expected 1');
  if (!(SIGNER_KEY_ROLES as readonly unknown[]).includes(raw.role)) invalid('role: expected approver or policy-admin');
  const { kdf, cipher } = raw;
  if (!isObject(kdf)) return invalid('kdf: expected an object');
  exactly(kdf, ['name', 'logN', 'r', 'p', 'salt'], 'kdf.');
  if (kdf.name !== 'scrypt') invalid('kdf.name: expected "scrypt"');
  if (!isObject(cipher)) return invalid('cipher: expected an object');
  exactly(cipher, ['name', 'nonce'], 'cipher.');
  if (cipher.name !== 'xchacha20-poly1305') invalid('cipher.name: expected "xchacha20-poly1305"');
  return {
    format: 'glacis-signer-key',
    version: 1,
    role: raw.role as SignerKeyRole,
    publicKey: hexOf(raw.publicKey, 32, 'publicKey'),
    kdf: {
      name: 'scrypt',
      logN: intIn(kdf.logN, 10, 22, 'kdf.logN'),
      r: intIn(kdf.r, 1, 32, 'kdf.r'),
      p: intIn(kdf.p, 1, 16, 'kdf.p'),
      salt: hexOf(kdf.salt, 32, 'kdf.salt'),
    },
    cipher: { name: 'xchacha20-poly1305', nonce: hexOf(cipher.nonce, 24, 'cipher.nonce') },
    ciphertext: hexOf(raw.ciphertext, 48, 'ciphertext'),
  };
}

const vendor = () => import('../vendor/signer-key.js');

async function sealingKey(passphrase: string, kdf: SignerKeyFile['kdf']): Promise<Uint8Array> {
  const { scryptAsync } = await vendor();
  return scryptAsync(new TextEncoder().encode(passphrase.normalize('NFC')), fromHex(kdf.salt, 'kdf.salt'), {
    N: 2 ** kdf.logN,
    r: kdf.r,
    p: kdf.p,
    dkLen: 32,
    // 2^22 · 8 · 128 bytes: the largest cost the format allows.
    maxmem: 2 ** 33,
  });
}

function associatedData(f: Omit<SignerKeyFile, 'ciphertext'>): Uint8Array {
  return canonicalBytes(DOMAIN, f);
}

// RFC 8410 PrivateKeyInfo for Ed25519: this prefix, then the 32-byte seed.
const PKCS8_PREFIX = fromHex('302e020100300506032b657004220420', 'pkcs8');
const ED25519 = { name: 'Ed25519' } as const;

function base64url(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function importSeed(subtle: Subtle, seed: Uint8Array, extractable: boolean): Promise<CryptoKey> {
  const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + 32);
  pkcs8.set(PKCS8_PREFIX);
  pkcs8.set(seed, PKCS8_PREFIX.length);
  try {
    return await subtle.importKey('pkcs8', pkcs8.buffer, ED25519, extractable, ['sign']);
  } finally {
    pkcs8.fill(0);
  }
}

/** The public key of an extractable private key, and its seed (which the caller wipes). */
async function keyMaterial(subtle: Subtle, key: CryptoKey): Promise<{ publicKey: string; seed: Uint8Array }> {
  const jwk = await subtle.exportKey('jwk', key);
  if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string')
    throw new ConsoleError('unsupported_browser', 'WebCrypto exported no Ed25519 key');
  return { publicKey: toHex(base64url(jwk.x)), seed: base64url(jwk.d) };
}

function loaded(subtle: Subtle, key: CryptoKey, publicKey: string, role: SignerKeyRole): LoadedSignerKey {
  return Object.freeze({
    publicKey,
    role,
    sign: async (message: Uint8Array) => new Uint8Array(await subtle.sign(ED25519, key, message.slice().buffer)),
  });
}

/** The key held by `seed`, non-extractable; `publicKey` is what the seed gives (checked by the caller). */
async function fromSeed(subtle: Subtle, seed: Uint8Array, role: SignerKeyRole): Promise<LoadedSignerKey> {
  const { publicKey } = await keyMaterial(subtle, await importSeed(subtle, seed, true));
  return loaded(subtle, await importSeed(subtle, seed, false), publicKey, role);
}

/**
 * Opens a key file with `passphrase`. `invalid_key_file`: not such a file, or its public key is
 * not its sealed seed's; `wrong_passphrase`: the passphrase does not open it (or the file was
 * altered: an AEAD cannot tell the two apart).
 */
export async function openSignerKeyFile(subtle: Subtle, text: string, passphrase: string): Promise<LoadedSignerKey> {
  const file = parseSignerKeyFile(text);
  const { ciphertext, ...header } = file;
  const { xchacha20poly1305 } = await vendor();
  const key = await sealingKey(passphrase, header.kdf);
  let seed: Uint8Array;
  try {
    seed = xchacha20poly1305(key, fromHex(header.cipher.nonce, 'cipher.nonce'), associatedData(header)).decrypt(
      fromHex(ciphertext, 'ciphertext'),
    );
  } catch {
    throw new ConsoleError('wrong_passphrase', 'the passphrase does not open this key file (or the file was altered)');
  } finally {
    key.fill(0);
  }
  try {
    const opened = await fromSeed(subtle, seed, header.role);
    if (opened.publicKey !== header.publicKey) invalid('the sealed key is not the public key it states');
    return opened;
  } finally {
    seed.fill(0);
  }
}

/**
 * A fresh key made by WebCrypto, and its file sealed under `passphrase` for the user to keep.
 * `logN` below the CLI's default is for tests.
 */
export async function createSignerKey(
  subtle: Subtle,
  passphrase: string,
  role: SignerKeyRole,
  rng: Rng,
  opts: { logN?: number } = {},
): Promise<{ key: LoadedSignerKey; file: SignerKeyFile }> {
  if (passphrase.length === 0) throw new ConsoleError('invalid_key_file', 'an empty passphrase protects nothing');
  const pair = (await subtle.generateKey(ED25519, true, ['sign', 'verify'])) as CryptoKeyPair;
  const { publicKey, seed } = await keyMaterial(subtle, pair.privateKey);
  try {
    const header: Omit<SignerKeyFile, 'ciphertext'> = {
      format: 'glacis-signer-key',
      version: 1,
      role,
      publicKey,
      kdf: { name: 'scrypt', logN: opts.logN ?? SIGNER_KEY_LOG_N, r: 8, p: 1, salt: toHex(rng(32)) },
      cipher: { name: 'xchacha20-poly1305', nonce: toHex(rng(24)) },
    };
    const { xchacha20poly1305 } = await vendor();
    const key = await sealingKey(passphrase, header.kdf);
    const sealed = xchacha20poly1305(key, fromHex(header.cipher.nonce, 'cipher.nonce'), associatedData(header)).encrypt(seed);
    key.fill(0);
    // Signing goes through a non-extractable copy; the generated, extractable pair is dropped.
    return { key: loaded(subtle, await importSeed(subtle, seed, false), publicKey, role), file: { ...header, ciphertext: toHex(sealed) } };
  } finally {
    seed.fill(0);
  }
}
