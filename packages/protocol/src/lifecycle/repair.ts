/**
 * Verified share repair: the repairable threshold scheme of Laing and Stinson (eprint 2017/1155),
 * as frost-rs `keys::repairable` runs it, with every step checked. A set H of at least t helpers
 * rebuilds target r's lost share s_r = f(x_r) without anyone, the coordinator included, learning
 * it or any helper's share:
 *
 *   commit   helper i takes its Lagrange coefficient λ_i over H at x_r, splits λ_i·s_i into
 *            random parts Δ_ij (one per helper j, Σ_j Δ_ij = λ_i·s_i) and broadcasts
 *            C_ij = Δ_ij·G (`repair_commit`). Everyone checks Σ_j C_ij = λ_i·Y_i, with Y_i i's
 *            verifying share in the key's certificate (public).
 *   delta    once every commitment is in, i sends each helper j Δ_ij, end-to-end encrypted, with
 *            the hash of the commitment transcript (`repair_delta`); j checks Δ_ij·G = C_ij.
 *   sigma    j sends r σ_j = Σ_i Δ_ij the same way (`repair_sigma`); r checks σ_j·G = Σ_i C_ij.
 *   repair   r takes s_r = Σ_j σ_j and checks s_r·G = Y_r, its verifying share in the certificate,
 *            then proves it holds s_r (`repair_confirm`: a drill proof, drill.ts, with the session
 *            as drill id and the key's hash as nonce).
 *
 * frost-rs stops at s_r = Σ σ_j: a helper that sends a wrong Δ or σ silently yields a wrong share.
 * Here each helper's contribution is pinned by public commitments, so the checks name it:
 *   - Σ_j C_ij ≠ λ_i·Y_i: helper i committed to a split of something other than λ_i·s_i; everyone
 *     sees it (`lifecycle_invalid_commitment`, culprit i);
 *   - Δ_ij·G ≠ C_ij: helper i sent j a part it did not commit to; j names i
 *     (`lifecycle_invalid_share`, culprit i);
 *   - σ_j·G ≠ Σ_i C_ij: helper j sent r something other than the sum of the parts it checked; r
 *     names j (`lifecycle_invalid_share`, culprit j);
 *   - two different signed packages for one slot: `lifecycle_equivocation` naming the sender;
 *     a transcript hash that differs from ours: `lifecycle_transcript_mismatch`, nobody named (the
 *     sender or the relay showed someone other commitments).
 * If every check passes, Σ_j σ_j·G = Σ_i λ_i·Y_i = Y_r, so the final check fails only when the
 * certificate's verifying shares are themselves inconsistent (`lifecycle_key_mismatch`).
 *
 * Secrecy: Δ_ij and σ_j travel only in boxes; the C_ij are public and reveal nothing beyond
 * λ_i·Y_i, which is public already. Each helper learns only its own parts (h − 1 uniformly random
 * values, the last fixed by λ_i·s_i, all hidden from any single other helper), exactly as in the
 * unverified scheme.
 */
import { fromHex, toHex } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import { mulBaseSecret, mulPublic } from '../fast/group.js';
import { type KeyShare, makeVerifiedKeyShare, type PublicKeyPackage } from '../keys.js';
import type { GroupPoint, ScalarField } from '../suites.js';
import type { Message, MessageBody, Outgoing } from '../wire/messages.js';
import { BROADCAST, COORDINATOR } from '../wire/primitives.js';
import { proveShareIntact } from './drill.js';
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

/** A repair participant's options; `rng` draws the split of λ_i·s_i, the encryption and the target's proof nonce. */
export interface RepairOptions extends LifecycleParticipantOptions {
  /** The key's public package, from its certificate: the helpers' and the target's Y. */
  key: PublicKeyPackage;
  /** This helper's share of `key`; required for a helper, absent for the target. */
  share?: KeyShare;
  self: string;
  /** The party whose share is rebuilt. */
  target: string;
  /** At least t other committee members. */
  helpers: readonly string[];
}

