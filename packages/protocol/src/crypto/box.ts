/**
 * End-to-end encryption of secret payloads (DKG round-2 shares, later refresh and repair) between
 * two parties. The coordinator relays the result as opaque bytes.
 *
 * Construction: an ephemeral X25519 key per message, ECDH with the recipient's identity-derived
 * X25519 key, HKDF-SHA256 → XChaCha20-Poly1305. The associated data binds suite, session, round,
 * sender and recipient, so a ciphertext cannot be replayed into another context. Sender
 * authenticity comes from the signed envelope that carries the box.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, type Rng, utf8 } from '../bytes.js';
import { canonicalBytes } from '../canonical.js';
import { ProtocolError } from '../errors.js';
import { type IdentityKey, identityToX25519 } from '../identity.js';

/** What a box is bound to. Every field enters the AEAD's associated data. */
export interface BoxContext {
  suite: string;
  sessionId: string;
  round: string;
  from: string;
  to: string;
}

/** A sealed payload: ephemeral public key, nonce, ciphertext+tag. */
export interface SealedBox {
  epk: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

const INFO = utf8('glacis/e2e/v1');

function deriveKey(shared: Uint8Array, epk: Uint8Array, recipientX: Uint8Array): Uint8Array {
  return hkdf(sha256, shared, concatBytes(epk, recipientX), INFO, 32);
}

/** Encrypts `plaintext` to the holder of `recipientIdentityKey`. */
export function sealBox(plaintext: Uint8Array, recipientIdentityKey: Uint8Array, ctx: BoxContext, rng: Rng): SealedBox {
  const recipientX = identityToX25519(recipientIdentityKey);
  const eSecret = rng(32);
  const epk = x25519.getPublicKey(eSecret);
  const key = deriveKey(x25519.getSharedSecret(eSecret, recipientX), epk, recipientX);
  const nonce = rng(24);
  const ciphertext = xchacha20poly1305(key, nonce, canonicalBytes('glacis/e2e-ad/v1', ctx)).encrypt(plaintext);
  eSecret.fill(0);
  key.fill(0);
  return { epk, nonce, ciphertext };
}

/** Decrypts a box addressed to `identity`; `decryption_failed` names the sender on any failure. */
export function openBox(box: SealedBox, identity: IdentityKey, ctx: BoxContext): Uint8Array<ArrayBuffer> {
  const fail = (cause?: unknown): never => {
    throw new ProtocolError('decryption_failed', `${ctx.round} from ${ctx.from}: cannot decrypt`, [ctx.from], { cause });
  };
  if (box.epk.length !== 32 || box.nonce.length !== 24 || box.ciphertext.length < 16) fail();
  let key: Uint8Array | undefined;
  try {
    const recipientX = identityToX25519(identity.publicKey);
    // x25519 rejects low-order ephemeral keys (all-zero shared secret) by throwing.
    key = deriveKey(identity.agree(box.epk), box.epk, recipientX);
    return xchacha20poly1305(key, box.nonce, canonicalBytes('glacis/e2e-ad/v1', ctx)).decrypt(box.ciphertext) as Uint8Array<ArrayBuffer>;
  } catch (e) {
    return fail(e);
  } finally {
    key?.fill(0);
  }
}
