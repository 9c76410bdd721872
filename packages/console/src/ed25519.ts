/**
 * Ed25519 verification in the browser: WebCrypto (Chromium's BoringSSL, Firefox's NSS, Safari's
 * CryptoKit; native, constant time, no JS curve code to serve) behind the structural checks the
 * protocol makes before OpenSSL (`packages/protocol/src/identity.ts`), so that the browser accepts
 * exactly what `verifyIdentitySignature`'s fast path accepts: A and R canonical (y < p, no x = 0
 * point with the sign bit), A not of small order, S < L, then R = S·B − k·A. A signature with a
 * torsion component, which only the key's holder can make, may be refused here where noble's
 * cofactored equation accepts it; no honest party makes one. `test/ed25519.test.ts` holds this
 * against the protocol on mutated keys, signatures and messages and on every small-order key.
 */
import { ConsoleError } from './errors.js';

const P = (1n << 255n) - 19n;
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const SIGN_BIT = 0x80;

/** The y coordinates of the eight small-order points (five values); a key with one of them is refused. */
const SMALL_ORDER_Y: ReadonlySet<bigint> = new Set([
  0n,
  1n,
  P - 1n,
  0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7n,
  0x05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826n,
]);

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number);
  return n;
}
const yOf = (encoded: Uint8Array): bigint => littleEndian(encoded) & ((1n << 255n) - 1n);

function isCanonicalEncoding(encoded: Uint8Array): boolean {
  const y = yOf(encoded);
  if (y >= P) return false;
  return !((y === 1n || y === P - 1n) && ((encoded[31] as number) & SIGN_BIT) !== 0);
}

/** The checks noble's strict verify makes before its equation, which WebCrypto does not all make. */
export function passesStructuralChecks(signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  if (!isCanonicalEncoding(publicKey) || SMALL_ORDER_Y.has(yOf(publicKey))) return false;
  if (!isCanonicalEncoding(signature.subarray(0, 32))) return false;
  return littleEndian(signature.subarray(32)) < L;
}

/** What the console needs of WebCrypto; tests pass Node's, pages the browser's. */
export type Subtle = Pick<SubtleCrypto, 'importKey' | 'verify' | 'digest' | 'exportKey' | 'generateKey' | 'sign'>;

/** The browser's WebCrypto, or a clear error where it is missing (plain HTTP off loopback). */
export function browserSubtle(): Subtle {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) {
    throw new ConsoleError('unsupported_browser', 'WebCrypto is unavailable: open the console over https:// (or on localhost)');
  }
  return subtle;
}

// WebCrypto wants ArrayBuffer-backed views; a copy also keeps callers' buffers out of its reach.
const buffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer;

/** True when `signature` is a strict Ed25519 signature of `message` under `publicKey`. Never throws for bad input. */
export async function verifyEd25519(subtle: Subtle, signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
  if (!passesStructuralChecks(signature, publicKey)) return false;
  try {
    const key = await subtle.importKey('raw', buffer(publicKey), { name: 'Ed25519' }, false, ['verify']);
    return await subtle.verify({ name: 'Ed25519' }, key, buffer(signature), buffer(message));
  } catch (e) {
    // A browser without Ed25519 in WebCrypto throws NotSupportedError: that is not a "no".
    if ((e as { name?: unknown } | null)?.name === 'NotSupportedError') {
      throw new ConsoleError('unsupported_browser', 'this browser has no Ed25519 in WebCrypto');
    }
    return false;
  }
}

/** SHA-256 of `bytes`. */
export async function sha256(subtle: Subtle, bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle.digest('SHA-256', buffer(bytes)));
}
