/**
 * One party's side of a distributed key generation, as a sans-IO state machine over noble's
 * frost-rs-compatible 3-round DKG. Inputs are authenticated messages; outputs are unsigned
 * messages for the driver to seal and send, and at the end the party's KeyShare.
 *
 * Beyond noble, it (1) encrypts each round-2 share to its recipient, (2) echoes a hash of the
 * round-1 transcript in round 2 so a relay that shows parties different round-1 data is caught,
 * and (3) names the party at fault whenever noble would only say "invalid".
 */
import type { DKG_Round1, DKG_Round2, DKG_Secret } from '@noble/curves/abstract/frost.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, type Rng, toHex } from '../bytes.js';
import { canonicalBytes, canonicalJson } from '../canonical.js';
import { type Committee, makeCommittee } from '../committee.js';
import { openBox, sealBox } from '../crypto/box.js';
import { ProtocolError } from '../errors.js';
import type { IdentityKey } from '../identity.js';
import { type KeyShare, makeKeyShare, type PublicKeyPackage } from '../keys.js';
import type { GroupPoint, Suite } from '../suites.js';
import { evaluateVss } from '../vss.js';
import type { Message, MessageBody, Outgoing } from '../wire/messages.js';
import { BROADCAST, COORDINATOR } from '../wire/primitives.js';

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
  rng: Rng;
}

/** What one step produced. */
export interface DkgStep {
  outgoing: Outgoing[];
  /** Set once, when this party has derived its share (round 3). */
  share?: KeyShare;
  /** Set once, when the DKG failed; the driver should broadcast a `dkg_abort`. */
  error?: ProtocolError;
}