/** How a participant's part ended. */
export type RepairResult = { readonly kind: 'helped' } | { readonly kind: 'repaired'; readonly share: KeyShare };
export type RepairPhase = 'commit' | 'delta' | 'sigma';
/** One participant's side of a repair (a helper or the target). */
export type RepairParticipant = LifecycleMachine<RepairResult, RepairPhase>;

/** Σ of points. */
const sum = (zero: GroupPoint, points: readonly GroupPoint[]) => points.reduce((a, p) => a.add(p), zero);

/** Creates a repair participant. Validates the parameters (typed errors). */
export function createRepairParticipant(o: RepairOptions): RepairParticipant {
  const key = decodeKey(o.key);
  const { suite, committee } = key;
  const { self, target, sessionId } = o;
  const keyId = key.pkg.keyId;
  if (!committee.has(target)) throw new ProtocolError('not_in_committee', `repair target ${target} is not in the committee of ${keyId}`);
  const helpers = [...new Set(o.helpers)].sort();
  if (helpers.length !== o.helpers.length) throw new ProtocolError('duplicate_identifier', 'a helper is listed twice');
  for (const h of helpers) {
    if (!committee.has(h)) throw new ProtocolError('not_in_committee', `helper ${h} is not in the committee of ${keyId}`);
    if (h === target) throw new ProtocolError('invalid_identifier', `${target} cannot help repair its own share`);
  }
  if (helpers.length < committee.threshold) {
    throw new ProtocolError('too_few_signers', `${helpers.length} helpers for key ${keyId}, its threshold is ${committee.threshold}`);
  }
  const isHelper = helpers.includes(self);
  if (!isHelper && self !== target) throw new ProtocolError('not_in_committee', `${self} takes no part in this repair of ${target}`);
  if (isHelper && o.share === undefined) throw new ProtocolError('wrong_key', `helper ${self} has no share of ${keyId}`);
  const helperShare = isHelper ? shareScalar(key, o.share as KeyShare) : undefined;
  const xs = helpers.map((h) => key.x(h));
  const lambda = (h: string) => lagrangeCoefficient(suite, xs, key.x(h), key.x(target));
  const zero = suite.Point.ZERO;

  let phase: RepairPhase = 'commit';
  let started = false;
  let transcriptHash: string | undefined;
  /** Our Δ_self,j (helper only): from start until dealt, then only Δ_self,self. */
  let ownParts: Map<string, bigint> | undefined;
  const commits = new Map<string, MessageBody<'repair_commit'>>();
  /** C_ij by helper i, then j. */
  const committed = new Map<string, ReadonlyMap<string, GroupPoint>>();
  const deltaWire = new Map<string, MessageBody<'repair_delta'>>();
  const deltas = new Map<string, bigint>();
  const sigmaWire = new Map<string, MessageBody<'repair_sigma'>>();
  const sigmas = new Map<string, bigint>();

  const boxContext = (round: 'repair_delta' | 'repair_sigma', from: string, to: string) => ({
    suite: suite.id,
    sessionId,
    round,
    from,
    to,
  });
  const c = (i: string, j: string) => committed.get(i)?.get(j) as GroupPoint;

  /** Helper i's commitments: one element per helper, summing to λ_i·Y_i. */
  function acceptCommit(from: string, body: MessageBody<'repair_commit'>): void {
    const invalid = (why: string) => new ProtocolError('lifecycle_invalid_commitment', `repair commitments of ${from}: ${why}`, [from]);
    if (body.target !== target) throw invalid(`for target ${body.target}, not ${target}`);
    const names = Object.keys(body.commitments).sort();
    if (names.length !== helpers.length || names.some((n, k) => n !== helpers[k])) throw invalid('not one element per helper');
    const points = new Map(
      helpers.map((j) => [j, suite.parseElement(fromHex(body.commitments[j] as string), `repair commitment ${from}→${j}`, from)]),
    );
    if (!sum(zero, [...points.values()]).equals(mulPublic(suite, key.verifyingShare(from), lambda(from)))) {
      throw invalid('they do not sum to its Lagrange-weighted verifying share');
    }
    committed.set(from, points);
  }

  /** Every commitment is in: fix the transcript, send our parts (helper), check what came early. */
  function enterDelta(): LifecycleStep<RepairResult> {
    transcriptHash = canonicalDigest('glacis/repair-transcript/v1', {
      keyId,
      sessionId,
      suite: suite.id,
      predecessor: key.hash,
      target,
      helpers,
      commitments: Object.fromEntries(helpers.map((h) => [h, commits.get(h)])),
    });
    const outgoing: Outgoing[] = [];
    if (isHelper) {
      const parts = ownParts as Map<string, bigint>;
      for (const j of helpers) {
        if (j === self) continue;
        const box = sealScalar(suite, parts.get(j) as bigint, o.peerKey(j), boxContext('repair_delta', self, j), o.rng);
        outgoing.push({ type: 'repair_delta', sessionId, to: j, body: { keyId, transcriptHash, box } });
      }
      deltas.set(self, parts.get(self) as bigint);
      parts.clear();
      ownParts = undefined;
      phase = 'delta';
      for (const [from, body] of deltaWire) acceptDelta(from, body);
    } else {
      phase = 'sigma';
      for (const [from, body] of sigmaWire) acceptSigma(from, body);
    }
    return mergeSteps({ outgoing }, isHelper ? sendSigma() : repaired());
  }

  function checkTranscript(from: string, hash: string): void {
    if (hash !== transcriptHash) {
      throw new ProtocolError('lifecycle_transcript_mismatch', `repair commitments as ${from} saw them differ from ours`);
    }
  }

  function acceptDelta(from: string, body: MessageBody<'repair_delta'>): void {
    checkTranscript(from, body.transcriptHash);
    const d = openScalar(suite, body.box, o.identity, boxContext('repair_delta', from, self));
    if (!mulBaseSecret(suite, d).equals(c(from, self))) {
      throw new ProtocolError('lifecycle_invalid_share', `repair part from ${from} does not match its commitment`, [from]);
    }
    deltas.set(from, d);
  }

  /** Helper: every part is in: σ_self = Σ_i Δ_i,self to the target. */
  function sendSigma(): LifecycleStep<RepairResult> {
    if (phase !== 'delta' || deltas.size !== helpers.length) return { outgoing: [] };
    const sigma = sumScalars(suite.Fn, [...deltas.values()]);
    deltas.clear();
    const box = sealScalar(suite, sigma, o.peerKey(target), boxContext('repair_sigma', self, target), o.rng);
    return {
      outgoing: [{ type: 'repair_sigma', sessionId, to: target, body: { keyId, transcriptHash: transcriptHash as string, box } }],
      result: { kind: 'helped' },
    };
  }

  function acceptSigma(from: string, body: MessageBody<'repair_sigma'>): void {
    checkTranscript(from, body.transcriptHash);
    const s = openScalar(suite, body.box, o.identity, boxContext('repair_sigma', from, self));
    const expected = sum(
      zero,
      helpers.map((i) => c(i, from)),
    );
    if (!mulBaseSecret(suite, s).equals(expected)) {
      throw new ProtocolError('lifecycle_invalid_share', `repair sum from ${from} is not the sum of the parts it was sent`, [from]);
    }
    sigmas.set(from, s);
  }

  /** Target: every σ is in: s_r = Σ σ_j, checked against Y_r, and proven to the coordinator. */
  function repaired(): LifecycleStep<RepairResult> {
    if (phase !== 'sigma' || sigmas.size !== helpers.length) return { outgoing: [] };
    const s = sumScalars(suite.Fn, [...sigmas.values()]);
    sigmas.clear();
    if (!mulBaseSecret(suite, s).equals(key.verifyingShare(target))) {
      throw new ProtocolError(
        'lifecycle_key_mismatch',
        `repaired share of ${target} does not match its verifying share in the certificate`,
      );
    }
    const bytes = suite.Fn.toBytes(s);
    const share = makeVerifiedKeyShare(key.pkg, target, bytes);
    bytes.fill(0);
    const proof = proveShareIntact(share, { keyId, partyId: target, drillId: sessionId, nonce: key.hash }, o.rng);
    const body = { keyId, verifyingShare: proof.verifyingShare, proof: proof.proof };
    return { outgoing: [{ type: 'repair_confirm', sessionId, to: COORDINATOR, body }], result: { kind: 'repaired', share } };
  }

  const allCommitted = () => started && committed.size === helpers.length;

  const byType = receiveByType<RepairResult, 'repair_commit' | 'repair_delta' | 'repair_sigma'>('repair', {
    repair_commit(msg) {
      assertAddressed(msg, true);
      if (!recordOnce(commits, msg.from, msg.body, 'repair commitment sets')) return { outgoing: [] };
      acceptCommit(msg.from, msg.body);
      return allCommitted() ? enterDelta() : { outgoing: [] };
    },
    repair_delta(msg) {
      assertAddressed(msg, false);
      if (!isHelper) throw unexpected(msg, 'parts go to helpers, not to the target');
      if (!recordOnce(deltaWire, msg.from, msg.body, `repair parts for ${self}`)) return { outgoing: [] };
      if (transcriptHash === undefined) return { outgoing: [] }; // early: checked once every commitment is in
      acceptDelta(msg.from, msg.body);
      return sendSigma();
    },
    repair_sigma(msg) {
      assertAddressed(msg, false);
      if (isHelper) throw unexpected(msg, 'sums go to the target, not to helpers');
      if (!recordOnce(sigmaWire, msg.from, msg.body, 'repair sums')) return { outgoing: [] };
      if (transcriptHash === undefined) return { outgoing: [] };
      acceptSigma(msg.from, msg.body);
      return repaired();
    },
  });

  function receive(msg: Message): LifecycleStep<RepairResult> {
    if (!helpers.includes(msg.from)) throw unexpected(msg, 'the repair target sends nothing to peers');
    return byType(msg);
  }

  return createLifecycleMachine<RepairResult, RepairPhase>({
    session: { operation: 'repair', keyId, sessionId, self },
    participants: new Set([...helpers, target]),
    phase: () => phase,
    start() {
      started = true;
      if (!isHelper) return allCommitted() ? enterDelta() : { outgoing: [] };
      const parts = splitScalar(suite.Fn, suite.Fn.mul(lambda(self), helperShare as bigint), helpers.length, () =>
        randomScalar(suite, o.rng),
      );
      ownParts = new Map(helpers.map((j, k) => [j, parts[k] as bigint]));
      const commitments = Object.fromEntries(helpers.map((j, k) => [j, toHex(mulBaseSecret(suite, parts[k] as bigint).toBytes())]));
      parts.fill(0n);
      const body = { keyId, target, commitments };
      commits.set(self, body);
      acceptCommit(self, body);
      const step: LifecycleStep<RepairResult> = { outgoing: [{ type: 'repair_commit', sessionId, to: BROADCAST, body }] };
      return allCommitted() ? mergeSteps(step, enterDelta()) : step;
    },
    receive,
    forget() {
      ownParts?.clear();
      ownParts = undefined;
      deltas.clear();
      sigmas.clear();
    },
  });
}

/** Σ of scalars (frost-rs `repair_share_part2` for the Δ, `repair_share_part3` for the σ). */
export function sumScalars(Fn: ScalarField, values: readonly bigint[]): bigint {
  return values.reduce((a, v) => Fn.add(a, v), Fn.create(0n));
}

/**
 * `count` parts of `value`: count − 1 random, the last fixed so they sum to `value` (frost-rs
 * `repair_share_part1`). Every part is non-zero, so each has a commitment (a zero last part,
 * probability ~2⁻²⁵², draws again).
 */
export function splitScalar(Fn: ScalarField, value: bigint, count: number, random: () => bigint): bigint[] {
  for (let attempt = 0; attempt < 16; attempt++) {
    const parts = Array.from({ length: count - 1 }, random);
    const last = Fn.sub(value, sumScalars(Fn, parts));
    if (!Fn.is0(last)) return [...parts, last];
  }
  throw new ProtocolError('lifecycle_failed', 'could not split a repair contribution into non-zero parts');
}
