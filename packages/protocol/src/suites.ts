/**
 * The six ciphersuites of DESIGN.md over @noble/curves FROST: identifiers, validated decoding of
 * peer-supplied points and scalars, the public-key and signature encodings custody desks see, and a
 * `verify` with the semantics of each suite's standard verifier.
 */
import type { FROST, FrostPublic } from '@noble/curves/abstract/frost.js';
import { ed448, ed448_FROST } from '@noble/curves/ed448.js';
import { ed25519, ed25519_FROST, ristretto255, ristretto255_FROST } from '@noble/curves/ed25519.js';
import { p256, p256_FROST } from '@noble/curves/nist.js';
import { schnorr, schnorr_FROST, secp256k1, secp256k1_FROST } from '@noble/curves/secp256k1.js';
import { ProtocolError } from './errors.js';
import { createFrostHashes, type FrostHashes } from './fast/hashes.js';
import { type CofactorCurve, createPrimeOrderCheck, type EdwardsCoordinates } from './fast/prime-order.js';
import { decodeCompressed, type PointCons } from './fast/secp256k1-arith.js';

/** Suite ids, as DESIGN.md names them. */
export const SUITE_IDS = ['ed25519', 'secp256k1-tr', 'ed448', 'secp256k1', 'p256', 'ristretto255'] as const;
/** One of the six supported ciphersuites. */
export type SuiteId = (typeof SUITE_IDS)[number];

/** A group element as noble's generic FROST code handles it. */
export interface GroupPoint {
  add(other: GroupPoint): GroupPoint;
  subtract(other: GroupPoint): GroupPoint;
  negate(): GroupPoint;
  multiply(scalar: bigint): GroupPoint;
  multiplyUnsafe(scalar: bigint): GroupPoint;
  equals(other: GroupPoint): boolean;
  is0(): boolean;
  isTorsionFree(): boolean;
  assertValidity(): void;
  toBytes(compressed?: boolean): Uint8Array;
  /** The affine coordinates (for ristretto255: of the internal Edwards representative). */
  toAffine(): { x: bigint; y: bigint };
  clearCofactor?(): GroupPoint;
}

/** What the suite layer needs of a point constructor. */
export interface GroupPointConstructor {
  BASE: GroupPoint;
  ZERO: GroupPoint;
  fromBytes(bytes: Uint8Array): GroupPoint;
  /** The point with these coordinates, unchecked (only for coordinates of a point already validated). */
  fromAffine(p: { x: bigint; y: bigint }): GroupPoint;
}

/** Scalar field operations (noble's IField, narrowed to what Glacis uses). */
export interface ScalarField {
  ORDER: bigint;
  BYTES: number;
  isLE: boolean;
  create(n: bigint): bigint;
  isValid(n: bigint): boolean;
  is0(n: bigint): boolean;
  add(a: bigint, b: bigint): bigint;
  sub(a: bigint, b: bigint): bigint;
  mul(a: bigint, b: bigint): bigint;
  neg(a: bigint): bigint;
  inv(a: bigint): bigint;
  pow(a: bigint, e: bigint): bigint;
  fromBytes(bytes: Uint8Array): bigint;
  toBytes(n: bigint): Uint8Array;
}

