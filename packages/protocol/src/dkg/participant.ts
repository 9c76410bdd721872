/**
 * One party's side of a distributed key generation, as a sans-IO state machine for the
 * frost-rs-compatible 3-round DKG (RFC 9591 App. C; frost-rs `keys::dkg`). Inputs are
 * authenticated messages; outputs are unsigned messages for the driver to seal and send, and at
 * the end the party's KeyShare.
 *
 * Beyond the DKG itself, it (1) encrypts each round-2 share to its recipient, (2) echoes a hash of
 * the round-1 transcript in round 2 so a relay that shows parties different round-1 data is
 * caught, and (3) names the party at fault whenever the DKG fails because of one.
 *
 * Cost: noble's DKG.round1 makes the polynomial and proof; rounds 2 and 3 are computed here from
 * points decoded and validated once, on arrival (round1-package.ts), with the proofs and the
 * received shares each checked in one random linear combination (exact per-party checks only
 * when that fails). noble's DKG.round2/round3 decode every peer commitment element twice more,
 * with two subgroup checks each on ed25519/ed448; `npm run bench` counts both (its `dkgProfile`
 * table, scripts/bench/dkg-profile.mjs). Output is byte-identical to noble's round3 (tests
 * compare them, and the frost-rs vectors).
 */
import type { DKG_Secret } from '@noble/curves/abstract/frost.js';
import { fromHex, type Rng, toHex } from '../bytes.js';
import { canonicalJson } from '../canonical.js';
import { type Committee, makeCommittee } from '../committee.js';
import { openBox, sealBox } from '../crypto/box.js';
import { ProtocolError } from '../errors.js';
import type { IdentityKey } from '../identity.js';
import { type KeyShare, makeVerifiedKeyShare, type PublicKeyPackage } from '../keys.js';
import type { Suite } from '../suites.js';
import type { Message, MessageBody, Outgoing } from '../wire/messages.js';
import { BROADCAST, COORDINATOR } from '../wire/primitives.js';
import { findInvalidProofs } from './proof-of-knowledge.js';
import { identifierScalar, ownVssCommitment, parseRound1Package, type Round1Package, type VssCommitment } from './round1-package.js';
import { evaluatePolynomial, findInvalidReceivedShares, type ReceivedShare } from './round2-shares.js';
import { deriveDkgKeyPackage } from './round3-key.js';
import { type DkgParams, dkgParamsHash, dkgTranscriptHash } from './transcript.js';

export interface DkgParticipantOptions {
  suite: Suite;
  keyId: string;
  sessionId: string;
  self: string;
  committee: readonly string[];
  threshold: number;
  identity: IdentityKey;
  /** Pinned identity key of a committee member (from this party's own configuration). */
  peerKey: (partyId: string) => Uint8Array | undefined;
  /**
   * Cryptographic randomness: the polynomial, the proof nonce, the share encryption, and the
   * coefficients of the batch checks (which must be unpredictable to the other parties).
   */
  rng: Rng;
  /**
   * Resumes a participant from `snapshot()` output instead of starting a fresh one (an offline
   * party between two trips to its vault). Every round-1 package in it is decoded and checked
   * again, and the round-2 shares decrypted again, as on arrival.
   */
  resume?: DkgSnapshot;
}

/**
 * SECRET. A running participant's state, JSON-able, for a party that must stop between rounds:
 * the messages it accepted, and either its polynomial (round 1: not yet dealt) or the share it
 * dealt itself (round 2: the polynomial is already forgotten). Seal it at rest; delete it when the
 * session ends. Round-2 shares are kept as received (encrypted to this party).
 */
export interface DkgSnapshot {
  readonly phase: 'round1' | 'round2';
  /** Every round-1 package accepted, this party's own included. */
  readonly round1: Readonly<Record<string, MessageBody<'dkg_round1'>>>;
  readonly round2: Readonly<Record<string, MessageBody<'dkg_round2'>>>;
  /** round1 only: the polynomial's coefficients, scalar hex. */
  readonly coefficients?: readonly string[];
  /** round2 only: f_self(x_self), scalar hex. */
  readonly ownShare?: string;
}

