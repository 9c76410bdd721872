/**
 * The coordinator's side of one FROST signing session (RFC 9591 §5.3), sans-IO: collect nonce
 * commitments, fix the signing package, collect signature shares, aggregate and verify. Holds only
 * public data. On an invalid aggregate it names every party whose share is invalid.
 *
 * Commitments arrive parsed (`parseNonceCommitment`, where they entered the coordinator) and the
 * key prepared once per key (a `KeyCache`, when the caller passes one). The session — binding
 * factors, group commitment, challenge — is computed once, by `prepare` after the package has been
 * sent (while the signers work), or else at `finish`; `finish` then checks the group signature a single time and looks at individual
 * shares only if that fails (RFC 9591 §5.4) — output byte-identical to noble's `aggregate`,
 * without its per-share rebuilding of the session. The arithmetic is the fast path's (fast/).
 *
 * An intent that yields several messages (a PSBT with k listed inputs) is one session over k
 * messages: each signer gives one commitment and one share per message, every message is its own
 * RFC 9591 session over the same signers, and the session succeeds only when all k signatures do.
 *
 * `deferred`: the sessions' arithmetic is left to another thread — `job()` hands it out as plain
 * data (aggregation-job.ts), `conclude(verdict)` takes the answer; `finish` is `conclude` of the
 * same computation done here. Either way one function (`sessionVerdict`) reaches the verdict.
 */
import { fromHex } from '../bytes.js';
import { type Committee, makeCommittee } from '../committee.js';
import { ProtocolError } from '../errors.js';
import {
  type KeyCache,
  type NonceCommitment,
  type PreparedKey,
  portableNonceCommitment,
  preparePublicKeyPackage,
  prepareSession,
  type SigningSession,
} from '../fast/index.js';
import type { Intent } from '../intent/schema.js';
import type { PublicKeyPackage } from '../keys.js';
import { getSuite, type Suite } from '../suites.js';
import type { Approval, MessageBody } from '../wire/messages.js';
import { type AggregationJob, type AggregationVerdict, sessionVerdict } from './aggregation-job.js';
import { commitmentSet } from './commitment-set.js';

export type AggregatorPhase =
  | { phase: 'awaiting_commitments'; commitments: Map<string, readonly NonceCommitment[]> }
  | { phase: 'awaiting_shares'; pkg: MessageBody<'signing_package'>; shares: Map<string, readonly Uint8Array[]> }
  | { phase: 'completed'; signatures: Uint8Array[] }
  | { phase: 'failed'; error: ProtocolError };

export interface AggregatorOptions {
  key: PublicKeyPackage;
  requestId: string;
  /** What the package asks the signers to sign; each signer derives the messages from it itself. */
  intent: Intent;
  /** The messages `intent` yields for this key (`signingMessages`), in order: what the shares must sign. */
  messages: readonly Uint8Array[];
  context?: unknown;
  approvals?: Approval[];
  /** Prepared keys to reuse (owned by the caller); without one the key is decoded for this session. */
  keys?: KeyCache;
  /** Leave the session's arithmetic to `job()` and `conclude()` (another thread) instead of `finish()`. */
  deferred?: boolean;
}

export interface Aggregator {
  readonly state: Readonly<AggregatorPhase>;
  /** Signers fixed by the package (empty before). */
  readonly signers: readonly string[];
  /** Records `partyId`'s commitments, one per message, parsed where they entered (`parseNonceCommitment`). */
  addCommitment(partyId: string, commitments: readonly NonceCommitment[]): void;
  /** Fixes the signing package over `signers` (default: every party that committed). */
  buildPackage(signers?: readonly string[]): MessageBody<'signing_package'>;
  /**
   * Computes the package's sessions now (binding factors, group commitment, challenge): call it once
   * the package has been sent, so the work overlaps the signers'. Idempotent; a no-op when
   * `deferred` (another thread computes them) or before the package. Otherwise `finish` does it.
   */
  prepare(): void;
  /** Records a signer's shares, one per message (hex); returns true once every signer's are in. */
  addShare(partyId: string, shares: readonly string[]): boolean;
  /** Aggregates and verifies: one signature per message. Throws `invalid_signature_share` naming every cheater. */
  finish(): Uint8Array[];
  /** Once every share is in: the aggregation as plain data, for `runAggregationJob` on another thread. */
  job(): AggregationJob;
  /** The verdict of `runAggregationJob(job())`: the signatures, or throws as `finish` does. */
  conclude(verdict: AggregationVerdict): Uint8Array[];
}

