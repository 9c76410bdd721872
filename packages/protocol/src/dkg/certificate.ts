/**
 * The DKG success certificate: every committee member's signed `dkg_confirm`, all agreeing. Anyone
 * holding the members' identity keys can check it; the coordinator activates a key only with one,
 * and a party only treats its share as live once it has seen one.
 */
import { fromHex, toHex, utf8 } from '../bytes.js';
import { canonicalJson } from '../canonical.js';
import { makeCommittee } from '../committee.js';
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
  if (first.groupCommitment.length !== committee.threshold) {
    throw new ProtocolError(
      'dkg_confirmation_mismatch',
      `group commitment has ${first.groupCommitment.length} elements, expected ${committee.threshold}`,
    );
  }
  const points = first.groupCommitment.map((h, i) => suite.parseElement(fromHex(h), `groupCommitment[${i}]`));
  const shares = committee.members.map((m) => {
    const vsHex = first.verifyingShares[m];
    if (vsHex === undefined) throw new ProtocolError('dkg_confirmation_mismatch', `no verifying share for ${m}`);
    return { m, vs: suite.parseElement(fromHex(vsHex), `verifyingShares.${m}`) };
  });
  // Y_m = Σ_k Φ_k·x_m^k for every member: all at once, and member by member only to say which not.
  if (!verifyingSharesConsistent(suite, points, shares, committee.members, first)) {
    for (const { m, vs } of shares) {
      if (!evaluateVss(suite, points, committee.identifierOf.get(m) as string).equals(vs))
        throw new ProtocolError('dkg_confirmation_mismatch', `verifying share of ${m} is inconsistent with the group commitment`);
    }
  }
  if (Object.keys(first.verifyingShares).length !== committee.members.length) {
    throw new ProtocolError('dkg_confirmation_mismatch', 'verifying shares name parties outside the committee');
  }
  const groupCommitment = first.groupCommitment;
  const frostPub = {
    signers: { min: committee.threshold, max: committee.members.length },
    commitments: groupCommitment.map((h) => fromHex(h)),
    verifyingShares: {},
  };
  const publicKey = toHex(suite.encodePublicKey(frostPub));
  if (publicKey !== first.publicKey) throw new ProtocolError('dkg_confirmation_mismatch', 'public key does not match the group commitment');
  return {
    keyId: exp.keyId,
    suite: suite.id,
    threshold: committee.threshold,
    committee: [...committee.members],
    publicKey,
    groupCommitment: [...groupCommitment],
    verifyingShares: { ...first.verifyingShares },
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
  members: readonly string[],
  body: MessageBody<'dkg_confirm'>,
): boolean {
  const { Fn } = suite;
  const transcript = utf8(canonicalJson({ members, body }));
  const r = derivedBatchCoefficients('glacis/dkg-certificate-batch/v1', transcript, shares.length);
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
