/**
 * A public key package decoded for signing-session arithmetic, once per key rather than once per
 * session or per share: the group key and (on first use) each verifying share are decoded and
 * validated (RFC 9591 §3.1 DeserializeElement, through `suite.parseElement`) a single time and
 * kept as points. noble's signShare/verifyShare/aggregate re-decode and re-validate them per call.
 *
 * secp256k1-tr: the points are kept exactly as noble's `adjustPublic` (frostPubToEvenY) leaves
 * them: when the group key has odd Y, the group key and every verifying share are negated, so the
 * group key is the even-Y point BIP-340 verifiers lift from its x-only encoding.
 *
 * A `KeyCache` is an owned object: whoever wants prepared keys reused across requests (the
 * coordinator's signing driver) creates one and passes it where keys are prepared.
 */
import type { FrostPublic } from '@noble/curves/abstract/frost.js';
import { ProtocolError } from '../errors.js';
import { type PublicKeyPackage, toFrostPublic } from '../keys.js';
import { type GroupPoint, getSuite, type Suite } from '../suites.js';
import { isSecp256k1, mulPublic } from './group.js';
import { type FixedWindowTable, fixedWindowTable, mulFixedPublic } from './secp256k1-fixed.js';

/** A key ready for signing-session arithmetic. Immutable apart from its lazily filled caches. */
export interface PreparedKey {
  readonly suite: Suite;
  /** RFC 9591 MIN_PARTICIPANTS / MAX_PARTICIPANTS of the key. */
  readonly signers: { readonly min: number; readonly max: number };
  /** Group public key as signing uses it (even-Y for secp256k1-tr). */
  readonly groupKey: GroupPoint;
  /** SerializeElement(groupKey): what the binding-factor input and the challenge hash. */
  readonly groupKeyBytes: Uint8Array;
  /**
   * secp256k1-tr: the stored group key has odd Y, so signing uses its negation and every share of
   * it (noble's adjustPublic / adjustSecret). Always false on the other suites.
   */
  readonly negated: boolean;
  /** True when `identifier` has a verifying share in the package (not decoded by this). */
  hasVerifyingShare(identifier: string): boolean;
  /**
   * The verifying share of `identifier`, validated on first use and kept (negated with the group
   * key for secp256k1-tr). Throws `invalid_point` (no culprit: the package is ours, not a peer's)
   * when the package holds an invalid element, `not_in_committee` when it holds none.
   */
  verifyingShare(identifier: string): GroupPoint;
  /**
   * k·groupKey for a public k (the aggregate check's c·PK), variable time: through a window table
   * once the key has signed often enough to amortize building it (see `PRECOMPUTE_AFTER`) —
   * secp256k1-fixed.ts's on secp256k1, noble's precomputed window elsewhere.
   */
  groupKeyTimes(k: bigint): GroupPoint;
}

/**
 * Sessions after which the group key gets a precomputed window table. c·PK is one of the
 * multiplications of the aggregate check; with a W=4 table it costs about a third, but the table
 * costs roughly ten multiplications to build and ~70–150 KB to hold, so a key earns one only once
 * it is clearly in regular use.
 */
export const PRECOMPUTE_AFTER = 8;
const PRECOMPUTE_WINDOW = 4;
type Secp256k1Cons = Parameters<typeof mulFixedPublic>[0];

type Precomputable = { precompute(windowSize: number, isLazy?: boolean): unknown };

/** Decodes `pub` (noble's identifier-keyed public package) for `suite`. */
export function prepareKey(suite: Suite, pub: FrostPublic): PreparedKey {
  const raw = pub.commitments[0];
  if (raw === undefined) throw new ProtocolError('invalid_encoding', 'public package has no group commitment');
  let groupKey = suite.parseElement(raw, 'group public key');
  let groupKeyBytes: Uint8Array = raw.slice();
  // secp256k1-tr (noble adjustPublic): an odd-Y group key and its shares are negated.
  const negated = suite.id === 'secp256k1-tr' && raw[0] === 0x03;
  if (negated) {
    groupKey = groupKey.negate();
    groupKeyBytes = groupKey.toBytes();
  }
  const encoded = new Map(Object.entries(pub.verifyingShares));
  const decoded = new Map<string, GroupPoint>();
  let uses = 0;
  let precomputed = false;
  let table: FixedWindowTable | undefined;
  return Object.freeze({
    suite,
    signers: Object.freeze({ min: pub.signers.min, max: pub.signers.max }),
    groupKey,
    groupKeyBytes,
    negated,
    hasVerifyingShare: (identifier: string) => encoded.has(identifier),
    verifyingShare(identifier: string) {
      let p = decoded.get(identifier);
      if (p === undefined) {
        const bytes = encoded.get(identifier);
        if (bytes === undefined) throw new ProtocolError('not_in_committee', `no verifying share for identifier ${identifier}`);
        p = suite.parseElement(bytes, `verifying share of ${identifier}`);
        if (negated) p = p.negate();
        decoded.set(identifier, p);
      }
      return p;
    },
    groupKeyTimes(k: bigint) {
      if (!precomputed && ++uses >= PRECOMPUTE_AFTER) {
        if (isSecp256k1(suite)) table = fixedWindowTable(groupKey, PRECOMPUTE_WINDOW, 256);
        else (groupKey as unknown as Precomputable).precompute(PRECOMPUTE_WINDOW, true);
        precomputed = true;
      }
      if (table) return mulFixedPublic(suite.Point as unknown as Secp256k1Cons, table, k);
      return mulPublic(suite, groupKey, k);
    },
  });
}

/** The prepared form of a Glacis public key package (decoded afresh: see `KeyCache` to reuse). */
export function preparePublicKeyPackage(pkg: PublicKeyPackage): PreparedKey {
  return prepareKey(getSuite(pkg.suite), toFrostPublic(pkg));
}

/** Prepared keys reused across sessions and requests, found by content. */
export interface KeyCache {
  /** The prepared form of `pkg`: from the cache when a package with the same contents is in it. */
  get(pkg: PublicKeyPackage): PreparedKey;
  /** Keys held now (at most `capacity`). */
  readonly size: number;
}

/** Default bound of a `KeyCache`: a few KB per key, plus the window table of a busy key. */
export const KEY_CACHE_CAPACITY = 64;

/**
 * Everything `preparePublicKeyPackage` reads, so equal fingerprints mean equal prepared keys.
 * Content, not object identity: a coordinator rebuilds packages per request from its store, and a
 * caller mutating a package in place gets a fresh decode rather than a stale hit.
 */
function fingerprint(pkg: PublicKeyPackage): string {
  const parts = [pkg.suite, String(pkg.threshold), String(pkg.committee.length), pkg.groupCommitment[0] ?? ''];
  for (const [party, hex] of Object.entries(pkg.verifyingShares)) parts.push(`${party}=${hex}`);
  return parts.join('\n');
}

/** A least-recently-used cache of prepared keys holding at most `capacity` of them. */
export function createKeyCache(capacity = KEY_CACHE_CAPACITY): KeyCache {
  const keys = new Map<string, PreparedKey>();
  return {
    get(pkg) {
      const fp = fingerprint(pkg);
      const hit = keys.get(fp);
      if (hit !== undefined) {
        keys.delete(fp); // refresh LRU position
        keys.set(fp, hit);
        return hit;
      }
      const key = preparePublicKeyPackage(pkg);
      keys.set(fp, key);
      if (keys.size > capacity) {
        const oldest = keys.keys().next().value;
        if (oldest !== undefined) keys.delete(oldest);
      }
      return key;
    },
    get size() {
      return keys.size;
    },
  };
}
