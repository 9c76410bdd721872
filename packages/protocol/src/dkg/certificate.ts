/**
 * The DKG success certificate: every committee member's signed `dkg_confirm`, all agreeing. Anyone
 * holding the members' identity keys can check it; the coordinator activates a key only with one,
 * and a party only treats its share as live once it has seen one.
 */
import { fromHex, toHex } from '../bytes.js';
import { canonicalJson } from '../canonical.js';
import { makeCommittee } from '../committee.js';
import { ProtocolError } from '../errors.js';
import type { PublicKeyPackage } from '../keys.js';
import { getSuite } from '../suites.js';
import { evaluateVss } from '../vss.js';
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
  for (const m of committee.members) {
    const vsHex = first.verifyingShares[m];
    if (vsHex === undefined) throw new ProtocolError('dkg_confirmation_mismatch', `no verifying share for ${m}`);
    const vs = suite.parseElement(fromHex(vsHex), `verifyingShares.${m}`);
    if (!evaluateVss(suite, points, committee.identifierOf.get(m) as string).equals(vs))
      throw new ProtocolError('dkg_confirmation_mismatch', `verifying share of ${m} is inconsistent with the group commitment`);
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
