/**
 * The RFC 9591 §6 hash functions the fast path needs — H1 (binding factors), H3 (nonces), H4/H5 (message and
 * commitment-list digests), the challenge (H2, or BIP-340's for secp256k1-tr) and H_DKG — for each
 * suite. Each suite builds its set once (`Suite.hashes`, suites.ts): no cache here.
 *
 * @noble/curves 2.4.0 computes these inside createFROST and does not export them, so they are
 * rebuilt here from the same parts noble feeds createFROST (see noble's ed25519.js, ed448.js,
 * nist.js and secp256k1.js `*_FROST` definitions): the same hash, the same hash-to-scalar (noble's
 * exported `*_hasher.hashToScalar` where the suite uses one) and the same DSTs. Nothing of the
 * field or curve is re-implemented. Tests pin every function against noble (Identifier.derive runs
 * the same hash-to-scalar) and against the RFC 9591 and frost-rs vectors (binding factors,
 * signatures).
 */
import { p256_hasher } from '@noble/curves/nist.js';
import { schnorr, secp256k1_hasher } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, bytesToNumberLE } from '@noble/curves/utils.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { shake256 } from '@noble/hashes/sha3.js';
import { concatBytes, utf8 } from '../bytes.js';
import type { ScalarField, SuiteId } from '../suites.js';

/** The hash functions of one suite, as RFC 9591 §6 names them. */
export interface FrostHashes {
  /** H1: the binding factor ρ_i from its input (RFC 9591 §4.4), DST contextString || "rho". */
  H1(input: Uint8Array): bigint;
  /** H3: nonce_generate's hash (RFC 9591 §4.1), DST contextString || "nonce". */
  H3(input: Uint8Array): bigint;
  /** H4: digest of the message (RFC 9591 §4.4), prefix contextString || "msg". */
  H4(message: Uint8Array): Uint8Array;
  /** H5: digest of the encoded commitment list (RFC 9591 §4.4), prefix contextString || "com". */
  H5(encodedCommitments: Uint8Array): Uint8Array;
  /**
   * compute_challenge (RFC 9591 §4.6) from SerializeElement(R) and SerializeElement(PK). For
   * secp256k1-tr, PK must already be the even-Y group key; R's parity is irrelevant (x-only).
   */
  challenge(R: Uint8Array, PK: Uint8Array, message: Uint8Array): bigint;
  /** Same as H1 with an arbitrary DST suffix; only exposed so tests can pin it against noble. */
  hashToScalar(input: Uint8Array, dstSuffix: string): bigint;
}

type HashToScalar = (msg: Uint8Array, opts: { DST: Uint8Array }) => bigint;

interface Recipe {
  /** The suite's Hash (RFC 9591 §6.x), used by H4/H5 and the default hash-to-scalar. */
  hash(msg: Uint8Array): Uint8Array;
  /** noble's hashToScalar hook, when the suite passes one to createFROST (RFC 9380 hash_to_field). */
  hashToScalar?: HashToScalar;
  /** The H2 DST when it is not contextString || "chal" (ed25519: none; ed448: RFC 8032 dom4). */
  h2Prefix?: string;
  /** secp256k1-tr replaces H2 with BIP-340's tagged challenge. */
  bip340?: boolean;
}

const recipes: Record<SuiteId, Recipe> = {
  // RFC 9591 §6.1: H2 is undecorated SHA-512, so FROST signatures are RFC 8032 signatures.
  ed25519: { hash: sha512, h2Prefix: '' },
  // RFC 9591 §6.3: H2 carries RFC 8032's dom4(phflag=0, context="") = "SigEd448" || 0x00 || 0x00.
  ed448: { hash: (m) => shake256(m, { dkLen: 114 }), h2Prefix: 'SigEd448\0\0' },
  // RFC 9591 §6.2: all H* are SHA-512 wide reductions with the context-string DSTs.
  ristretto255: { hash: sha512 },
  // RFC 9591 §6.4/§6.5: H1/H2 are RFC 9380 hash_to_field with the context-string DSTs.
  p256: { hash: sha256, hashToScalar: p256_hasher.hashToScalar },
  secp256k1: { hash: sha256, hashToScalar: secp256k1_hasher.hashToScalar },
  // frost-secp256k1-tr: the secp256k1 H1/H3/H4/H5 plus the BIP-340 challenge (noble's `challenge` hook).
  'secp256k1-tr': { hash: sha256, hashToScalar: secp256k1_hasher.hashToScalar, bip340: true },
};

/** The hash functions of suite `id` with scalar field `Fn` and RFC 9591 `contextString`. */
export function createFrostHashes(id: SuiteId, Fn: ScalarField, contextString: string): FrostHashes {
  const r = recipes[id];
  const ctx = contextString;
  // noble's createFROST fallback hashToScalar: Hash(DST || msg) read in the field's byte order, mod q.
  const hashToScalar: HashToScalar =
    r.hashToScalar ??
    ((msg, { DST }) => {
      const t = r.hash(concatBytes(DST, msg));
      return Fn.create(Fn.isLE ? bytesToNumberLE(t) : bytesToNumberBE(t));
    });
  const rho = utf8(`${ctx}rho`);
  const nonce = utf8(`${ctx}nonce`);
  const msgPrefix = utf8(`${ctx}msg`);
  const comPrefix = utf8(`${ctx}com`);
  const chal = utf8(r.h2Prefix ?? `${ctx}chal`);
  const challenge = r.bip340
    ? // BIP-340: int(hash_BIP0340/challenge(x(R) || x(PK) || m)) mod n, over x-only encodings.
      (R: Uint8Array, PK: Uint8Array, m: Uint8Array) =>
        Fn.create(bytesToNumberBE(schnorr.utils.taggedHash('BIP0340/challenge', R.subarray(1), PK.subarray(1), m)))
    : (R: Uint8Array, PK: Uint8Array, m: Uint8Array) => hashToScalar(concatBytes(R, PK, m), { DST: chal });
  return Object.freeze({
    H1: (input: Uint8Array) => hashToScalar(input, { DST: rho }),
    H3: (input: Uint8Array) => hashToScalar(input, { DST: nonce }),
    H4: (m: Uint8Array) => r.hash(concatBytes(msgPrefix, m)),
    H5: (m: Uint8Array) => r.hash(concatBytes(comPrefix, m)),
    challenge,
    hashToScalar: (input: Uint8Array, dstSuffix: string) => hashToScalar(input, { DST: utf8(`${ctx}${dstSuffix}`) }),
  });
}
