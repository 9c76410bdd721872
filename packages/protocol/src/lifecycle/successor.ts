/**
 * Two-phase key succession (refresh and reshare). A machine that derived a successor key returns
 * it as a `PendingSuccessor` together with a signed `lifecycle_confirm`; the new share is not live.
 * The successor's certificate is every new holder's confirmation, all identical, chained to the
 * key they succeed by the predecessor's hash (`verifyLifecycleCertificate`); only a party that has
 * checked it switches (`activateSuccessor`), and until then the old share keeps signing. A failure
 * at any point before the switch leaves the key exactly as it was.
 */
import { toHex, utf8 } from '../bytes.js';
import { canonicalJson } from '../canonical.js';
import { type Committee, makeCommittee } from '../committee.js';
import { confirmedKeyPackage } from '../dkg/certificate.js';
import { ProtocolError } from '../errors.js';
import { mulBaseSecret } from '../fast/group.js';
import { type KeyShare, makeVerifiedKeyShare, type PublicKeyPackage } from '../keys.js';
import { type GroupPoint, getSuite } from '../suites.js';
import { openEnvelope } from '../wire/envelope.js';
import type { Envelope, MessageBody, Outgoing } from '../wire/messages.js';
import { COORDINATOR } from '../wire/primitives.js';
import { type DecodedKey, keyPackageHash } from './key-package.js';

/** The operations that produce a successor key. */
export type SuccessorOperation = 'refresh' | 'reshare';

/** A successor key derived by this party, waiting for its certificate. */
export interface PendingSuccessor {
  readonly operation: SuccessorOperation;
  readonly keyId: string;
  readonly sessionId: string;
  /** keyPackageHash of the key this one succeeds. */
  readonly predecessor: string;
  /** The successor's public package: what its certificate must confirm. */
  readonly public: PublicKeyPackage;
  /** This party's new share. NOT live: sign with it only after `activateSuccessor`. */
  readonly share: KeyShare;
  toJSON(): string;
}

/** What a machine derived, as points. */
export interface DerivedSuccessor {
  readonly operation: SuccessorOperation;
  readonly sessionId: string;
  readonly transcriptHash: string;
  readonly predecessor: DecodedKey;
  readonly committee: Committee;
  readonly self: string;
  /** Φ'_0 … Φ'_{t'−1}. */
  readonly groupCommitment: readonly GroupPoint[];
  /** Y'_m for every member of `committee`. */
  readonly verifyingShares: ReadonlyMap<string, GroupPoint>;
  /** s'_self (secret). */
  readonly signingShare: bigint;
}

/**
 * Checks a derived successor against the key it succeeds and encodes it: the group element must be
 * unchanged (so the public key is) and s'·G must be our new verifying share, or
 * `lifecycle_key_mismatch` (nobody is named: with every share verified this only happens when the
 * predecessor package itself is inconsistent). Returns the confirmation to send and the pending key.
 */
export function concludeSuccessor(d: DerivedSuccessor): { confirm: Outgoing; pending: PendingSuccessor } {
  const { suite, pkg } = d.predecessor;
  const keyId = pkg.keyId;
  const mismatch = (why: string) => new ProtocolError('lifecycle_key_mismatch', `${d.operation} of ${keyId}: ${why}`);
  const group = d.groupCommitment[0];
  if (group === undefined || !group.equals(d.predecessor.groupCommitment[0] as GroupPoint)) throw mismatch('the group key would change');
  const own = d.verifyingShares.get(d.self);
  if (own === undefined || !mulBaseSecret(suite, d.signingShare).equals(own))
    throw mismatch('derived share does not match its verifying share');
  const encode = (p: GroupPoint, what: string) => {
    // Probability ~2⁻²⁵⁰ for honest input; the identity has no SerializeElement.
    if (p.is0()) throw mismatch(`${what} is the identity`);
    return toHex(p.toBytes());
  };
  const verifyingShares: Record<string, string> = {};
  for (const m of d.committee.members) verifyingShares[m] = encode(d.verifyingShares.get(m) as GroupPoint, `verifying share of ${m}`);
  const pub: PublicKeyPackage = {
    keyId,
    suite: suite.id,
    threshold: d.committee.threshold,
    committee: [...d.committee.members],
    publicKey: pkg.publicKey,
    groupCommitment: d.groupCommitment.map((p, k) => encode(p, `group commitment ${k}`)),
    verifyingShares,
  };
  const body: MessageBody<'lifecycle_confirm'> = {
    keyId,
    suite: suite.id,
    operation: d.operation,
    predecessor: d.predecessor.hash,
    threshold: pub.threshold,
    transcriptHash: d.transcriptHash,
    publicKey: pub.publicKey,
    groupCommitment: pub.groupCommitment,
    verifyingShares,
  };
  const shareBytes = suite.Fn.toBytes(d.signingShare);
  // s'·G was just checked against Y'_self, derived from the same points this package encodes.
  const share = makeVerifiedKeyShare(pub, d.self, shareBytes);
  shareBytes.fill(0);
  const pending: PendingSuccessor = Object.freeze({
    operation: d.operation,
    keyId,
    sessionId: d.sessionId,
    predecessor: d.predecessor.hash,
    public: pub,
    share,
    toJSON: () => `<pending ${d.operation} successor of ${keyId}/${d.self} redacted>`,
  });
  return { confirm: { type: 'lifecycle_confirm', sessionId: d.sessionId, to: COORDINATOR, body }, pending };
}

