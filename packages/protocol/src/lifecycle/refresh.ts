/**
 * Share refresh (proactive secret sharing, Herzberg et al., CRYPTO '95; frost-rs
 * `keys::refresh::refresh_dkg_*`): every member's share is replaced, the group public key stays.
 * It is a DKG among the whole committee whose secret is zero:
 *
 *   round 1  member i broadcasts φ_{i,1} … φ_{i,t−1} = a_{i,k}·G for a random polynomial
 *            f_i(x) = Σ_{k≥1} a_{i,k}·x^k (constant term 0; its commitment φ_{i,0} is the identity,
 *            left off the wire because SerializeElement cannot encode it, see commitments.ts);
 *   round 2  once every round 1 is in, i hashes the transcript (key, session, predecessor, every
 *            package) and sends each member j f_i(x_j), end-to-end encrypted, with that hash;
 *   derive   j checks every f_i(x_j) against i's commitment (RFC 9591 App. C.2 vss_verify, one
 *            batch, exact per dealer on failure) and computes
 *              s'_j  = s_j + Σ_i f_i(x_j)
 *              Φ'_k  = Φ_k + Σ_i φ_{i,k}          (so Φ'_0 = Φ_0: same group key)
 *              Y'_m  = Y_m + Σ_k (Σ_i φ_{i,k})·x_m^k  for every member m
 *            checks Φ'_0 = Φ_0 and s'_j·G = Y'_j, and signs a `lifecycle_confirm`.
 *
 * The new share is a `PendingSuccessor`: it becomes live only once every member's confirmation is
 * in and agrees (`activateSuccessor`). No proof of knowledge: with the constant term fixed to the
 * identity, there is no rogue key to prevent (frost-rs skips the check too).
 *
 * Blame: a wrong number of commitments (`lifecycle_invalid_commitment`), a bad element
 * (`invalid_point`), a box that does not open (`decryption_failed`), a non-canonical scalar
 * (`invalid_scalar`), a share that fails its dealer's commitment (`lifecycle_invalid_share`) and two
 * different signed packages for one slot (`lifecycle_equivocation`) each name the sender. A
 * transcript mismatch (`lifecycle_transcript_mismatch`) names nobody: the sender or the relay
 * showed someone another round 1.
 *
 * secp256k1-tr: the shares already carry the TapTweak (dkg/taproot-tweak.ts), and adding a
 * zero-secret polynomial keeps s·G = Y and Φ_0, so the x-only key is unchanged and nothing is
 * tweaked again.
 */
import { toHex } from '../bytes.js';
import type { VssCommitment } from '../dkg/round1-package.js';
import { evaluatePolynomial } from '../dkg/round2-shares.js';
import { ProtocolError } from '../errors.js';
import { mulBaseSecret } from '../fast/group.js';
import type { KeyShare } from '../keys.js';
import type { GroupPoint } from '../suites.js';
import type { MessageBody, Outgoing } from '../wire/messages.js';
import { BROADCAST } from '../wire/primitives.js';
import { commitmentEvaluator, ownCommitment, parseDealerCommitment, sumCommitments, sumVerifiedShares } from './commitments.js';
import { canonicalDigest, decodeKey, randomScalar, shareScalar } from './key-package.js';
import {
  assertAddressed,
  createLifecycleMachine,
  type LifecycleMachine,
  type LifecycleParticipantOptions,
  type LifecycleStep,
  mergeSteps,
  receiveByType,
  recordOnce,
  unexpected,
} from './machine.js';
import { openScalar, sealScalar } from './sealed-scalar.js';
import { concludeSuccessor, type PendingSuccessor } from './successor.js';

/** A refresh participant's options; `rng` draws the polynomial, the share encryption and the batch-check coefficients. */
export interface RefreshOptions extends LifecycleParticipantOptions {
  /** This party's current share; its public package is the key being refreshed. */
  share: KeyShare;
}

export type RefreshPhase = 'round1' | 'round2';
/** One member's side of a refresh. */
export type RefreshParticipant = LifecycleMachine<PendingSuccessor, RefreshPhase>;

