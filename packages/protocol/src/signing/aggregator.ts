/**
 * The coordinator's side of one FROST signing session (RFC 9591 §5.3), sans-IO: collect nonce
 * commitments, fix the signing package, collect signature shares, aggregate and verify. Holds only
 * public data. On an invalid aggregate it names every party whose share is invalid.
 *
 * Commitments arrive parsed (`parseNonceCommitment`, where they entered the coordinator) and the
 * key prepared once per key (a `KeyCache`, when the caller passes one). The session — binding
 * factors, group commitment, challenge — is computed once, when the package is fixed, while the
 * signers work; `finish` then checks the group signature a single time and looks at individual
 * shares only if that fails (RFC 9591 §5.4) — output byte-identical to noble's `aggregate`,
 * without its per-share rebuilding of the session. The arithmetic is the fast path's (fast/).
 */
import { fromHex, toHex } from '../bytes.js';
import { type Committee, makeCommittee } from '../committee.js';
import { ProtocolError } from '../errors.js';
import {
  type AggregateOutcome,
  type KeyCache,
  type NonceCommitment,
  type PreparedKey,
  preparePublicKeyPackage,
  prepareSession,
  type SigningSession,
} from '../fast/index.js';
import type { PublicKeyPackage } from '../keys.js';
import { getSuite, type Suite } from '../suites.js';
import type { Approval, MessageBody } from '../wire/messages.js';

export type AggregatorPhase =
  | { phase: 'awaiting_commitments'; commitments: Map<string, NonceCommitment> }
  | { phase: 'awaiting_shares'; pkg: MessageBody<'signing_package'>; shares: Map<string, Uint8Array> }
  | { phase: 'completed'; signature: Uint8Array }
  | { phase: 'failed'; error: ProtocolError };

export interface AggregatorOptions {
  key: PublicKeyPackage;
  requestId: string;
  message: Uint8Array;
  context?: unknown;
  approvals?: Approval[];
  /** Prepared keys to reuse (owned by the caller); without one the key is decoded for this session. */
  keys?: KeyCache;
}

export interface Aggregator {
  readonly state: Readonly<AggregatorPhase>;
  /** Signers fixed by the package (empty before). */
  readonly signers: readonly string[];
  /** Records `partyId`'s commitment, parsed where it entered (`parseNonceCommitment`). */
  addCommitment(partyId: string, c: NonceCommitment): void;
  /** Fixes the signing package over `signers` (default: every party that committed). */
  buildPackage(signers?: readonly string[]): MessageBody<'signing_package'>;
  /** Records a share; returns true once every signer's share is in. */
  addShare(partyId: string, shareHex: string): boolean;
  /** Aggregates and verifies. Throws `invalid_signature_share` naming every cheater. */
  finish(): Uint8Array;
}

