/**
 * Resharing (Desmedt–Jajodia redistribution, as in Wong–Wang–Wing's verifiable variant): the key
 * moves to a new committee and/or threshold with the same public key, e.g. 2-of-3 → 3-of-5.
 *
 *   deal     each dealer i — a set D of at least t old members — takes its Lagrange coefficient
 *            λ_i over D (at 0), picks g_i of degree t'−1 with g_i(0) = λ_i·s_i, broadcasts
 *            ψ_{i,k} = g_i's coefficients·G (`reshare_round1`) and sends each new member j
 *            g_i(x_j), end-to-end encrypted, with the hash of that broadcast (`reshare_round2`);
 *   check    new member j checks ψ_{i,0} = λ_i·Y_i (Y_i: i's verifying share in the old key's
 *            certificate — public, so a dealer that deals anything but λ_i·s_i is named by everyone)
 *            and every g_i(x_j) against ψ_i (one batch, exact per dealer on failure);
 *   derive   s'_j = Σ_i g_i(x_j), Ψ_k = Σ_i ψ_{i,k}, Y'_m = Σ_k Ψ_k·x_m^k for every new member m;
 *            Ψ_0 = Σ λ_i·Y_i must be the old group element (checked), and s'_j·G = Y'_j; j signs a
 *            `lifecycle_confirm`: the set of them is the successor's certificate.
 *
 * Two-phase: a new member ends holding a `PendingSuccessor`; a dealer that is not a new member ends
 * as soon as it has dealt. Old members keep their shares, and sign with them, until the caller
 * has checked the certificate and commits the switch; a failure at any point leaves the old
 * committee in charge.
 *
 * Blame (each names the sender, whose envelope is signed): a constant term other than λ_i·Y_i or a
 * wrong number of commitments (`lifecycle_invalid_commitment`), a share that fails its dealer's
 * commitment (`lifecycle_invalid_share`), a round 2 that names another round 1 than the dealer's
 * broadcast, or two different signed packages for one slot (`lifecycle_equivocation`), bad elements,
 * scalars or boxes (`invalid_point`, `invalid_scalar`, `decryption_failed`).
 *
 * secp256k1-tr: the old shares already carry the TapTweak; resharing them as they are keeps Ψ_0
 * and therefore the x-only key, and nothing is tweaked again.
 */
import { toHex } from '../bytes.js';
import { type Committee, makeCommittee } from '../committee.js';
import { identifierScalar, type VssCommitment } from '../dkg/round1-package.js';
import { evaluatePolynomial } from '../dkg/round2-shares.js';
import { ProtocolError } from '../errors.js';
import { mulBaseSecret, mulPublic } from '../fast/group.js';
import type { KeyShare, PublicKeyPackage } from '../keys.js';
import type { GroupPoint } from '../suites.js';
import type { MessageBody, Outgoing } from '../wire/messages.js';
import { BROADCAST } from '../wire/primitives.js';
import { commitmentEvaluator, ownCommitment, parseDealerCommitment, sumCommitments, sumVerifiedShares } from './commitments.js';
import { canonicalDigest, decodeKey, randomScalar, shareScalar } from './key-package.js';
import { lagrangeCoefficient } from './lagrange.js';
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

/** A reshare participant's options; `rng` draws the dealing polynomial, the share encryption and the batch-check coefficients. */
export interface ReshareOptions extends LifecycleParticipantOptions {
  /** The key being reshared: its public package, from its certificate. */
  key: PublicKeyPackage;
  /** This party's share of `key`; required when it is a dealer, ignored otherwise. */
  share?: KeyShare;
  self: string;
  /** Old members that deal: at least the old threshold of them. */
  dealers: readonly string[];
  /** The new committee and threshold. */
  committee: readonly string[];
  threshold: number;
}

/** How a participant's part ended: dealt (an old member leaving), or with a pending successor. */
export type ReshareResult = { readonly kind: 'dealt' } | { readonly kind: 'successor'; readonly successor: PendingSuccessor };
export type ResharePhase = 'dealing' | 'collecting';
/** One participant's side of a reshare (a dealer, a new member, or both). */
export type ReshareParticipant = LifecycleMachine<ReshareResult, ResharePhase>;