/** What one step produced. */
export interface DkgStep {
  outgoing: Outgoing[];
  /** Set once, when this party has derived its share (round 3). */
  share?: KeyShare;
  /** Set once, when the DKG failed; the driver should broadcast a `dkg_abort`. */
  error?: ProtocolError;
}

/** A round-1 broadcast as received (for the transcript and equivocation checks), decoded once. */
type Round1Entry = { wire: MessageBody<'dkg_round1'>; pkg: Round1Package | undefined };

/** Phases of a participant. Fields used in one phase live in that phase. */
export type DkgPhase = 'round1' | 'round2' | 'done' | 'failed';

export interface DkgParticipant {
  readonly phase: DkgPhase;
  readonly transcriptHash: string | undefined;
  /** Broadcasts this party's round-1 package. Call once. */
  start(): DkgStep;
  /**
   * Feeds one authenticated message. Throws (state unchanged) for a message of another session or
   * from outside the committee; a fault that ends the DKG comes back as `error`.
   */
  receive(msg: Message): DkgStep;
  /**
   * SECRET. The state to resume from later (`resume`), while the session runs: undefined before
   * `start()` and once it is done or failed (nothing secret is left then).
   */
  snapshot(): DkgSnapshot | undefined;
  /**
   * Ends the session without a key (a coordinator's abort, the party's own deadline): the secret
   * polynomial and every share received are forgotten, and later input is ignored.
   */
  close(): void;
}