export function createAggregator(o: AggregatorOptions): Aggregator {
  const suite: Suite = getSuite(o.key.suite);
  const committee: Committee = makeCommittee(suite, o.key.committee, o.key.threshold);
  if (o.message.length === 0) throw new ProtocolError('empty_message', 'refusing to sign an empty message');
  // The package is built from this message and the aggregate checked against it: one snapshot.
  const message = o.message.slice();
  let state: AggregatorPhase = { phase: 'awaiting_commitments', commitments: new Map() };
  // Share scalars, beside the public state (which keeps the wire bytes).
  const scalars = new Map<string, bigint>();
  // The session of the package, or why none can exist (reported by finish, as aggregate_invalid).
  let session: SigningSession | ProtocolError | undefined;

  const closed = (what: string) => new ProtocolError('session_closed', `${what}: session is ${state.phase}`);
  const idOf = (p: string) => committee.identifierOf.get(p) as string;

  function startSession(commitments: ReadonlyMap<string, NonceCommitment>, signers: readonly string[]): SigningSession | ProtocolError {
    try {
      const key: PreparedKey = o.keys ? o.keys.get(o.key) : preparePublicKeyPackage(o.key);
      return prepareSession(
        key,
        signers.map((p) => ({ identifier: idOf(p), commitment: commitments.get(p) as NonceCommitment })),
        message,
      );
    } catch (e) {
      // A key package or session no signature can come out of: nobody provably cheated.
      return new ProtocolError('aggregate_invalid', `aggregation failed: ${(e as Error).message}`, [], { cause: e });
    }
  }

  function fail(error: ProtocolError): never {
    state = { phase: 'failed', error };
    throw error;
  }

  return {
    get state() {
      return state;
    },
    get signers() {
      return state.phase === 'awaiting_shares' ? state.pkg.commitments.map((c) => c.partyId) : [];
    },
    addCommitment(partyId, c) {
      if (state.phase !== 'awaiting_commitments') throw closed('commitment');
      if (!committee.has(partyId)) throw new ProtocolError('not_in_committee', `${partyId} is not in the committee of key ${o.key.keyId}`);
      if (c.suite !== suite.id) throw new ProtocolError('wrong_suite', `a ${c.suite} commitment for a ${suite.id} key`);
      state.commitments.set(partyId, c);
    },
    buildPackage(signers) {
      if (state.phase !== 'awaiting_commitments') throw closed('package');
      const chosen = [...(signers ?? state.commitments.keys())].sort();
      // A party listed twice would count twice towards the threshold.
      const twice = chosen.find((p, i) => chosen[i + 1] === p);
      if (twice !== undefined) throw new ProtocolError('duplicate_identifier', `${twice} appears twice among the signers`);
      if (chosen.length < committee.threshold)
        throw new ProtocolError('too_few_signers', `${chosen.length} signers, threshold is ${committee.threshold}`);
      const commitments: MessageBody<'signing_package'>['commitments'] = [];
      for (const p of chosen) {
        const c = state.commitments.get(p);
        if (!c) throw new ProtocolError('missing_own_commitment', `no commitment from ${p}`);
        commitments.push({ partyId: p, hiding: c.wire.hiding, binding: c.wire.binding });
      }
      const pkg: MessageBody<'signing_package'> = {
        keyId: o.key.keyId,
        requestId: o.requestId,
        message: toHex(message),
        approvals: o.approvals ?? [],
        commitments,
      };
      if (o.context !== undefined) pkg.context = o.context;
      session = startSession(state.commitments, chosen);
      state = { phase: 'awaiting_shares', pkg, shares: new Map() };
      return pkg;
    },
    addShare(partyId, shareHex) {
      if (state.phase !== 'awaiting_shares') throw closed('share');
      if (!state.pkg.commitments.some((c) => c.partyId === partyId)) {
        throw new ProtocolError('unexpected_signature_share', `${partyId} is not a signer of this session`);
      }
      const bytes = fromHex(shareHex, 'share');
      // A malformed scalar is as provably wrong as an invalid one.
      const z = suite.parseScalar(bytes, `signature share from ${partyId}`, { culprit: partyId });
      if (state.shares.has(partyId)) throw new ProtocolError('unexpected_signature_share', `${partyId} already sent its share`);
      state.shares.set(partyId, bytes);
      scalars.set(partyId, z);
      return state.shares.size === state.pkg.commitments.length;
    },
    finish() {
      if (state.phase !== 'awaiting_shares') throw closed('finish');
      const s = state;
      const missing = s.pkg.commitments.filter((c) => !s.shares.has(c.partyId)).map((c) => c.partyId);
      if (missing.length > 0) throw new ProtocolError('missing_signature_share', `no share yet from ${missing.join(', ')}`);
      if (session === undefined || session instanceof ProtocolError) {
        return fail(session ?? new ProtocolError('aggregate_invalid', 'no session was prepared'));
      }
      let out: AggregateOutcome;
      try {
        out = session.aggregate(new Map([...scalars].map(([p, z]) => [idOf(p), z])));
      } catch (e) {
        return fail(new ProtocolError('aggregate_invalid', `aggregation failed: ${(e as Error).message}`, [], { cause: e }));
      }
      if (out.ok) {
        state = { phase: 'completed', signature: out.signature };
        return out.signature;
      }
      const culprits = out.cheaters.map((id) => committee.partyOf.get(id) ?? id);
      return fail(
        culprits.length > 0
          ? new ProtocolError('invalid_signature_share', `invalid signature share from ${culprits.join(', ')}`, culprits)
          : new ProtocolError('aggregate_invalid', 'aggregate signature invalid although every share is valid: inconsistent key package'),
      );
    },
  };
}