/** What a successor certificate must confirm. */
export interface LifecycleCertificateExpectation {
  /** The key being succeeded (from its own certificate). */
  predecessor: PublicKeyPackage;
  operation: SuccessorOperation;
  /** The session that derived the successor: confirmations of any other session do not count. */
  sessionId: string;
  /** The successor's committee and threshold (for a refresh, the predecessor's). */
  committee: readonly string[];
  threshold: number;
  /** Pinned identity keys of the successor's committee. */
  keyOf: (partyId: string) => Uint8Array | undefined;
}

/**
 * Checks a successor certificate and returns the successor's public package: every member of the
 * new committee confirmed exactly once, in this session, all identically, for this key and
 * predecessor, with the same group key, and a key that is consistent (`confirmedKeyPackage`).
 * Fails with `lifecycle_confirmation_mismatch`, naming a party only for what its own signatures
 * prove: two different confirmations in the session.
 */
export function verifyLifecycleCertificate(confirmations: readonly Envelope[], exp: LifecycleCertificateExpectation): PublicKeyPackage {
  const fail = (why: string, culprits: string[] = []) => new ProtocolError('lifecycle_confirmation_mismatch', why, culprits);
  const pred = exp.predecessor;
  const suite = getSuite(pred.suite);
  const committee = makeCommittee(suite, exp.committee, exp.threshold);
  if (
    exp.operation === 'refresh' &&
    (committee.threshold !== pred.threshold || canonicalJson(committee.members) !== canonicalJson([...pred.committee].sort()))
  ) {
    throw fail('a refresh keeps the committee and threshold');
  }
  const bodies = new Map<string, MessageBody<'lifecycle_confirm'>>();
  for (const env of confirmations) {
    const msg = openEnvelope(env, { self: COORDINATOR, keyOf: (p) => (committee.has(p) ? exp.keyOf(p) : undefined), anyRecipient: true });
    // Whoever assembled the certificate put these here; each may be an honest message of another
    // context (a DKG confirmation, an earlier attempt), so nobody is named for them.
    if (msg.type !== 'lifecycle_confirm') throw fail(`certificate holds a ${msg.type} from ${msg.from}`);
    if (msg.sessionId !== exp.sessionId) throw fail(`confirmation of ${msg.from} is for session ${msg.sessionId}, not ${exp.sessionId}`);
    const prev = bodies.get(msg.from);
    if (prev !== undefined) {
      // Two different confirmations in one session are both signed by their sender.
      throw fail(`${msg.from} confirmed twice`, canonicalJson(prev) === canonicalJson(msg.body) ? [] : [msg.from]);
    }
    bodies.set(msg.from, msg.body);
  }
  const missing = committee.members.filter((m) => !bodies.has(m));
  if (missing.length > 0) throw fail(`no confirmation from ${missing.join(', ')}`);
  const first = bodies.get(committee.members[0] as string) as MessageBody<'lifecycle_confirm'>;
  const reference = canonicalJson(first);
  const disagreeing = committee.members.filter((m) => canonicalJson(bodies.get(m)) !== reference);
  if (disagreeing.length > 0) throw fail(`confirmations disagree (${disagreeing.join(', ')} differ from ${committee.members[0]})`);
  if (first.keyId !== pred.keyId || first.suite !== pred.suite || first.operation !== exp.operation || first.threshold !== exp.threshold) {
    throw fail('confirmations are for another key, suite, operation or threshold');
  }
  if (first.predecessor !== keyPackageHash(pred)) throw fail('confirmations succeed another generation of the key');
  if (first.publicKey !== pred.publicKey || first.groupCommitment[0] !== pred.groupCommitment[0]) {
    throw fail('confirmations change the group key');
  }
  return confirmedKeyPackage(suite, committee, pred.keyId, first, {
    code: 'lifecycle_confirmation_mismatch',
    batchDomain: 'glacis/lifecycle-certificate-batch/v1',
    transcript: utf8(canonicalJson({ members: committee.members, body: first })),
  });
}

/**
 * The switch, for a party holding a pending successor: checks the certificate and that it confirms
 * exactly the successor this party derived, and returns the new share, now live. The caller then
 * replaces its old share (and discards nonces made under it). Throws, changing nothing, otherwise.
 */
export function activateSuccessor(
  pending: PendingSuccessor,
  certificate: { predecessor: PublicKeyPackage; confirmations: readonly Envelope[]; keyOf: (partyId: string) => Uint8Array | undefined },
): KeyShare {
  if (keyPackageHash(certificate.predecessor) !== pending.predecessor) {
    throw new ProtocolError('lifecycle_confirmation_mismatch', `certificate is checked against another generation of ${pending.keyId}`);
  }
  const confirmed = verifyLifecycleCertificate(certificate.confirmations, {
    predecessor: certificate.predecessor,
    operation: pending.operation,
    sessionId: pending.sessionId,
    committee: pending.public.committee,
    threshold: pending.public.threshold,
    keyOf: certificate.keyOf,
  });
  if (canonicalJson(confirmed) !== canonicalJson(pending.public)) {
    throw new ProtocolError('lifecycle_confirmation_mismatch', `certificate confirms another successor of ${pending.keyId} than ours`);
  }
  return pending.share;
}