/** Creates a DKG participant. Validates the committee (typed error on bad parameters). */
export function createDkgParticipant(o: DkgParticipantOptions): DkgParticipant {
  const { suite, self, sessionId, keyId } = o;
  const committee: Committee = makeCommittee(suite, o.committee, o.threshold);
  if (!committee.has(self)) throw new ProtocolError('not_in_committee', `${self} is not in the committee of key ${keyId}`);
  const t = committee.threshold;
  const n = committee.members.length;
  const signers = { min: t, max: n };
  const myId = committee.identifierOf.get(self) as string;
  const peers = committee.members.filter((m) => m !== self);

  const myX = identifierScalar(suite, myId);
  const params: DkgParams = { keyId, sessionId, suite: suite.id, threshold: t, committee: committee.members };
  const paramsHash = dkgParamsHash(params);

  let phase: DkgPhase = 'round1';
  /** noble's round-1 secret (our polynomial): from start() until our round-2 shares are dealt. */
  let secret: DKG_Secret | undefined;
  let own: VssCommitment | undefined;
  /** f_self(x_self): the share we deal ourselves, from round 2 until round 3. */
  let ownShare: bigint | undefined;
  let transcriptHash: string | undefined;
  const round1 = new Map<string, Round1Entry>();
  const round2Wire = new Map<string, MessageBody<'dkg_round2'>>();
  const round2Shares = new Map<string, bigint>();
  let started = false;

  const forgetSecrets = () => {
    if (secret) suite.frost.DKG.clean(secret);
    secret = undefined;
    ownShare = undefined;
    round2Shares.clear();
  };

  const fail = (e: unknown): DkgStep => {
    phase = 'failed';
    forgetSecrets();
    const error =
      e instanceof ProtocolError ? e : new ProtocolError('dkg_failed', `DKG ${keyId}: ${(e as Error).message}`, [], { cause: e });
    return { outgoing: [], error };
  };

  const computeTranscriptHash = () => dkgTranscriptHash(params, new Map([...round1].map(([m, e]) => [m, e.wire])));

  function boxContext(from: string, to: string) {
    return { suite: suite.id, sessionId, round: 'dkg_round2', from, to };
  }

  const peerPackage = (p: string) => (round1.get(p) as Round1Entry).pkg as Round1Package;

  /**
   * All round-1 packages are in: hash the transcript, check every proof of knowledge (frost-rs
   * part2), deal f(x_j) to each peer, encrypted to it. Our polynomial is forgotten once dealt.
   */
  function enterRound2(): DkgStep {
    transcriptHash = computeTranscriptHash();
    const bad = findInvalidProofs(suite, peers.map(peerPackage), o.rng);
    if (bad.length > 0) {
      const culprits = bad.map((b) => b.from);
      throw new ProtocolError('dkg_invalid_round1', `invalid proof of knowledge in round 1 from ${culprits.join(', ')}`, culprits);
    }
    const coefficients = secret?.coefficients;
    if (!coefficients) throw new ProtocolError('dkg_failed', 'round-1 secret is missing');
    ownShare = evaluatePolynomial(suite, coefficients, myX);
    const outgoing: Outgoing[] = [];
    for (const p of peers) {
      const peerKey = o.peerKey(p);
      if (!peerKey) throw new ProtocolError('unknown_party', `no pinned identity key for committee member ${p}`);
      const share = suite.Fn.toBytes(evaluatePolynomial(suite, coefficients, peerPackage(p).x));
      const box = sealBox(share, peerKey, boxContext(self, p), o.rng);
      share.fill(0);
      outgoing.push({
        type: 'dkg_round2',
        sessionId,
        to: p,
        body: { transcriptHash, box: { epk: toHex(box.epk), nonce: toHex(box.nonce), ciphertext: toHex(box.ciphertext) } },
      });
    }
    suite.frost.DKG.clean(secret as DKG_Secret);
    secret = undefined;
    phase = 'round2';
    const step: DkgStep = { outgoing };
    for (const [from, body] of round2Wire) acceptRound2(from, body);
    return merge(step, maybeFinish());
  }

  function acceptRound2(from: string, body: MessageBody<'dkg_round2'>): void {
    if (body.transcriptHash !== transcriptHash) {
      // Unattributable here: either `from` or the relay altered round 1 for someone. Abort; the
      // coordinator, which relayed every round-1 package, recomputes the transcript and names `from`.
      throw new ProtocolError(
        'dkg_transcript_mismatch',
        `round-1 transcript seen by ${from} (${body.transcriptHash.slice(0, 16)}…) differs from ours (${transcriptHash?.slice(0, 16)}…)`,
      );
    }
    const plaintext = openBox(
      { epk: fromHex(body.box.epk), nonce: fromHex(body.box.nonce), ciphertext: fromHex(body.box.ciphertext) },
      o.identity,
      boxContext(from, self),
    );
    // A canonical scalar, or the dealer is named; its VSS check waits for all shares (batched).
    const share = suite.parseScalar(plaintext, `round 2 share from ${from}`, { culprit: from });
    plaintext.fill(0);
    round2Shares.set(from, share);
  }

  /**
   * Every share is in: check them all (RFC 9591 App. C.2 vss_verify; one batch, exact per-dealer
   * checks only on failure, naming every bad dealer), then derive the key package (frost-rs part3).
   */
  function maybeFinish(): DkgStep {
    if (phase !== 'round2' || round2Shares.size !== peers.length) return { outgoing: [] };
    const received: ReceivedShare[] = peers.map((p) => ({ dealer: peerPackage(p), share: round2Shares.get(p) as bigint }));
    const bad = findInvalidReceivedShares(suite, myX, received, o.rng);
    if (bad.length > 0) {
      const culprits = bad.map((b) => b.dealer.from);
      throw new ProtocolError(
        'dkg_invalid_secret_share',
        `round 2 share from ${culprits.join(', ')} does not match its round-1 commitment`,
        culprits,
      );
    }
    const key = deriveDkgKeyPackage(suite, {
      own: own as VssCommitment,
      ownShare: ownShare as bigint,
      received,
      members: committee.members.map((m) => {
        const identifier = committee.identifierOf.get(m) as string;
        return { identifier, x: identifierScalar(suite, identifier) };
      }),
      signers,
    });
    forgetSecrets();
    const verifyingShares: Record<string, string> = {};
    for (const [id, vs] of Object.entries(key.public.verifyingShares)) {
      verifyingShares[committee.partyOf.get(id) as string] = toHex(vs);
    }
    const pub: PublicKeyPackage = {
      keyId,
      suite: suite.id,
      threshold: t,
      committee: [...committee.members],
      publicKey: toHex(suite.encodePublicKey(key.public)),
      groupCommitment: key.public.commitments.map(toHex),
      verifyingShares,
    };
    // deriveDkgKeyPackage checked s·G against our verifying share, derived from the same commitment.
    const share = makeVerifiedKeyShare(pub, self, key.secret.signingShare);
    key.secret.signingShare.fill(0);
    phase = 'done';
    return {
      outgoing: [
        {
          type: 'dkg_confirm',
          sessionId,
          to: COORDINATOR,
          body: {
            keyId,
            suite: suite.id,
            threshold: t,
            transcriptHash: transcriptHash as string,
            publicKey: pub.publicKey,
            groupCommitment: pub.groupCommitment,
            verifyingShares: pub.verifyingShares,
          },
        },
      ],
      share,
    };
  }

  function onMessage(msg: Message): DkgStep {
    switch (msg.type) {
      case 'dkg_round1': {
        if (msg.to !== BROADCAST) {
          // Round 1 must be one broadcast, so every member provably sees the same package.
          throw new ProtocolError('dkg_unexpected_message', `round 1 from ${msg.from} was not a broadcast`, [msg.from]);
        }
        const prev = round1.get(msg.from);
        if (prev) {
          if (canonicalJson(prev.wire) === canonicalJson(msg.body)) return { outgoing: [] };
          throw new ProtocolError('dkg_equivocation', `${msg.from} signed two different round-1 packages`, [msg.from]);
        }
        if (phase !== 'round1')
          throw new ProtocolError('dkg_unexpected_message', `round 1 from ${msg.from} after round 1 closed`, [msg.from]);
        if (msg.body.paramsHash !== paramsHash) {
          // Before any check that could blame the sender: a package built for another threshold or
          // committee is the relay's doing as likely as the sender's, so nobody is named here (the
          // coordinator, which knows what it sent each member, can tell).
          throw new ProtocolError(
            'dkg_parameter_mismatch',
            `round 1 from ${msg.from} was made for other session parameters (key, suite, threshold or committee) than this party was given`,
          );
        }
        round1.set(msg.from, {
          wire: msg.body,
          pkg: parseRound1Package(suite, t, msg.from, committee.identifierOf.get(msg.from) as string, msg.body),
        });
        if (started && round1.size === n) return enterRound2();
        return { outgoing: [] };
      }
      case 'dkg_round2': {
        if (msg.to !== self) throw new ProtocolError('wrong_recipient', `round 2 for ${msg.to} delivered to ${self}`);
        const prev = round2Wire.get(msg.from);
        if (prev) {
          if (canonicalJson(prev) === canonicalJson(msg.body)) return { outgoing: [] };
          throw new ProtocolError('dkg_equivocation', `${msg.from} signed two different round-2 packages for ${self}`, [msg.from]);
        }
        round2Wire.set(msg.from, msg.body);
        if (phase === 'round1') return { outgoing: [] }; // early: checked once our transcript exists
        acceptRound2(msg.from, msg.body);
        return maybeFinish();
      }
      case 'dkg_abort':
        // Its culprits are only its word: repeating them would let one member get others blamed.
        throw new ProtocolError('dkg_failed', `DKG aborted by ${msg.from}: ${msg.body.code}: ${msg.body.message}`);
      default:
        throw new ProtocolError('dkg_unexpected_message', `unexpected ${msg.type} in a DKG session`);
    }
  }

  /** Rebuilds the state `snapshot()` described; throws (typed) when it does not fit this session. */
  function restore(snap: DkgSnapshot): void {
    const mine = snap.round1[self];
    if (!mine) throw new ProtocolError('dkg_failed', "DKG snapshot: this party's own round-1 package is missing");
    started = true;
    own = ownVssCommitment(
      suite,
      self,
      myId,
      mine.commitment.map((h, i) => fromHex(h, `snapshot.round1.commitment[${i}]`)),
    );
    for (const [from, body] of Object.entries(snap.round1)) {
      if (from === self) round1.set(self, { wire: body, pkg: undefined });
      else if (!committee.has(from)) throw new ProtocolError('not_in_committee', `DKG snapshot: round 1 from ${from}, not a member`);
      else round1.set(from, { wire: body, pkg: parseRound1Package(suite, t, from, committee.identifierOf.get(from) as string, body) });
    }
    for (const [from, body] of Object.entries(snap.round2)) {
      if (!committee.has(from) || from === self) throw new ProtocolError('not_in_committee', `DKG snapshot: round 2 from ${from}`);
      round2Wire.set(from, body);
    }
    if (snap.phase === 'round1') {
      if (!snap.coefficients || snap.coefficients.length !== t || round1.size === n)
        throw new ProtocolError('dkg_failed', 'DKG snapshot: a round-1 state needs the polynomial and a missing round-1 package');
      const coefficients = snap.coefficients.map((h) => suite.Fn.fromBytes(fromHex(h, 'snapshot.coefficients')));
      secret = { identifier: myX, coefficients, commitment: own.points, signers } as unknown as DKG_Secret;
      return;
    }
    if (snap.ownShare === undefined || round1.size !== n)
      throw new ProtocolError('dkg_failed', 'DKG snapshot: a round-2 state needs the own share and every round-1 package');
    transcriptHash = computeTranscriptHash();
    ownShare = suite.Fn.fromBytes(fromHex(snap.ownShare, 'snapshot.ownShare'));
    phase = 'round2';
    for (const [from, body] of round2Wire) acceptRound2(from, body);
  }
  if (o.resume) restore(o.resume);

  function snapshot(): DkgSnapshot | undefined {
    if (!started || (phase !== 'round1' && phase !== 'round2')) return undefined;
    const hex = (x: bigint) => toHex(suite.Fn.toBytes(x));
    const base = {
      round1: Object.fromEntries([...round1].map(([m, e]) => [m, e.wire])),
      round2: Object.fromEntries(round2Wire),
    };
    if (phase === 'round1') return { phase, ...base, coefficients: (secret?.coefficients ?? []).map(hex) };
    return { phase, ...base, ownShare: hex(ownShare as bigint) };
  }

  return {
    get phase() {
      return phase;
    },
    get transcriptHash() {
      return transcriptHash;
    },
    snapshot,
    start(): DkgStep {
      if (started) throw new ProtocolError('dkg_unexpected_message', 'DKG already started');
      started = true;
      try {
        const r1 = suite.frost.DKG.round1(myId, signers, undefined, o.rng);
        secret = r1.secret;
        const wire = {
          paramsHash,
          commitment: r1.public.commitment.map(toHex),
          proofOfKnowledge: toHex(r1.public.proofOfKnowledge),
        };
        own = ownVssCommitment(suite, self, myId, r1.public.commitment);
        round1.set(self, { wire, pkg: undefined });
        const step: DkgStep = { outgoing: [{ type: 'dkg_round1', sessionId, to: BROADCAST, body: wire }] };
        return round1.size === n ? merge(step, enterRound2()) : step;
      } catch (e) {
        return fail(e);
      }
    },
    close(): void {
      if (phase === 'done' || phase === 'failed') return;
      phase = 'failed';
      forgetSecrets();
    },
    receive(msg: Message): DkgStep {
      // Input that is not this session's is refused without touching the session.
      if (msg.sessionId !== sessionId) throw new ProtocolError('wrong_session', `message for session ${msg.sessionId} fed to ${sessionId}`);
      if (!committee.has(msg.from) || msg.from === self) {
        throw new ProtocolError('not_in_committee', `DKG message from ${msg.from}, who is not another committee member`);
      }
      if (phase === 'done' || phase === 'failed') return { outgoing: [] };
      try {
        return onMessage(msg);
      } catch (e) {
        return fail(e);
      }
    },
  };
}

function merge(a: DkgStep, b: DkgStep): DkgStep {
  const out: DkgStep = { outgoing: [...a.outgoing, ...b.outgoing] };
  const share = a.share ?? b.share;
  const error = a.error ?? b.error;
  if (share) out.share = share;
  if (error) out.error = error;
  return out;
}
