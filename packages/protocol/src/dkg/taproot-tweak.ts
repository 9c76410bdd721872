/**
 * secp256k1-tr: frost-secp256k1-tr tweaks every DKG output with BIP-341's TapTweak for an empty
 * merkle root (BIP-86 style key-path-only keys), and noble reproduces that in its DKG.round3
 * (`adjustDKG` → frostTweakPublic / frostTweakSecret in @noble/curves/secp256k1.js). This is the
 * same transformation on already-decoded points, so round 3 needs no second decode:
 *   1. even-Y normalization (frostPubToEvenY / frostSecretToEvenY): if the group key P has odd Y,
 *      negate every group-commitment element, every verifying share and the signing share;
 *   2. t = int(hash_TapTweak(x(P))) (BIP-341 taproot_tweak_pubkey; t ≥ n is an error, not reduced);
 *   3. add t·G to the group key (commitment[0] only) and to every verifying share, t to the share.
 * The frost-rs secp256k1-tr DKG vectors and a comparison with noble's round3 pin it.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { ProtocolError } from '../errors.js';
import type { GroupPoint, Suite } from '../suites.js';

/** The key material round 3 derives, as points and a scalar. */
export interface DkgKeyPoints {
  /** Σ of every dealer's commitment: [0] is the group key. */
  readonly groupCommitment: readonly GroupPoint[];
  /** Verifying share of each member, in the caller's member order. */
  readonly verifyingShares: readonly GroupPoint[];
  /** This party's signing share (secret). */
  readonly signingShare: bigint;
}

/** Applies frost-secp256k1-tr's DKG TapTweak (empty merkle root) to `k`. */
export function taprootTweakDkgKey(suite: Suite, k: DkgKeyPoints): DkgKeyPoints {
  const { Fn } = suite;
  const groupKey = k.groupCommitment[0];
  if (groupKey === undefined) throw new ProtocolError('dkg_failed', 'empty group commitment');
  // Compressed SEC1: 0x02 = even Y, 0x03 = odd Y.
  const encoded = groupKey.toBytes();
  const odd = encoded[0] === 0x03;
  const even = (p: GroupPoint) => (odd ? p.negate() : p);
  const commitment = k.groupCommitment.map(even);
  const verifyingShares = k.verifyingShares.map(even);
  let signingShare = odd ? Fn.neg(k.signingShare) : k.signingShare;
  // BIP-341: t = int(hash_TapTweak(bytes(P) ‖ merkle_root)), merkle root empty; fail if t ≥ n.
  const t = bytesToNumberBE(schnorr.utils.taggedHash('TapTweak', encoded.subarray(1), new Uint8Array(0)));
  if (!Fn.isValid(t)) throw new ProtocolError('dkg_failed', 'invalid TapTweak hash (≥ group order)');
  if (Fn.is0(t)) return { groupCommitment: commitment, verifyingShares, signingShare };
  const tG = suite.Point.BASE.multiply(t);
  signingShare = Fn.add(signingShare, t);
  return {
    groupCommitment: commitment.map((p, i) => (i === 0 ? p.add(tG) : p)),
    verifyingShares: verifyingShares.map((p) => p.add(tG)),
    signingShare,
  };
}
