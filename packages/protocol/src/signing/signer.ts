/**
 * One party's side of FROST signing (RFC 9591 §5.1–5.2), sans-IO: it issues nonce commitments,
 * checks a signing package against everything the party knows, consumes the nonce and returns the
 * signature share. A nonce is consumed before the share is computed, so no code path can use it
 * twice; the driver must make that consumption durable before the share leaves the process.
 *
 * The share is computed through the fast path (fast/): the key is prepared once per signer, each
 * peer commitment of a package is decoded and validated once (the signer's own it computed itself
 * and keeps decoded from commit()), and the session context is the one the coordinator's checks use —
 * byte-identical to noble's `signShare`, which would decode and check every commitment again.
 */
import type { Rng } from '../bytes.js';
import { type Committee, makeCommittee } from '../committee.js';
import { ProtocolError } from '../errors.js';
import {
  commitNonces,
  decodeOwnNonceCommitment,
  type NonceCommitment,
  parseNonceCommitment,
  prepareKey,
  prepareSession,
  prepareSignerSecret,
  type SignerCommitment,
} from '../fast/index.js';
import type { KeyShare } from '../keys.js';
import { getSuite, type Suite } from '../suites.js';
import type { MessageBody, NonceCommitmentWire } from '../wire/messages.js';
import { commitmentsOf } from './commitment-set.js';

/** The result of signing one package. */
export interface SignedShare {
  /** One signature share (SerializeScalar) per message, in message order. */
  shares: Uint8Array[];
  /** The commitments whose nonces were consumed, per message; record them durably before sending `shares`. */
  consumed: NonceCommitmentWire[];
}

/**
 * A package that passed every check, its nonces still unused: `sign()` consumes them and computes
 * the shares. Call it in the same turn as `prepare` (nothing may come between the checks and the
 * use); it throws `nonce_reused` if the nonces were consumed meanwhile.
 */
export interface PreparedSigning {
  /** Every commitment of this signer the package uses, per message. */
  readonly commitments: readonly NonceCommitmentWire[];
  sign(): SignedShare;
}

export interface Signer {
  readonly keyId: string;
  /** Unused commitments this signer holds nonces for. */
  readonly pending: number;
  /** RFC 9591 §5.1 commit(): a fresh nonce pair, kept here; its commitments go to the coordinator. */
  commit(): NonceCommitmentWire;
  /**
   * Checks `pkg` (see module doc) for `messages`, the messages this party computed itself from
   * `pkg.intent` (one per message, each with its own commitment of every signer), consuming
   * nothing.
   */
  prepare(pkg: MessageBody<'signing_package'>, messages: readonly Uint8Array[]): PreparedSigning;
  /** `prepare(pkg, messages).sign()`. */
  sign(pkg: MessageBody<'signing_package'>, messages: readonly Uint8Array[]): SignedShare;
  /** Forgets every unused nonce (e.g. on shutdown or when the coordinator restarts). */
  discardAll(): void;
  /**
   * A fresh nonce pair NOT kept here, for a party that keeps its nonces itself between runs (the
   * offline party seals them at rest). The caller owns the secret: it must store it durably
   * before publishing the commitment, and `adopt` it back to sign with it.
   */
  preprocess(): PreprocessedNonce;
  /**
   * Puts a nonce pair made by `preprocess` (in this run or an earlier one) into the pool, so a
   * package using `commitment` can be signed. Refused (`nonce_reused`) when this signer already
   * consumed that commitment.
   */
  adopt(entry: PreprocessedNonce): void;
}

/** A nonce pair and its public commitment, as `Signer.preprocess` makes it. SECRET: `nonces`. */
export interface PreprocessedNonce {
  commitment: NonceCommitmentWire;
  nonces: { hiding: Uint8Array; binding: Uint8Array };
}

const commitmentKey = (c: { hiding: string; binding: string }) => `${c.hiding}:${c.binding}`;

/**
 * A nonce pair in the pool. SECRET. `commitment` is the decoded commitment when this signer made
 * the pair in this run (`commit`); an adopted pair has only its bytes and is decoded when used.
 */
interface Nonces {
  readonly hiding: Uint8Array;
  readonly binding: Uint8Array;
  readonly commitment?: NonceCommitment;
}

