/**
 * The DKG success certificate: every committee member's signed `dkg_confirm`, all agreeing. Anyone
 * holding the members' identity keys can check it; the coordinator activates a key only with one,
 * and a party only treats its share as live once it has seen one.
 */
import { fromHex, toHex, utf8 } from '../bytes.js';
import { canonicalJson } from '../canonical.js';
import { type Committee, makeCommittee } from '../committee.js';
import { ProtocolError } from '../errors.js';
import { derivedBatchCoefficients, evaluateVss, msm, powersOf } from '../fast/index.js';
import type { PublicKeyPackage } from '../keys.js';
import { type GroupPoint, getSuite, type Suite } from '../suites.js';
import { openEnvelope } from '../wire/envelope.js';
import type { Envelope, MessageBody } from '../wire/messages.js';
import { COORDINATOR } from '../wire/primitives.js';

export interface CertificateExpectation {
  keyId: string;
  suite: string;
  threshold: number;
  committee: readonly string[];
  /** Pinned identity keys of the committee. */
  keyOf: (partyId: string) => Uint8Array | undefined;
}

/**
 * Checks a certificate and returns the key's public package. Fails with
 * `dkg_confirmation_mismatch` unless each member confirmed exactly once and all agree, and the
 * verifying shares are consistent with the group commitment.
 */
export function verifyDkgCertificate(confirmations: readonly Envelope[], exp: CertificateExpectation): PublicKeyPackage {
  const suite = getSuite(exp.suite);
  const committee = makeCommittee(suite, exp.committee, exp.threshold);
  const bodies = new Map<string, MessageBody<'dkg_confirm'>>();
  for (const env of confirmations) {
    const msg = openEnvelope(env, { self: COORDINATOR, keyOf: (p) => (committee.has(p) ? exp.keyOf(p) : undefined), anyRecipient: true });
    if (msg.type !== 'dkg_confirm')
      throw new ProtocolError('dkg_confirmation_mismatch', `certificate holds a ${msg.type} from ${msg.from}`, [msg.from]);
    if (bodies.has(msg.from)) throw new ProtocolError('dkg_confirmation_mismatch', `${msg.from} confirmed twice`, [msg.from]);
    bodies.set(msg.from, msg.body);
  }
  const missing = committee.members.filter((m) => !bodies.has(m));
  if (missing.length > 0) throw new ProtocolError('dkg_confirmation_mismatch', `no confirmation from ${missing.join(', ')}`);
  const first = bodies.get(committee.members[0] as string) as MessageBody<'dkg_confirm'>;
  const reference = canonicalJson(first);
  const disagreeing = committee.members.filter((m) => canonicalJson(bodies.get(m)) !== reference);
  if (disagreeing.length > 0) {
    throw new ProtocolError(
      'dkg_confirmation_mismatch',
      `confirmations disagree (${disagreeing.join(', ')} differ from ${committee.members[0]})`,
    );
  }
  if (first.keyId !== exp.keyId || first.suite !== exp.suite || first.threshold !== exp.threshold) {
    throw new ProtocolError('dkg_confirmation_mismatch', 'confirmations are for another key, suite or threshold');
  }
  return confirmedKeyPackage(suite, committee, exp.keyId, first, {
    code: 'dkg_confirmation_mismatch',
    batchDomain: 'glacis/dkg-certificate-batch/v1',
    transcript: utf8(canonicalJson({ members: committee.members, body: first })),
  });
}

/** What a confirmation states about the key it confirms (DKG and lifecycle confirmations alike). */
export interface ConfirmedKey {
  readonly publicKey: string;
  readonly groupCommitment: readonly string[];
  readonly verifyingShares: Readonly<Record<string, string>>;
}