/** A ciphersuite: noble's FROST engine plus Glacis's encodings and validation. */
export interface Suite {
  readonly id: SuiteId;
  /** RFC 9591 contextString (frost-rs's for secp256k1-tr). */
  readonly contextString: string;
  /** noble's FROST engine for this suite. */
  readonly frost: FROST;
  readonly Point: GroupPointConstructor;
  readonly Fn: ScalarField;
  /** Bytes of a serialized group element (SerializeElement). */
  readonly elementLength: number;
  /** Bytes of a serialized scalar (SerializeScalar). */
  readonly scalarLength: number;
  /** Bytes of the public key desks see (x-only 32 for secp256k1-tr). */
  readonly publicKeyLength: number;
  /** Bytes of a signature in the suite's standard encoding. */
  readonly signatureLength: number;
  /** The RFC 9591 §6 hash functions of this suite (fast/hashes.ts), built once with it. */
  readonly hashes: FrostHashes;
  /** The FROST identifier (canonical scalar hex) of a party, derived from its name. */
  identifierFor(partyId: string): string;
  /**
   * True iff `p` is in the prime-order subgroup (the identity included). Point halving on
   * ed25519/ed448 (fast/prime-order.ts); always true where the encoding or a cofactor of 1
   * already guarantees it (ristretto255, secp256k1, p256).
   */
  isPrimeOrder(p: GroupPoint): boolean;
  /**
   * RFC 9591 §3.1 DeserializeElement: canonical encoding, on the curve, not the identity, in the
   * prime-order subgroup. The only way peer-supplied points enter Glacis.
   */
  parseElement(bytes: Uint8Array, label: string, culprit?: string): GroupPoint;
  /** DeserializeScalar: canonical (< group order); `nonzero` also rejects 0. */
  parseScalar(bytes: Uint8Array, label: string, opts?: { nonzero?: boolean; culprit?: string }): bigint;
  /** The group public key as desks and standard verifiers take it. */
  encodePublicKey(pub: FrostPublic): Uint8Array;
  /** Verifies a signature exactly as the suite's standard verifier would. Never throws. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

type Options = {
  id: SuiteId;
  frost: FROST;
  Point: GroupPointConstructor;
  elementLength: number;
  publicKeyLength: number;
  signatureLength: number;
  encodePublicKey?: (groupKey: Uint8Array) => Uint8Array;
  verify: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;
  /** Curves with a cofactor: their points are checked by halving. Others need no check. */
  cofactorCurve?: CofactorCurve;
  /** Decoding of an element (default: noble's `Point.fromBytes`). */
  decode?: (bytes: Uint8Array) => GroupPoint;
};

/** The halving check of `curve`, with noble's [L]P check for what halving never reaches. */
function halvingCheck(curve: CofactorCurve): (p: GroupPoint) => boolean {
  const check = createPrimeOrderCheck(curve, (p) => (p as unknown as GroupPoint).isTorsionFree());
  return (p) => check(p as unknown as EdwardsCoordinates);
}

function makeSuite(o: Options): Suite {
  const Fn = o.frost.utils.Fn as unknown as ScalarField;
  const identifiers = new Map<string, string>();
  // ristretto255 decodes only prime-order elements; secp256k1 and P-256 have cofactor 1.
  const isPrimeOrder = o.cofactorCurve === undefined ? () => true : halvingCheck(o.cofactorCurve);
  const decode = o.decode ?? ((bytes: Uint8Array) => o.Point.fromBytes(bytes));
  const suite: Suite = {
    id: o.id,
    contextString: contextStrings[o.id],
    frost: o.frost,
    Point: o.Point,
    Fn,
    elementLength: o.elementLength,
    scalarLength: Fn.BYTES,
    publicKeyLength: o.publicKeyLength,
    signatureLength: o.signatureLength,
    hashes: createFrostHashes(o.id, Fn, contextStrings[o.id]),
    isPrimeOrder,
    identifierFor(partyId) {
      let id = identifiers.get(partyId);
      if (id === undefined) {
        id = o.frost.Identifier.derive(partyId);
        identifiers.set(partyId, id);
      }
      return id;
    },
    parseElement(bytes, label, culprit) {
      const fail = (why: string, cause?: unknown): never => {
        throw new ProtocolError('invalid_point', `${label}: ${why}`, culprit === undefined ? [] : [culprit], { cause });
      };
      if (!(bytes instanceof Uint8Array) || bytes.length !== o.elementLength) {
        fail(`expected ${o.elementLength} bytes`);
      }
      let p: GroupPoint;
      try {
        p = decode(bytes);
        p.assertValidity();
      } catch (e) {
        return fail('not a valid encoding of a curve point', e);
      }
      if (p.is0()) fail('identity element');
      // noble's raw fromBytes accepts ed25519/ed448 points outside the prime-order subgroup.
      if (!isPrimeOrder(p)) fail('not in the prime-order subgroup');
      // RFC 9591 §3.1 SerializeElement is canonical: reject any alternative encoding of the point.
      const again = p.toBytes();
      if (again.length !== bytes.length || !again.every((b, i) => b === bytes[i])) fail('non-canonical encoding');
      return p;
    },
    parseScalar(bytes, label, opts = {}) {
      const culprits = opts.culprit === undefined ? [] : [opts.culprit];
      if (!(bytes instanceof Uint8Array) || bytes.length !== Fn.BYTES) {
        throw new ProtocolError('invalid_scalar', `${label}: expected ${Fn.BYTES} bytes`, culprits);
      }
      let n: bigint;
      try {
        n = Fn.fromBytes(bytes);
      } catch (e) {
        throw new ProtocolError('invalid_scalar', `${label}: not a canonical scalar (>= group order)`, culprits, { cause: e });
      }
      if (opts.nonzero && Fn.is0(n)) throw new ProtocolError('invalid_scalar', `${label}: zero scalar`, culprits);
      return n;
    },
    encodePublicKey(pub) {
      const groupKey = pub.commitments[0];
      if (groupKey === undefined) throw new ProtocolError('invalid_encoding', 'public package has no commitments');
      return o.encodePublicKey ? o.encodePublicKey(groupKey) : groupKey.slice();
    },
    verify(signature, message, publicKey) {
      if (signature.length !== o.signatureLength || publicKey.length !== o.publicKeyLength) return false;
      try {
        return o.verify(signature, message, publicKey);
      } catch {
        return false;
      }
    },
  };
  return Object.freeze(suite);
}

