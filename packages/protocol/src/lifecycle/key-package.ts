/**
 * The key a lifecycle operation starts from: its public package (from the key's certificate),
 * named by a hash so that every participant provably works on the same generation of the key, and
 * decoded once into points for the checks.
 */
import { getMinHashLength, mapHashToField } from '@noble/curves/abstract/modular.js';
import { bytesToNumberBE, bytesToNumberLE } from '@noble/curves/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, type Rng, toHex } from '../bytes.js';
import { canonicalBytes } from '../canonical.js';
import { type Committee, makeCommittee } from '../committee.js';
import { ProtocolError } from '../errors.js';
import { mulBaseSecret } from '../fast/group.js';
import type { KeyShare, PublicKeyPackage } from '../keys.js';
import { type GroupPoint, getSuite, type Suite } from '../suites.js';

/**
 * SHA-256 of the canonical public package (hex): what `*_start.predecessor` and
 * `lifecycle_confirm.predecessor` carry, chaining each certificate to the key it succeeds.
 */
export function keyPackageHash(pkg: PublicKeyPackage): string {
  return canonicalDigest('glacis/key-package/v1', pkg);
}

/** SHA-256 (hex) of `domain ‖ 0x00 ‖ canonical JSON of value`: transcript and package hashes. */
export function canonicalDigest(domain: string, value: unknown): string {
  return toHex(sha256(canonicalBytes(domain, value)));
}

/** A public package decoded for lifecycle arithmetic. */
export interface DecodedKey {
  readonly pkg: PublicKeyPackage;
  readonly suite: Suite;
  readonly committee: Committee;
  /** keyPackageHash(pkg). */
  readonly hash: string;
  /** Φ_0 … Φ_{t−1}; Φ_0 is the group element (tweaked, for secp256k1-tr). */
  readonly groupCommitment: readonly GroupPoint[];
  /** Y_m of a committee member. */
  verifyingShare(partyId: string): GroupPoint;
  /** A member's identifier as a scalar. */
  x(partyId: string): bigint;
}

/**
 * Decodes `pkg`, every element through `parseElement`. The package comes from the caller's own
 * store or a certificate it checked, so a fault here blames nobody (`invalid_encoding`).
 */
export function decodeKey(pkg: PublicKeyPackage): DecodedKey {
  const suite = getSuite(pkg.suite);
  const committee = makeCommittee(suite, pkg.committee, pkg.threshold);
  if (pkg.groupCommitment.length !== committee.threshold) {
    throw new ProtocolError(
      'invalid_encoding',
      `key ${pkg.keyId}: ${pkg.groupCommitment.length} group commitments for threshold ${pkg.threshold}`,
    );
  }
  const groupCommitment = pkg.groupCommitment.map((h, k) => suite.parseElement(fromHex(h), `key ${pkg.keyId} groupCommitment[${k}]`));
  const shares = new Map<string, GroupPoint>();
  for (const m of committee.members) {
    const hex = pkg.verifyingShares[m];
    if (hex === undefined) throw new ProtocolError('invalid_encoding', `key ${pkg.keyId} has no verifying share for ${m}`);
    shares.set(m, suite.parseElement(fromHex(hex), `key ${pkg.keyId} verifying share of ${m}`));
  }
  if (Object.keys(pkg.verifyingShares).length !== committee.members.length) {
    throw new ProtocolError('invalid_encoding', `key ${pkg.keyId} has verifying shares of non-members`);
  }
  const xs = new Map(committee.members.map((m) => [m, suite.Fn.fromBytes(fromHex(committee.identifierOf.get(m) as string))]));
  return Object.freeze({
    pkg,
    suite,
    committee,
    hash: keyPackageHash(pkg),
    groupCommitment,
    verifyingShare: (p: string) => {
      const y = shares.get(p);
      if (y === undefined) throw new ProtocolError('not_in_committee', `${p} is not in the committee of key ${pkg.keyId}`);
      return y;
    },
    x: (p: string) => {
      const x = xs.get(p);
      if (x === undefined) throw new ProtocolError('not_in_committee', `${p} is not in the committee of key ${pkg.keyId}`);
      return x;
    },
  });
}

/**
 * The scalar of the caller's own stored share, checked to be of `key` (same package, else
 * `wrong_key`) and to match its verifying share (else `lifecycle_key_mismatch`: the share is
 * damaged, and any contribution made from it would be refused by the others).
 */
export function shareScalar(key: DecodedKey, share: KeyShare): bigint {
  if (share.keyId !== key.pkg.keyId || keyPackageHash(share.public) !== key.hash) {
    throw new ProtocolError('wrong_key', `share of ${share.partyId} is for another key or generation than ${key.pkg.keyId}`);
  }
  const s = key.suite.Fn.fromBytes(share.frostSecret.signingShare);
  if (!mulBaseSecret(key.suite, s).equals(key.verifyingShare(share.partyId))) {
    throw new ProtocolError(
      'lifecycle_key_mismatch',
      `stored share of ${share.partyId} does not match its verifying share in ${key.pkg.keyId}`,
    );
  }
  return s;
}

/**
 * A uniformly random non-zero scalar, derived as noble derives DKG polynomial coefficients
 * (`mapHashToField` over 1.5× the order's bytes, so the bias is negligible). noble's
 * `utils.randomScalar` is not used: it also multiplies the scalar by G and, for secp256k1-tr,
 * negates it towards an even-Y point, as nonces need and coefficients do not.
 */
export function randomScalar(suite: Suite, rng: Rng): bigint {
  const { Fn } = suite;
  const bytes = mapHashToField(rng(getMinHashLength(Fn.ORDER)), Fn.ORDER, Fn.isLE);
  const n = Fn.isLE ? bytesToNumberLE(bytes) : bytesToNumberBE(bytes);
  bytes.fill(0);
  return n;
}
