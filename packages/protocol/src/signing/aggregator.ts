/**
 * The coordinator's side of one FROST signing session (RFC 9591 §5.3), sans-IO: collect nonce
 * commitments, fix the signing package, collect signature shares, aggregate and verify. Holds only
 * public data. On an invalid aggregate it names every party whose share is invalid.
 *
 * Each commitment is decoded and validated once, when it arrives (commitment-points.ts); the key
 * once per key (key-cache.ts); the session's binding factors, group commitment and challenge once
 * (signing-context.ts). `finish` then checks the group signature a single time and looks at
 * individual shares only if that fails (RFC 9591 §5.4; aggregate-shares.ts) — output
 * byte-identical to noble's `aggregate`, without its per-share rebuilding of the session.
 */
import type { NonceCommitments } from '@noble/curves/abstract/frost.js';
import { fromHex, toHex } from '../bytes.js';
import { type Committee, makeCommittee } from '../committee.js';
import { ProtocolError } from '../errors.js';
import type { PublicKeyPackage } from '../keys.js';
import { getSuite, type Suite } from '../suites.js';
import type { Approval, MessageBody, NonceCommitmentWire } from '../wire/messages.js';
import { type AggregateOutcome, aggregateSignatureShares } from './aggregate-shares.js';
import { type ParsedCommitment, parseNonceCommitment } from './commitment-points.js';
import { preparedKeyFor } from './key-cache.js';
import { createSigningContext } from './signing-context.js';

export type AggregatorPhase =
  | { phase: 'awaiting_commitments'; commitments: Map<string, NonceCommitmentWire> }
  | { phase: 'awaiting_shares'; pkg: MessageBody<'signing_package'>; list: NonceCommitments[]; shares: Map<string, Uint8Array> }
  | { phase: 'completed'; signature: Uint8Array }
  | { phase: 'failed'; error: ProtocolError };

export interface AggregatorOptions {
  key: PublicKeyPackage;
  requestId: string;
  message: Uint8Array;
  context?: unknown;
  approvals?: Approval[];
}

export interface Aggregator {
  readonly state: Readonly<AggregatorPhase>;
  /** Signers fixed by the package (empty before). */
  readonly signers: readonly string[];
  /** Records `partyId`'s commitment for this session (validated; culprit on a bad point). */
  addCommitment(partyId: string, c: NonceCommitmentWire): void;
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
  // Decoded commitments and share scalars, beside the public state (which keeps its wire form).
  const points = new Map<string, ParsedCommitment>();
  const scalars = new Map<string, bigint>();

  const closed = (what: string) => new ProtocolError('session_closed', `${what}: session is ${state.phase}`);

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
      points.set(partyId, parseNonceCommitment(suite, c, `${partyId} `, partyId));
      state.commitments.set(partyId, { hiding: c.hiding, binding: c.binding });
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
      const list: NonceCommitments[] = [];
      for (const p of chosen) {
        const c = state.commitments.get(p);
        if (!c) throw new ProtocolError('missing_own_commitment', `no commitment from ${p}`);
        commitments.push({ partyId: p, hiding: c.hiding, binding: c.binding });
        list.push({ identifier: committee.identifierOf.get(p) as string, hiding: fromHex(c.hiding), binding: fromHex(c.binding) });
      }
      const pkg: MessageBody<'signing_package'> = {
        keyId: o.key.keyId,
        requestId: o.requestId,
        message: toHex(message),
        approvals: o.approvals ?? [],
        commitments,
      };
      if (o.context !== undefined) pkg.context = o.context;
      state = { phase: 'awaiting_shares', pkg, list, shares: new Map() };
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
      return state.shares.size === state.list.length;
    },
    finish() {
      if (state.phase !== 'awaiting_shares') throw closed('finish');
      const s = state;
      const missing = s.pkg.commitments.filter((c) => !s.shares.has(c.partyId)).map((c) => c.partyId);
      if (missing.length > 0) throw new ProtocolError('missing_signature_share', `no share yet from ${missing.join(', ')}`);
      const idOf = (p: string) => committee.identifierOf.get(p) as string;
      let out: AggregateOutcome;
      try {
        const ctx = createSigningContext(
          preparedKeyFor(o.key),
          s.pkg.commitments.map((c) => ({ identifier: idOf(c.partyId), commitment: points.get(c.partyId) as ParsedCommitment })),
          message,
        );
        out = aggregateSignatureShares(ctx, new Map([...scalars].map(([p, z]) => [idOf(p), z])));
      } catch (e) {
        // A key package or session no signature can come out of: nobody provably cheated.
        const error = new ProtocolError('aggregate_invalid', `aggregation failed: ${(e as Error).message}`, [], { cause: e });
        state = { phase: 'failed', error };
        throw error;
      }
      if (out.ok) {
        state = { phase: 'completed', signature: out.signature };
        return out.signature;
      }
      const culprits = out.cheaters.map((id) => committee.partyOf.get(id) ?? id);
      const error =
        culprits.length > 0
          ? new ProtocolError('invalid_signature_share', `invalid signature share from ${culprits.join(', ')}`, culprits)
          : new ProtocolError('aggregate_invalid', 'aggregate signature invalid although every share is valid: inconsistent key package');
      state = { phase: 'failed', error };
      throw error;
    },
  };
}