/**
 * Checks that a confirmed key is consistent for `committee` and returns it as key `keyId`'s
 * public package: exactly t group-commitment elements, a verifying share for every member and nobody else, each the group
 * polynomial's image at its member's identifier, and `publicKey` the suite's encoding of Φ_0.
 * Fails with `o.code`. `o.transcript` must encode everything checked: it seeds the batch check's
 * coefficients (the check is deterministic, see `derivedBatchCoefficients`).
 */
export function confirmedKeyPackage(
  suite: Suite,
  committee: Committee,
  keyId: string,
  key: ConfirmedKey,
  o: { code: 'dkg_confirmation_mismatch' | 'lifecycle_confirmation_mismatch'; batchDomain: string; transcript: Uint8Array },
): PublicKeyPackage {
  if (key.groupCommitment.length !== committee.threshold) {
    throw new ProtocolError(o.code, `group commitment has ${key.groupCommitment.length} elements, expected ${committee.threshold}`);
  }
  const points = key.groupCommitment.map((h, i) => suite.parseElement(fromHex(h), `groupCommitment[${i}]`));
  const shares = committee.members.map((m) => {
    const vsHex = key.verifyingShares[m];
    if (vsHex === undefined) throw new ProtocolError(o.code, `no verifying share for ${m}`);
    return { m, vs: suite.parseElement(fromHex(vsHex), `verifyingShares.${m}`) };
  });
  // Y_m = Σ_k Φ_k·x_m^k for every member: all at once, and member by member only to say which not.
  const r = derivedBatchCoefficients(o.batchDomain, o.transcript, shares.length);
  if (!verifyingSharesConsistent(suite, points, shares, r)) {
    for (const { m, vs } of shares) {
      if (!evaluateVss(suite, points, committee.identifierOf.get(m) as string).equals(vs))
        throw new ProtocolError(o.code, `verifying share of ${m} is inconsistent with the group commitment`);
    }
  }
  if (Object.keys(key.verifyingShares).length !== committee.members.length) {
    throw new ProtocolError(o.code, 'verifying shares name parties outside the committee');
  }
  const frostPub = {
    signers: { min: committee.threshold, max: committee.members.length },
    commitments: key.groupCommitment.map((h) => fromHex(h)),
    verifyingShares: {},
  };
  if (toHex(suite.encodePublicKey(frostPub)) !== key.publicKey)
    throw new ProtocolError(o.code, 'public key does not match the group commitment');
  return {
    keyId,
    suite: suite.id,
    threshold: committee.threshold,
    committee: [...committee.members],
    publicKey: key.publicKey,
    groupCommitment: [...key.groupCommitment],
    verifyingShares: { ...key.verifyingShares },
  };
}

/**
 * True when every verifying share is the group polynomial's image at its member's identifier,
 * checked as Σ_m r_m·Y_m == Σ_k (Σ_m r_m·x_m^k)·Φ_k: two MSMs (n and t points) instead of n
 * t-point MSMs. The r_m are 128-bit and derived by hashing everything checked (the certificate is
 * verified without randomness), so shares that cancel out would take ~2¹²⁸ hashes to find. Every
 * point is a prime-order element (parseElement), so any inconsistency leaves a non-zero error.
 */
function verifyingSharesConsistent(
  suite: Suite,
  groupCommitment: readonly GroupPoint[],
  shares: readonly { m: string; vs: GroupPoint }[],
  r: readonly bigint[],
): boolean {
  const { Fn } = suite;
  const t = groupCommitment.length;
  const weights = new Array<bigint>(t).fill(Fn.create(0n));
  shares.forEach(({ m }, i) => {
    const x = suite.Fn.fromBytes(fromHex(suite.identifierFor(m)));
    powersOf(suite, x, t).forEach((p, k) => {
      weights[k] = Fn.add(weights[k] as bigint, Fn.mul(r[i] as bigint, p));
    });
  });
  const lhs = msm(
    suite,
    shares.map((s) => s.vs),
    r,
  );
  return lhs.equals(msm(suite, groupCommitment, weights));
}