type Round1Entry = { wire: MessageBody<'dkg_round1'>; noble: DKG_Round1; points: GroupPoint[] };

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

  let phase: DkgPhase = 'round1';
  let secret: DKG_Secret | undefined;
  let transcriptHash: string | undefined;
  const round1 = new Map<string, Round1Entry>();
  const round2Wire = new Map<string, MessageBody<'dkg_round2'>>();
  const round2Shares = new Map<string, Uint8Array<ArrayBuffer>>();
  let started = false;

  const fail = (e: unknown): DkgStep => {
    phase = 'failed';
    if (secret) suite.frost.DKG.clean(secret);
    secret = undefined;
    const error =
      e instanceof ProtocolError ? e : new ProtocolError('dkg_failed', `DKG ${keyId}: ${(e as Error).message}`, [], { cause: e });
    return { outgoing: [], error };
  };

  function parseRound1(from: string, body: MessageBody<'dkg_round1'>): Round1Entry {
    if (body.commitment.length !== t) {
      throw new ProtocolError('dkg_invalid_round1', `round 1 from ${from}: ${body.commitment.length} commitments, expected ${t}`, [from]);
    }
    const commitment = body.commitment.map((h, i) => fromHex(h, `round1.commitment[${i}]`));
    const points = commitment.map((c, i) => suite.parseElement(c, `round 1 from ${from}: commitment[${i}]`, from));
    const pok = fromHex(body.proofOfKnowledge, 'round1.proofOfKnowledge');
    // The proof is a Schnorr signature in the suite's encoding (x-only R for secp256k1-tr).
    if (pok.length !== suite.signatureLength) {
      throw new ProtocolError('dkg_invalid_round1', `round 1 from ${from}: proof of knowledge has ${pok.length} bytes`, [from]);
    }
    suite.parseScalar(pok.subarray(pok.length - suite.scalarLength), `round 1 from ${from}: proof response`, { culprit: from });
    const noble: DKG_Round1 = { identifier: committee.identifierOf.get(from) as string, commitment, proofOfKnowledge: pok };
    return { wire: body, noble, points };
  }

  /**
   * noble's round 2 says only "invalid proof of knowledge". To name the party, judge each package
   * alone: a throwaway DKG of exactly t members in which every other member is freshly generated
   * (hence honest) fails iff that package is bad. Runs only after a failure.
   */
  function round1Acceptable(pkg: DKG_Round1): boolean {
    const ids: string[] = [];
    for (let i = 1; ids.length < t - 1; i++) {
      const id = suite.frost.Identifier.fromNumber(i);
      if (id !== pkg.identifier) ids.push(id);
    }
    const tiny = { min: t, max: t };
    const me = suite.frost.DKG.round1(ids[0] as string, tiny, undefined, o.rng);
    const others = ids.slice(1).map((id) => suite.frost.DKG.round1(id, tiny, undefined, o.rng).public);
    try {
      suite.frost.DKG.round2(me.secret, [pkg, ...others]);
      return true;
    } catch {
      return false;
    } finally {
      suite.frost.DKG.clean(me.secret);
    }
  }

  function computeTranscriptHash(): string {
    const packages: Record<string, MessageBody<'dkg_round1'>> = {};
    for (const m of committee.members) packages[m] = (round1.get(m) as Round1Entry).wire;
    const bytes = canonicalBytes('glacis/dkg-transcript/v1', {
      keyId,
      sessionId,
      suite: suite.id,
      threshold: t,
      committee: committee.members,
      round1: packages,
    });
    return toHex(sha256(bytes));
  }

  function boxContext(from: string, to: string) {
    return { suite: suite.id, sessionId, round: 'dkg_round2', from, to };
  }

  /** All round-1 packages are in: hash the transcript, run noble round 2, encrypt shares. */
  function enterRound2(): DkgStep {
    transcriptHash = computeTranscriptHash();
    const others = peers.map((p) => (round1.get(p) as Round1Entry).noble);
    let shares: Record<string, DKG_Round2>;
    try {
      shares = suite.frost.DKG.round2(secret as DKG_Secret, others);
    } catch (e) {
      const culprits = peers.filter((p) => !round1Acceptable((round1.get(p) as Round1Entry).noble));
      throw new ProtocolError('dkg_invalid_round1', `round 1 rejected: ${(e as Error).message}`, culprits, { cause: e });
    }
    phase = 'round2';
    const outgoing: Outgoing[] = [];
    for (const p of peers) {
      const share = shares[committee.identifierOf.get(p) as string];
      if (!share) throw new ProtocolError('dkg_failed', `noble produced no share for ${p}`);
      const peerKey = o.peerKey(p);
      if (!peerKey) throw new ProtocolError('unknown_party', `no pinned identity key for committee member ${p}`);
      const box = sealBox(share.signingShare, peerKey, boxContext(self, p), o.rng);
      outgoing.push({
        type: 'dkg_round2',
        sessionId,
        to: p,
        body: { transcriptHash, box: { epk: toHex(box.epk), nonce: toHex(box.nonce), ciphertext: toHex(box.ciphertext) } },
      });
    }
    const step: DkgStep = { outgoing };
    for (const [from, body] of round2Wire) acceptRound2(from, body);
    return merge(step, maybeFinish());
  }

  /** RFC 9591 App. C.2 vss_verify, naming the dealer of a bad share. */
  function assertShareFrom(from: string, share: Uint8Array): void {
    const s = suite.parseScalar(share, `round 2 share from ${from}`, { culprit: from });
    const expected = evaluateVss(suite, (round1.get(from) as Round1Entry).points, myId);
    // noble's constant-time multiply throws on 0, which would turn a dealer's zero share into an
    // unattributed failure; G·0 is the identity, which no honest commitment evaluates to.
    const actual = suite.Fn.is0(s) ? suite.Point.ZERO : suite.Point.BASE.multiply(s);
    if (!actual.equals(expected)) {
      throw new ProtocolError('dkg_invalid_secret_share', `round 2 share from ${from} does not match its round-1 commitment`, [from]);
    }
  }

  function acceptRound2(from: string, body: MessageBody<'dkg_round2'>): void {
    if (body.transcriptHash !== transcriptHash) {
      // Unattributable here: either `from` or the relay altered round 1 for someone. Abort.
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
    assertShareFrom(from, plaintext);
    round2Shares.set(from, plaintext);
  }

  function maybeFinish(): DkgStep {
    if (phase !== 'round2' || round2Shares.size !== peers.length) return { outgoing: [] };
    const others = peers.map((p) => (round1.get(p) as Round1Entry).noble);
    const received: DKG_Round2[] = peers.map((p) => ({
      identifier: committee.identifierOf.get(p) as string,
      signingShare: round2Shares.get(p) as Uint8Array<ArrayBuffer>,
    }));
    const key = suite.frost.DKG.round3(secret as DKG_Secret, others, received);
    secret = undefined;
    for (const s of round2Shares.values()) s.fill(0);
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
    const share = makeKeyShare(pub, self, key.secret.signingShare);
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
        round1.set(msg.from, parseRound1(msg.from, msg.body));
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
        throw new ProtocolError('dkg_failed', `DKG aborted by ${msg.from}: ${msg.body.code}: ${msg.body.message}`, msg.body.culprits);
      default:
        throw new ProtocolError('dkg_unexpected_message', `unexpected ${msg.type} in a DKG session`);
    }
  }

  return {
    get phase() {
      return phase;
    },
    get transcriptHash() {
      return transcriptHash;
    },
    start(): DkgStep {
      if (started) throw new ProtocolError('dkg_unexpected_message', 'DKG already started');
      started = true;
      try {
        const r1 = suite.frost.DKG.round1(myId, signers, undefined, o.rng);
        secret = r1.secret;
        const wire = { commitment: r1.public.commitment.map(toHex), proofOfKnowledge: toHex(r1.public.proofOfKnowledge) };
        round1.set(self, { wire, noble: r1.public, points: [] });
        const step: DkgStep = { outgoing: [{ type: 'dkg_round1', sessionId, to: BROADCAST, body: wire }] };
        return round1.size === n ? merge(step, enterRound2()) : step;
      } catch (e) {
        return fail(e);
      }
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