/** Creates a refresh participant for `o.share`'s key; every committee member must run one. */
export function createRefreshParticipant(o: RefreshOptions): RefreshParticipant {
  const key = decodeKey(o.share.public);
  const { suite, committee } = key;
  const { sessionId } = o;
  const keyId = key.pkg.keyId;
  const self = o.share.partyId;
  if (!committee.has(self)) throw new ProtocolError('not_in_committee', `${self} is not in the committee of key ${keyId}`);
  const oldShare = shareScalar(key, o.share);
  const t = committee.threshold;
  const peers = committee.members.filter((m) => m !== self);
  const idOf = (m: string) => committee.identifierOf.get(m) as string;

  let phase: RefreshPhase = 'round1';
  /** [0, a_1, …, a_{t−1}]: from start until our round-2 shares are dealt. */
  let coefficients: bigint[] | undefined;
  /** f_self(x_self): from dealing until the end. */
  let ownDelta: bigint | undefined;
  let transcriptHash: string | undefined;
  const round1 = new Map<string, MessageBody<'refresh_round1'>>();
  const dealers = new Map<string, VssCommitment>();
  const round2 = new Map<string, MessageBody<'refresh_round2'>>();
  const deltas = new Map<string, bigint>();

  const boxContext = (from: string, to: string) => ({ suite: suite.id, sessionId, round: 'refresh_round2', from, to });

  function deal(): LifecycleStep<PendingSuccessor> {
    const poly = coefficients as bigint[];
    transcriptHash = canonicalDigest('glacis/refresh-transcript/v1', {
      keyId,
      sessionId,
      suite: suite.id,
      threshold: t,
      committee: committee.members,
      predecessor: key.hash,
      round1: Object.fromEntries(committee.members.map((m) => [m, round1.get(m)])),
    });
    const outgoing: Outgoing[] = peers.map((p) => ({
      type: 'refresh_round2',
      sessionId,
      to: p,
      body: {
        keyId,
        transcriptHash: transcriptHash as string,
        box: sealScalar(suite, evaluatePolynomial(suite, poly, key.x(p)), o.peerKey(p), boxContext(self, p), o.rng),
      },
    }));
    ownDelta = evaluatePolynomial(suite, poly, key.x(self));
    poly.fill(0n);
    coefficients = undefined;
    phase = 'round2';
    for (const [from, body] of round2) accept(from, body);
    return mergeSteps({ outgoing }, finish());
  }

  function accept(from: string, body: MessageBody<'refresh_round2'>): void {
    if (body.transcriptHash !== transcriptHash) {
      // Unattributable: `from` or the relay showed someone another round 1.
      throw new ProtocolError('lifecycle_transcript_mismatch', `refresh round 1 as ${from} saw it differs from ours`);
    }
    deltas.set(from, openScalar(suite, body.box, o.identity, boxContext(from, self)));
  }

  function finish(): LifecycleStep<PendingSuccessor> {
    if (phase !== 'round2' || deltas.size !== peers.length) return { outgoing: [] };
    const received = peers.map((p) => ({ dealer: dealers.get(p) as VssCommitment, share: deltas.get(p) as bigint }));
    const deltaSum = sumVerifiedShares(suite, key.x(self), received, o.rng, 'refresh share');
    const signingShare = suite.Fn.add(suite.Fn.add(oldShare, ownDelta as bigint), deltaSum);
    const delta = sumCommitments(suite, [...dealers.values()]);
    const deltaAt = commitmentEvaluator(suite, delta);
    const { confirm, pending } = concludeSuccessor({
      operation: 'refresh',
      sessionId,
      transcriptHash: transcriptHash as string,
      predecessor: key,
      committee,
      self,
      groupCommitment: key.groupCommitment.map((phi, k) => phi.add(delta[k] as GroupPoint)),
      verifyingShares: new Map(committee.members.map((m) => [m, key.verifyingShare(m).add(deltaAt(key.x(m)))])),
      signingShare,
    });
    return { result: pending, outgoing: [confirm] };
  }

  const receive = receiveByType<PendingSuccessor, 'refresh_round1' | 'refresh_round2'>('refresh', {
    refresh_round1(msg) {
      assertAddressed(msg, true);
      if (!recordOnce(round1, msg.from, msg.body, 'refresh round-1 packages')) return { outgoing: [] };
      if (phase !== 'round1') throw unexpected(msg, 'round 1 after round 1 closed');
      dealers.set(msg.from, parseDealerCommitment(suite, msg.from, idOf(msg.from), msg.body.commitment, t, 'implicit_identity'));
      return round1.size === committee.members.length && coefficients ? deal() : { outgoing: [] };
    },
    refresh_round2(msg) {
      assertAddressed(msg, false);
      if (!recordOnce(round2, msg.from, msg.body, `refresh round-2 packages for ${self}`)) return { outgoing: [] };
      if (phase === 'round1') return { outgoing: [] }; // early: checked once our transcript exists
      accept(msg.from, msg.body);
      return finish();
    },
  });

  return createLifecycleMachine<PendingSuccessor, RefreshPhase>({
    session: { operation: 'refresh', keyId, sessionId, self },
    participants: new Set(committee.members),
    phase: () => phase,
    start() {
      coefficients = [suite.Fn.create(0n)];
      for (let k = 1; k < t; k++) coefficients.push(randomScalar(suite, o.rng));
      // φ_0 = 0·G is the identity: kept as ZERO, never encoded.
      const points = coefficients.map((a) => mulBaseSecret(suite, a));
      const body = { keyId, commitment: points.slice(1).map((p) => toHex(p.toBytes())) };
      round1.set(self, body);
      dealers.set(self, ownCommitment(suite, self, idOf(self), points));
      const step: LifecycleStep<PendingSuccessor> = { outgoing: [{ type: 'refresh_round1', sessionId, to: BROADCAST, body }] };
      return round1.size === committee.members.length ? mergeSteps(step, deal()) : step;
    },
    receive,
    forget() {
      coefficients?.fill(0n);
      coefficients = undefined;
      ownDelta = undefined;
      deltas.clear();
    },
  });
}