export function createAggregator(o: AggregatorOptions): Aggregator {
  const suite: Suite = getSuite(o.key.suite);
  const committee: Committee = makeCommittee(suite, o.key.committee, o.key.threshold);
  if (o.messages.length === 0) throw new ProtocolError('empty_message', 'nothing to sign');
  if (o.messages.some((m) => m.length === 0)) throw new ProtocolError('empty_message', 'refusing to sign an empty message');
  // The sessions are built from these messages and the aggregates checked against them: one snapshot.
  const messages = o.messages.map((m) => m.slice());
  const width = messages.length;
  let state: AggregatorPhase = { phase: 'awaiting_commitments', commitments: new Map() };
  // Share scalars per signer, one per message, beside the public state (which keeps the wire bytes).
  const scalars = new Map<string, bigint[]>();
  // The sessions of the package, one per message, or why none can exist (reported by finish, as aggregate_invalid).
  let sessions: SigningSession[] | Error | undefined;
  // The signers' parsed commitments (one per message), kept for `job()`.
  let chosen: ReadonlyMap<string, readonly NonceCommitment[]> = new Map();

  const closed = (what: string) => new ProtocolError('session_closed', `${what}: session is ${state.phase}`);
  const idOf = (p: string) => committee.identifierOf.get(p) as string;

  function startSessions(
    commitments: ReadonlyMap<string, readonly NonceCommitment[]>,
    signers: readonly string[],
  ): SigningSession[] | Error {
    try {
      const key: PreparedKey = o.keys ? o.keys.get(o.key) : preparePublicKeyPackage(o.key);
      return messages.map((message, i) =>
        prepareSession(
          key,
          signers.map((p) => ({
            identifier: idOf(p),
            commitment: (commitments.get(p) as readonly NonceCommitment[])[i] as NonceCommitment,
          })),
          message,
        ),
      );
    } catch (e) {
      // A key package or session no signature can come out of: nobody provably cheated.
      return e as Error;
    }
  }

  /** The session state once every share is in (else why not). */
  function complete(what: string): Extract<AggregatorPhase, { phase: 'awaiting_shares' }> {
    if (state.phase !== 'awaiting_shares') throw closed(what);
    const s = state;
    const missing = s.pkg.commitments.filter((c) => !s.shares.has(c.partyId)).map((c) => c.partyId);
    if (missing.length > 0) throw new ProtocolError('missing_signature_share', `no share yet from ${missing.join(', ')}`);
    return s;
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
    addCommitment(partyId, cs) {
      if (state.phase !== 'awaiting_commitments') throw closed('commitment');
      if (!committee.has(partyId)) throw new ProtocolError('not_in_committee', `${partyId} is not in the committee of key ${o.key.keyId}`);
      if (cs.length !== width)
        throw new ProtocolError('commitment_count_mismatch', `${cs.length} commitment(s) from ${partyId} for ${width} message(s)`);
      for (const c of cs) if (c.suite !== suite.id) throw new ProtocolError('wrong_suite', `a ${c.suite} commitment for a ${suite.id} key`);
      state.commitments.set(partyId, [...cs]);
    },
    buildPackage(signers) {
      if (state.phase !== 'awaiting_commitments') throw closed('package');
      const held = state.commitments;
      const signersOf = [...(signers ?? held.keys())].sort();
      // A party listed twice would count twice towards the threshold.
      const twice = signersOf.find((p, i) => signersOf[i + 1] === p);
      if (twice !== undefined) throw new ProtocolError('duplicate_identifier', `${twice} appears twice among the signers`);
      if (signersOf.length < committee.threshold)
        throw new ProtocolError('too_few_signers', `${signersOf.length} signers, threshold is ${committee.threshold}`);
      const commitments: MessageBody<'signing_package'>['commitments'] = [];
      for (const p of signersOf) {
        const cs = held.get(p);
        if (!cs) throw new ProtocolError('missing_own_commitment', `no commitment from ${p}`);
        commitments.push({ partyId: p, ...commitmentSet(cs.map((c) => c.wire)) });
      }
      const pkg: MessageBody<'signing_package'> = {
        keyId: o.key.keyId,
        requestId: o.requestId,
        intent: o.intent,
        approvals: o.approvals ?? [],
        commitments,
      };
      if (o.context !== undefined) pkg.context = o.context;
      chosen = new Map(signersOf.map((p) => [p, held.get(p) as readonly NonceCommitment[]]));
      state = { phase: 'awaiting_shares', pkg, shares: new Map() };
      return pkg;
    },
    prepare() {
      if (o.deferred || state.phase !== 'awaiting_shares' || sessions !== undefined) return;
      sessions = startSessions(chosen, [...chosen.keys()]);
    },
    addShare(partyId, shareHexes) {
      if (state.phase !== 'awaiting_shares') throw closed('share');
      if (!state.pkg.commitments.some((c) => c.partyId === partyId)) {
        throw new ProtocolError('unexpected_signature_share', `${partyId} is not a signer of this session`);
      }
      // A wrong number of shares, or a malformed scalar, is as provably wrong as an invalid share.
      if (shareHexes.length !== width) {
        throw new ProtocolError('invalid_signature_share', `${partyId} sent ${shareHexes.length} share(s) for ${width} message(s)`, [
          partyId,
        ]);
      }
      const bytes = shareHexes.map((h) => fromHex(h, 'share'));
      const zs = bytes.map((b) => suite.parseScalar(b, `signature share from ${partyId}`, { culprit: partyId }));
      if (state.shares.has(partyId)) throw new ProtocolError('unexpected_signature_share', `${partyId} already sent its share`);
      state.shares.set(partyId, bytes);
      scalars.set(partyId, zs);
      return state.shares.size === state.pkg.commitments.length;
    },
    finish() {
      complete('finish');
      // Prepared once the package left, or (not prepared, or deferred but finished here after all) now.
      const prepared = sessions ?? startSessions(chosen, [...chosen.keys()]);
      return this.conclude(
        sessionVerdict(
          () => {
            if (prepared instanceof Error) throw prepared;
            return prepared;
          },
          scalars,
          committee.identifierOf,
          committee.partyOf,
        ),
      );
    },
    job() {
      const s = complete('job');
      return {
        key: o.key,
        messages,
        signers: s.pkg.commitments.map((c) => ({
          partyId: c.partyId,
          commitments: (chosen.get(c.partyId) as readonly NonceCommitment[]).map((x) => portableNonceCommitment(x)),
          shares: scalars.get(c.partyId) as bigint[],
        })),
      };
    },
    conclude(verdict) {
      complete('finish');
      if (verdict.ok) {
        state = { phase: 'completed', signatures: verdict.signatures };
        return verdict.signatures;
      }
      return fail(
        verdict.culprits.length > 0
          ? new ProtocolError('invalid_signature_share', verdict.reason, verdict.culprits)
          : new ProtocolError('aggregate_invalid', verdict.reason),
      );
    },
  };
}