const contextStrings: Record<SuiteId, string> = {
  ed25519: 'FROST-ED25519-SHA512-v1',
  'secp256k1-tr': 'FROST-secp256k1-SHA256-TR-v1',
  ed448: 'FROST-ED448-SHAKE256-v1',
  secp256k1: 'FROST-secp256k1-SHA256-v1',
  p256: 'FROST-P256-SHA256-v1',
  ristretto255: 'FROST-RISTRETTO255-SHA512-v1',
};

const asCons = (p: unknown): GroupPointConstructor => p as GroupPointConstructor;
/** secp256k1's compressed points through fast/secp256k1-arith.ts (its field, not noble's `%`). */
const decodeSecp256k1 = (bytes: Uint8Array) => decodeCompressed(secp256k1.Point as unknown as PointCons, bytes);

let registry: Map<SuiteId, Suite> | undefined;
function buildRegistry(): Map<SuiteId, Suite> {
  const suites: Suite[] = [
    makeSuite({
      id: 'ed25519',
      frost: ed25519_FROST,
      Point: asCons(ed25519.Point),
      elementLength: 32,
      publicKeyLength: 32,
      signatureLength: 64,
      // RFC 8032 strict (not ZIP-215): what OpenSSL accepts for FROST output.
      verify: (sig, msg, pk) => ed25519.verify(sig, msg, pk, { zip215: false }),
      cofactorCurve: 'ed25519',
    }),
    makeSuite({
      id: 'secp256k1-tr',
      frost: schnorr_FROST,
      Point: asCons(secp256k1.Point),
      elementLength: 33,
      publicKeyLength: 32,
      signatureLength: 64,
      // BIP-340 keys are x-only: drop the parity byte of the (tweaked) group key.
      encodePublicKey: (groupKey) => groupKey.slice(1),
      verify: (sig, msg, pk) => schnorr.verify(sig, msg, pk),
      decode: decodeSecp256k1,
    }),
    makeSuite({
      id: 'ed448',
      frost: ed448_FROST,
      Point: asCons(ed448.Point),
      elementLength: 57,
      publicKeyLength: 57,
      signatureLength: 114,
      verify: (sig, msg, pk) => ed448.verify(sig, msg, pk),
      cofactorCurve: 'ed448',
    }),
    makeSuite({
      id: 'secp256k1',
      frost: secp256k1_FROST,
      Point: asCons(secp256k1.Point),
      elementLength: 33,
      publicKeyLength: 33,
      signatureLength: 65,
      verify: (sig, msg, pk) => secp256k1_FROST.verify(sig, msg, pk),
      decode: decodeSecp256k1,
    }),
    makeSuite({
      id: 'p256',
      frost: p256_FROST,
      Point: asCons(p256.Point),
      elementLength: 33,
      publicKeyLength: 33,
      signatureLength: 65,
      verify: (sig, msg, pk) => p256_FROST.verify(sig, msg, pk),
    }),
    makeSuite({
      id: 'ristretto255',
      frost: ristretto255_FROST,
      Point: asCons(ristretto255.Point),
      elementLength: 32,
      publicKeyLength: 32,
      signatureLength: 64,
      verify: (sig, msg, pk) => ristretto255_FROST.verify(sig, msg, pk),
    }),
  ];
  return new Map(suites.map((s) => [s.id, s]));
}

/** True when `id` names a supported suite. */
export function isSuiteId(id: unknown): id is SuiteId {
  return typeof id === 'string' && (SUITE_IDS as readonly string[]).includes(id);
}

/** The suite called `id`; `unknown_suite` otherwise. */
export function getSuite(id: string): Suite {
  if (!isSuiteId(id)) throw new ProtocolError('unknown_suite', `unknown suite "${id}"; expected one of ${SUITE_IDS.join(', ')}`);
  registry ??= buildRegistry();
  return registry.get(id) as Suite;
}
