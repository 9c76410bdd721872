/**
 * One party's side of FROST signing (RFC 9591 §5.1–5.2), sans-IO: it issues nonce commitments,
 * checks a signing package against everything the party knows, consumes the nonce and returns the
 * signature share. A nonce is consumed before the share is computed, so no code path can use it
 * twice; the driver must make that consumption durable before the share leaves the process.
 */
import type { NonceCommitments, Nonces } from '@noble/curves/abstract/frost.js';
import { fromHex, type Rng, toHex } from '../bytes.js';
import { type Committee, makeCommittee } from '../committee.js';
import { ProtocolError } from '../errors.js';
import type { KeyShare } from '../keys.js';
import { getSuite, type Suite } from '../suites.js';
import type { MessageBody, NonceCommitmentWire } from '../wire/messages.js';

/** The result of signing one package. */
export interface SignedShare {
  /** The signature share (SerializeScalar). */
  share: Uint8Array;
  /** The commitment whose nonce was consumed; record it durably before sending `share`. */
  consumed: NonceCommitmentWire;
}

export interface Signer {
  readonly keyId: string;
  /** Unused commitments this signer holds nonces for. */
  readonly pending: number;
  /** RFC 9591 §5.1 commit(): a fresh nonce pair, kept here; its commitments go to the coordinator. */
  commit(): NonceCommitmentWire;
  /** Validates `pkg` (see module doc), consumes the nonce and returns the share. */
  sign(pkg: MessageBody<'signing_package'>): SignedShare;
  /** Forgets every unused nonce (e.g. on shutdown or when the coordinator restarts). */
  discardAll(): void;
}

const commitmentKey = (c: { hiding: string; binding: string }) => `${c.hiding}:${c.binding}`;

/** A signer for one key share. `rng` feeds RFC 9591 nonce_generate (hashed with the share). */
export function createSigner(share: KeyShare, rng: Rng, opts: { rememberConsumed?: number; maxPending?: number } = {}): Signer {
  const suite: Suite = getSuite(share.public.suite);
  const committee: Committee = makeCommittee(suite, share.public.committee, share.public.threshold);
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

  return {
    keyId: share.keyId,
    get pending() {
      return pool.size;
    },
    commit() {
      const { nonces, commitments } = suite.frost.commit(share.frostSecret, rng);
      const wire = { hiding: toHex(commitments.hiding), binding: toHex(commitments.binding) };
      pool.set(commitmentKey(wire), nonces);
      if (pool.size > maxPending) {
        const [oldestKey, oldest] = pool.entries().next().value as [string, Nonces];
        oldest.hiding.fill(0);
        oldest.binding.fill(0);
        pool.delete(oldestKey);
      }
      return wire;
    },
    sign(pkg) {
      if (pkg.keyId !== share.keyId)
        throw new ProtocolError('wrong_key', `signing package for key ${pkg.keyId}, this signer holds ${share.keyId}`);
      const message = fromHex(pkg.message, 'message');
      if (message.length === 0) throw new ProtocolError('empty_message', 'refusing to sign an empty message');
      const list = pkg.commitments;
      if (list.length < committee.threshold) {
        throw new ProtocolError('too_few_signers', `${list.length} signers, threshold is ${committee.threshold}`);
      }
      if (list.length > committee.members.length)
        throw new ProtocolError('too_many_signers', `${list.length} signers for ${committee.members.length} parties`);
      const seen = new Set<string>();
      const nobleList: NonceCommitments[] = [];
      let own: NonceCommitmentWire | undefined;
      for (const c of list) {
        if (!committee.has(c.partyId))
          throw new ProtocolError('not_in_committee', `${c.partyId} is not in the committee of key ${share.keyId}`);
        if (seen.has(c.partyId)) throw new ProtocolError('duplicate_identifier', `${c.partyId} appears twice in the signing package`);
        seen.add(c.partyId);
        const hiding = fromHex(c.hiding, `${c.partyId}.hiding`);
        const binding = fromHex(c.binding, `${c.partyId}.binding`);
        suite.parseElement(hiding, `${c.partyId} hiding commitment`);
        suite.parseElement(binding, `${c.partyId} binding commitment`);
        nobleList.push({ identifier: committee.identifierOf.get(c.partyId) as string, hiding, binding });
        if (c.partyId === share.partyId) own = { hiding: c.hiding, binding: c.binding };
      }
      if (!own) throw new ProtocolError('missing_own_commitment', `signing package has no commitment of ${share.partyId}`);
      const key = commitmentKey(own);
      if (consumed.has(key)) throw new ProtocolError('nonce_reused', 'this commitment was already used for a signature share');
      const nonces = pool.get(key);
      if (!nonces)
        throw new ProtocolError('unknown_commitment', 'the package assigns this party a commitment it never issued (or discarded)');
      // SECURITY: consume before computing, so an exception below cannot leave the nonce usable.
      pool.delete(key);
      markConsumed(key);
      const shareBytes = suite.frost.signShare(share.frostSecret, share.frostPublic, nonces, nobleList, message);
      return { share: shareBytes, consumed: own };
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