/** A signer for one key share. `rng` feeds RFC 9591 nonce_generate (hashed with the share). */
export function createSigner(share: KeyShare, rng: Rng, opts: { rememberConsumed?: number; maxPending?: number } = {}): Signer {
  const suite: Suite = getSuite(share.public.suite);
  const committee: Committee = makeCommittee(suite, share.public.committee, share.public.threshold);
  const key = prepareKey(suite, share.frostPublic);
  const secret = prepareSignerSecret(key, share.frostSecret);
  const secretScalar = suite.Fn.fromBytes(share.frostSecret.signingShare);
  const pool = new Map<string, Nonces>();
  // Consumed commitments, remembered so a replayed package gets `nonce_reused`, not a vaguer code.
  const consumed = new Set<string>();
  const rememberConsumed = opts.rememberConsumed ?? 10_000;
  // Commitments handed out but never used (the coordinator picked others) must not pile up.
  const maxPending = opts.maxPending ?? 4096;

  function markConsumed(key: string): void {
    consumed.add(key);
    if (consumed.size > rememberConsumed) {
      const oldest = consumed.values().next().value;
      if (oldest !== undefined) consumed.delete(oldest);
    }
  }

  function prepare(pkg: MessageBody<'signing_package'>, messages: readonly Uint8Array[]): PreparedSigning {
    if (pkg.keyId !== share.keyId)
      throw new ProtocolError('wrong_key', `signing package for key ${pkg.keyId}, this signer holds ${share.keyId}`);
    if (messages.length === 0) throw new ProtocolError('empty_message', 'nothing to sign');
    for (const m of messages) if (m.length === 0) throw new ProtocolError('empty_message', 'refusing to sign an empty message');
    const list = pkg.commitments;
    if (list.length < committee.threshold) {
      throw new ProtocolError('too_few_signers', `${list.length} signers, threshold is ${committee.threshold}`);
    }
    if (list.length > committee.members.length)
      throw new ProtocolError('too_many_signers', `${list.length} signers for ${committee.members.length} parties`);
    const seen = new Set<string>();
    // One RFC 9591 commitment list per message, every signer in each.
    const perMessage: SignerCommitment[][] = messages.map(() => []);
    let own: NonceCommitmentWire[] | undefined;
    for (const c of list) {
      if (!committee.has(c.partyId))
        throw new ProtocolError('not_in_committee', `${c.partyId} is not in the committee of key ${share.keyId}`);
      if (seen.has(c.partyId)) throw new ProtocolError('duplicate_identifier', `${c.partyId} appears twice in the signing package`);
      seen.add(c.partyId);
      const set = commitmentsOf(c);
      if (set.length !== messages.length) {
        throw new ProtocolError(
          'commitment_count_mismatch',
          `${c.partyId} has ${set.length} commitment(s) in the package; the intent yields ${messages.length} message(s)`,
        );
      }
      const identifier = committee.identifierOf.get(c.partyId) as string;
      const mine = c.partyId === share.partyId;
      for (const [i, wire] of set.entries()) {
        // Decoded and validated once. No culprit: the coordinator assembled this package, and
        // naming the party would let a coordinator frame an honest one. Our own commitment, when
        // it is one we hold nonces for, we computed ourselves: kept from commit(), or decoded.
        const held = mine ? pool.get(commitmentKey(wire)) : undefined;
        const parsed = held
          ? (held.commitment ?? decodeOwnNonceCommitment(suite, wire))
          : parseNonceCommitment(suite, wire, undefined, c.partyId);
        perMessage[i]?.push({ identifier, commitment: parsed });
      }
      if (mine) own = set;
    }
    if (!own) throw new ProtocolError('missing_own_commitment', `signing package has no commitment of ${share.partyId}`);
    const ownKeys = own.map(commitmentKey);
    if (new Set(ownKeys).size !== ownKeys.length)
      throw new ProtocolError('nonce_reused', 'the package gives this party one commitment twice');
    for (const k of ownKeys) {
      if (consumed.has(k)) throw new ProtocolError('nonce_reused', 'this commitment was already used for a signature share');
      if (!pool.has(k))
        throw new ProtocolError('unknown_commitment', 'the package assigns this party a commitment it never issued (or discarded)');
    }
    const ownWires = own;
    return {
      commitments: ownWires,
      sign() {
        const nonces: Nonces[] = [];
        for (const k of ownKeys) {
          const n = pool.get(k);
          if (consumed.has(k) || !n) throw new ProtocolError('nonce_reused', 'this commitment was used since the package was checked');
          nonces.push(n);
        }
        // SECURITY: consume every nonce before computing, so an exception below cannot leave one usable.
        for (const k of ownKeys) {
          pool.delete(k);
          markConsumed(k);
        }
        try {
          // The pool is keyed by the commitment commit() derived from these nonces, so finding
          // them under `own` is noble's "commitment matches the nonces" check, without recomputing it.
          const shares = messages.map((message, i) =>
            prepareSession(key, perMessage[i] as SignerCommitment[], message).signShare(secret, {
              hiding: suite.Fn.fromBytes((nonces[i] as Nonces).hiding),
              binding: suite.Fn.fromBytes((nonces[i] as Nonces).binding),
            }),
          );
          return { shares, consumed: ownWires.map((c) => ({ hiding: c.hiding, binding: c.binding })) };
        } finally {
          for (const n of nonces) {
            n.hiding.fill(0);
            n.binding.fill(0);
          }
        }
      },
    };
  }

  return {
    keyId: share.keyId,
    get pending() {
      return pool.size;
    },
    commit() {
      const { nonces, commitment } = commitNonces(suite, secretScalar, rng);
      const wire = { hiding: commitment.wire.hiding, binding: commitment.wire.binding };
      pool.set(commitmentKey(wire), { hiding: nonces.hiding, binding: nonces.binding, commitment });
      if (pool.size > maxPending) {
        const [oldestKey, oldest] = pool.entries().next().value as [string, Nonces];
        oldest.hiding.fill(0);
        oldest.binding.fill(0);
        pool.delete(oldestKey);
      }
      return wire;
    },
    prepare,
    sign: (pkg, messages) => prepare(pkg, messages).sign(),
    preprocess() {
      const { nonces, commitment } = commitNonces(suite, secretScalar, rng);
      return {
        commitment: { hiding: commitment.wire.hiding, binding: commitment.wire.binding },
        nonces: { hiding: nonces.hiding, binding: nonces.binding },
      };
    },
    adopt(entry) {
      const k = commitmentKey(entry.commitment);
      if (consumed.has(k)) throw new ProtocolError('nonce_reused', 'this commitment was already used for a signature share');
      pool.set(k, { hiding: entry.nonces.hiding.slice(), binding: entry.nonces.binding.slice() });
    },
    discardAll() {
      for (const n of pool.values()) {
        n.hiding.fill(0);
        n.binding.fill(0);
      }
      pool.clear();
    },
  };
}