/** Validates the dealing set: distinct old members, at least the old threshold of them. */
function dealingSet(old: Committee, dealers: readonly string[], keyId: string): string[] {
  const set = [...new Set(dealers)].sort();
  if (set.length !== dealers.length) throw new ProtocolError('duplicate_identifier', 'a dealer is listed twice');
  for (const d of set) if (!old.has(d)) throw new ProtocolError('not_in_committee', `dealer ${d} is not in the committee of key ${keyId}`);
  if (set.length < old.threshold) {
    throw new ProtocolError('too_few_signers', `${set.length} dealers for key ${keyId}, its threshold is ${old.threshold}`);
  }
  return set;
}

/** Creates a reshare participant. Validates the parameters (typed errors). */
export function createReshareParticipant(o: ReshareOptions): ReshareParticipant {
  const key = decodeKey(o.key);
  const { suite } = key;
  const { self, sessionId } = o;
  const keyId = key.pkg.keyId;
  const dealers = dealingSet(key.committee, o.dealers, keyId);
  const next = makeCommittee(suite, o.committee, o.threshold);
  const isDealer = dealers.includes(self);
  const isReceiver = next.has(self);
  if (!isDealer && !isReceiver)
    throw new ProtocolError('not_in_committee', `${self} neither deals nor receives in this reshare of ${keyId}`);
  if (isDealer && o.share === undefined) throw new ProtocolError('wrong_key', `dealer ${self} has no share of ${keyId}`);
  const oldShare = isDealer ? shareScalar(key, o.share as KeyShare) : undefined;
  const tNew = next.threshold;
  const dealerXs = dealers.map((d) => key.x(d));
  const lambda = (d: string) => lagrangeCoefficient(suite, dealerXs, key.x(d), suite.Fn.create(0n));
  const newX = (m: string) => identifierScalar(suite, next.identifierOf.get(m) as string);
  const otherDealers = dealers.filter((d) => d !== self);

  let phase: ResharePhase = 'dealing';
  let started = false;
  let dealt = !isDealer;
  /** g_self(x_self), when this party deals to itself. */
  let ownShare: bigint | undefined;
  const round1 = new Map<string, MessageBody<'reshare_round1'>>();
  const commitments = new Map<string, VssCommitment>();
  const round2 = new Map<string, MessageBody<'reshare_round2'>>();
  const shares = new Map<string, bigint>();

  const boxContext = (from: string, to: string) => ({ suite: suite.id, sessionId, round: 'reshare_round2', from, to });
  const round1Digest = (body: MessageBody<'reshare_round1'>) => canonicalDigest('glacis/reshare-round1/v1', body);

  function deal(): LifecycleStep<ReshareResult> {
    const s = oldShare as bigint;
    const poly = [suite.Fn.mul(lambda(self), s)];
    for (let k = 1; k < tNew; k++) poly.push(randomScalar(suite, o.rng));
    const points = poly.map((a) => mulBaseSecret(suite, a));
    if (points.some((p) => p.is0())) throw new ProtocolError('lifecycle_failed', 'dealing polynomial has a zero coefficient');
    const body = { keyId, commitment: points.map((p) => toHex(p.toBytes())) };
    const commitmentHash = round1Digest(body);
    const outgoing: Outgoing[] = [{ type: 'reshare_round1', sessionId, to: BROADCAST, body }];
    for (const j of next.members) {
      const value = evaluatePolynomial(suite, poly, newX(j));
      if (j === self) {
        ownShare = value;
        continue;
      }
      outgoing.push({
        type: 'reshare_round2',
        sessionId,
        to: j,
        body: { keyId, commitmentHash, box: sealScalar(suite, value, o.peerKey(j), boxContext(self, j), o.rng) },
      });
    }
    poly.fill(0n);
    round1.set(self, body);
    commitments.set(self, ownCommitment(suite, self, key.committee.identifierOf.get(self) as string, points));
    dealt = true;
    if (!isReceiver) return { outgoing, result: { kind: 'dealt' } };
    phase = 'collecting';
    return mergeSteps({ outgoing }, finish());
  }

  /** Dealer `from`'s round 1: t' elements whose constant term is λ_from·Y_from. */
  function acceptRound1(from: string, body: MessageBody<'reshare_round1'>): void {
    const c = parseDealerCommitment(suite, from, key.committee.identifierOf.get(from) as string, body.commitment, tNew, 'on_wire');
    const expected = mulPublic(suite, key.verifyingShare(from), lambda(from));
    if (!(c.points[0] as GroupPoint).equals(expected)) {
      throw new ProtocolError('lifecycle_invalid_commitment', `dealer ${from} deals something other than its share of ${keyId}`, [from]);
    }
    commitments.set(from, c);
    const early = round2.get(from);
    if (early) acceptRound2(from, early);
  }

  function acceptRound2(from: string, body: MessageBody<'reshare_round2'>): void {
    const r1 = round1.get(from);
    if (r1 === undefined || !commitments.has(from)) return; // checked once its round 1 is in
    if (body.commitmentHash !== round1Digest(r1)) {
      // Both are signed by `from`: a share for a commitment it did not broadcast to us.
      throw new ProtocolError('lifecycle_equivocation', `${from}'s round 2 names another round 1 than the one it broadcast`, [from]);
    }
    shares.set(from, openScalar(suite, body.box, o.identity, boxContext(from, self)));
  }

  function finish(): LifecycleStep<ReshareResult> {
    if (!isReceiver || !started || !dealt || shares.size !== otherDealers.length) return { outgoing: [] };
    const x = newX(self);
    const received = otherDealers.map((d) => ({ dealer: commitments.get(d) as VssCommitment, share: shares.get(d) as bigint }));
    const signingShare = suite.Fn.add(ownShare ?? suite.Fn.create(0n), sumVerifiedShares(suite, x, received, o.rng, 'reshare share'));
    const groupCommitment = sumCommitments(
      suite,
      dealers.map((d) => commitments.get(d) as VssCommitment),
    );
    const at = commitmentEvaluator(suite, groupCommitment);
    const transcriptHash = canonicalDigest('glacis/reshare-transcript/v1', {
      keyId,
      sessionId,
      suite: suite.id,
      predecessor: key.hash,
      dealers,
      committee: next.members,
      threshold: tNew,
      round1: Object.fromEntries(dealers.map((d) => [d, round1.get(d)])),
    });
    const { confirm, pending } = concludeSuccessor({
      operation: 'reshare',
      sessionId,
      transcriptHash,
      predecessor: key,
      committee: next,
      self,
      groupCommitment,
      verifyingShares: new Map(next.members.map((m) => [m, at(newX(m))])),
      signingShare,
    });
    return { outgoing: [confirm], result: { kind: 'successor', successor: pending } };
  }

  const receive = receiveByType<ReshareResult, 'reshare_round1' | 'reshare_round2'>('reshare', {
    reshare_round1(msg) {
      assertAddressed(msg, true);
      if (!dealers.includes(msg.from)) throw unexpected(msg, 'not a dealer of this reshare');
      if (!recordOnce(round1, msg.from, msg.body, 'reshare round-1 packages')) return { outgoing: [] };
      if (!isReceiver) return { outgoing: [] }; // a dealer-only has no use for other dealings
      acceptRound1(msg.from, msg.body);
      return finish();
    },
    reshare_round2(msg) {
      assertAddressed(msg, false);
      if (!dealers.includes(msg.from)) throw unexpected(msg, 'not a dealer of this reshare');
      if (!isReceiver) throw unexpected(msg, `${self} is not in the new committee`);
      if (!recordOnce(round2, msg.from, msg.body, `reshare round-2 packages for ${self}`)) return { outgoing: [] };
      acceptRound2(msg.from, msg.body);
      return finish();
    },
  });

  return createLifecycleMachine<ReshareResult, ResharePhase>({
    session: { operation: 'reshare', keyId, sessionId, self },
    participants: new Set([...dealers, ...next.members]),
    phase: () => phase,
    start() {
      started = true;
      if (isDealer) return deal();
      phase = 'collecting';
      return finish();
    },
    receive,
    forget() {
      ownShare = undefined;
      shares.clear();
    },
  });
}
