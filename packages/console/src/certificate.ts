/**
 * A key's certificate, checked in the browser against the identity keys the user pinned in the
 * console — never against the `identityKey` the coordinator writes beside each confirmation, which
 * is only compared. The checks follow `glacis keys verify` (packages/client/src/verify-key.ts and
 * the protocol's verifyDkgCertificate and verifyLifecycleCertificate), in its order, with its
 * refusal codes; the first failure is the verdict:
 *
 *   1. the key is active and has a certificate and a public key;
 *   2. every committee member is pinned; every confirmation (of the DKG and of the lineage) names
 *      its sender (`partyId` = `from`), comes from a pinned party (or one with retired keys), and
 *      the coordinator's `identityKey` for it, if any, is the pin;
 *   3. the DKG certificate: each confirmation is a `v: 1` `dkg_confirm` from a committee member
 *      whose Ed25519 signature over `"glacis/envelope/v1" ‖ 0x00 ‖ canonical-JSON({body, from,
 *      seq, sessionId, to, type, v})` verifies under a key pinned for it (its current one, or one
 *      of its retired ones); exactly one from each member; all bodies identical; the body's keyId
 *      and suite the key's; `groupCommitment` of `threshold` elements and `verifyingShares` naming
 *      exactly the committee. Without lineage the committee and threshold are the served ones;
 *      with one, the DKG's own (its confirmations name them);
 *   4. each link of the lineage (refresh, repair, reshare), in order, against the generation
 *      before it: a refresh or reshare by every new member's signed `lifecycle_confirm` of this
 *      session, all agreeing, succeeding exactly that generation (`predecessor` =
 *      keyPackageHash, SHA-256 here) with the same public key; a repair by the repaired member's
 *      signed `repair_confirm` of this session for its certified verifying share;
 *   5. the served publicKey, verifyingShares, committee and threshold are the last generation's;
 *   6. each member's latest signature in the key's history is under its current identity key.
 *
 * What it does not do (docs/console.md): the curve arithmetic — that `groupCommitment` ties to
 * `publicKey` and to each verifying share (step 6 of docs/api.md), and a repair's proof of
 * knowledge of the share. Every member signed the same values and the repaired member signed its
 * proof, so only a wholly faulty committee or member could pass what the CLI would refuse;
 * `glacis keys verify` checks that too.
 */
import type { Confirmation, Key, LineageLink } from './api-types.js';
import { canonicalBytes, canonicalJson } from './canonical.js';
import { type Subtle, sha256, verifyEd25519 } from './ed25519.js';
import { isConsoleError } from './errors.js';
import { fromHex, isHex, toHex } from './hex.js';

/** Why a key is refused: the codes of `glacis keys verify` (docs/errors.md, the desk's CLI). */
export type KeyRefusalCode =
  | 'key_not_active'
  | 'no_certificate'
  | 'untrusted_party'
  | 'identity_mismatch'
  | 'malformed_confirmation'
  | 'certificate_invalid'
  | 'public_key_mismatch'
  | 'verifying_shares_mismatch'
  | 'committee_mismatch'
  | 'stale_identity';

/** The verdict on one key. */
export type KeyVerdict =
  | { ok: true; keyId: string; publicKey: string }
  | { ok: false; keyId: string; code: KeyRefusalCode; reason: string };

/** Pinned identity keys: party id → Ed25519 public key (hex). */
export type Pins = Readonly<Record<string, string>>;
/** Identity keys parties held before they were re-created: party id → keys (hex). */
export type RetiredPins = Readonly<Record<string, readonly string[]>>;

const ENVELOPE_DOMAIN = 'glacis/envelope/v1';
const KEY_PACKAGE_DOMAIN = 'glacis/key-package/v1';

/** A generation of the key: the protocol's PublicKeyPackage. */
interface Generation {
  keyId: string;
  suite: string;
  threshold: number;
  committee: string[];
  publicKey: string;
  groupCommitment: string[];
  verifyingShares: Record<string, string>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A check that failed: its code and reason (thrown inside, returned as the verdict). */
class Refusal extends Error {
  constructor(
    readonly code: KeyRefusalCode,
    reason: string,
  ) {
    super(reason);
  }
}
const invalid = (reason: string) => new Refusal('certificate_invalid', reason);

/** Checks `key` against `pins` (and `retired` keys). Never throws for a bad key: it refuses it. */
export async function verifyKeyCertificate(subtle: Subtle, key: Key, pins: Pins, retired: RetiredPins = {}): Promise<KeyVerdict> {
  try {
    const publicKey = await check(subtle, key, pins, retired);
    return { ok: true, keyId: key.keyId, publicKey };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, keyId: key.keyId, code: e.code, reason: e.message };
    // A body with no canonical form (a float, nesting too deep) was signed by nobody.
    if (isConsoleError(e, 'invalid_encoding') || isConsoleError(e, 'bad_response')) {
      return { ok: false, keyId: key.keyId, code: 'certificate_invalid', reason: `a confirmation is malformed: ${e.message}` };
    }
    throw e;
  }
}

/** The public key of `key` once every check passed; throws a Refusal otherwise. */
async function check(subtle: Subtle, key: Key, pins: Pins, retired: RetiredPins): Promise<string> {
  const pinned = (partyId: string) => (Object.hasOwn(pins, partyId) ? pins[partyId] : undefined);
  const retiredOf = (partyId: string) => (Object.hasOwn(retired, partyId) ? (retired[partyId] ?? []) : []);

  if (key.status !== 'active') throw new Refusal('key_not_active', `the key is ${key.status}: only an active key has a certificate`);
  if (key.certificate === null || key.publicKey === null)
    throw new Refusal('no_certificate', 'the coordinator serves no certificate for this key');
  const lineage = key.certificate.lineage ?? [];

  for (const member of key.parties) {
    if (pinned(member) === undefined) throw new Refusal('untrusted_party', `committee member ${member} is not pinned`);
  }
  for (const c of [...key.certificate.confirmations, ...lineage.flatMap((l) => l.confirmations)]) {
    if (c.partyId !== c.from) throw new Refusal('malformed_confirmation', `a confirmation names ${c.partyId} but was sent by ${c.from}`);
    const mine = pinned(c.from);
    if (mine === undefined && retiredOf(c.from).length === 0) {
      throw new Refusal('untrusted_party', `a confirmation comes from ${c.from}, who is not pinned`);
    }
    if (c.identityKey !== null && c.identityKey !== mine) {
      throw new Refusal('identity_mismatch', `the coordinator pins ${c.identityKey} for ${c.from}; you pinned ${mine}`);
    }
  }

  /** Each party's latest signature in the history: under its current pin, or a retired one. */
  const latest = new Map<string, boolean>();
  /** Checks `c`'s envelope signature under the keys pinned for its sender; records which signed. */
  async function signed(c: Confirmation): Promise<void> {
    const bytes = canonicalBytes(ENVELOPE_DOMAIN, {
      v: c.v,
      type: c.type,
      sessionId: c.sessionId,
      from: c.from,
      to: c.to,
      seq: c.seq,
      body: c.body,
    });
    const current = pinned(c.from);
    const candidates = [current, ...retiredOf(c.from)].filter((k): k is string => k !== undefined);
    if (isHex(c.signature, 64)) {
      for (const [i, hex] of candidates.entries()) {
        if (await verifyEd25519(subtle, fromHex(c.signature, 'signature'), bytes, fromHex(hex, `pin of ${c.from}`))) {
          latest.set(c.from, i === 0 && hex === current);
          return;
        }
      }
    }
    throw invalid(`envelope from ${c.from}: signature does not verify`);
  }

  let generation: Generation;
  if (lineage.length === 0) {
    generation = await checkDkg(key, key.parties, key.threshold, signed);
  } else {
    const origin = key.certificate.confirmations[0]?.body;
    if (!isRecord(origin) || !isRecord(origin.verifyingShares) || typeof origin.threshold !== 'number') {
      throw invalid('the DKG certificate holds no dkg_confirm');
    }
    generation = await checkDkg(key, Object.keys(origin.verifyingShares).sort(), origin.threshold, signed);
    for (const link of lineage) generation = await followLink(subtle, generation, link, signed);
  }

  if (generation.publicKey !== key.publicKey) {
    throw new Refusal(
      'public_key_mismatch',
      `the coordinator serves publicKey ${key.publicKey}, but the committee confirmed ${generation.publicKey}`,
    );
  }
  if (canonicalJson(generation.verifyingShares) !== canonicalJson(key.verifyingShares)) {
    throw new Refusal('verifying_shares_mismatch', 'the served verifyingShares are not the ones the committee confirmed');
  }
  if (generation.threshold !== key.threshold || canonicalJson(generation.committee) !== canonicalJson([...key.parties].sort())) {
    throw new Refusal('committee_mismatch', "the served committee or threshold is not the one the key's last certificate confirmed");
  }
  const stale = generation.committee.filter((m) => latest.get(m) === false);
  if (stale.length > 0) {
    throw new Refusal(
      'stale_identity',
      `the latest signature of ${stale.join(', ')} in this key's history is under a retired identity key`,
    );
  }
  return generation.publicKey;
}

/** The confirmations of one certificate from `members`, one each, signed, all agreeing: their body. */
async function agreedBody(
  confirmations: readonly Confirmation[],
  members: readonly string[],
  type: string,
  sessionId: string | undefined,
  signed: (c: Confirmation) => Promise<void>,
): Promise<Record<string, unknown>> {
  const committee = new Set(members);
  const bodies = new Map<string, unknown>();
  for (const c of confirmations) {
    if (c.v !== 1) throw invalid(`envelope version ${c.v} is not supported (expected 1)`);
    if (!committee.has(c.from)) throw invalid(`envelope from unknown sender "${c.from}"`);
    await signed(c);
    if (c.type !== type) throw invalid(`certificate holds a ${c.type} from ${c.from}`);
    if (sessionId !== undefined && c.sessionId !== sessionId) {
      throw invalid(`confirmation of ${c.from} is for session ${c.sessionId}, not ${sessionId}`);
    }
    if (bodies.has(c.from)) throw invalid(`${c.from} confirmed twice`);
    bodies.set(c.from, c.body);
  }
  const missing = members.filter((m) => !bodies.has(m));
  if (missing.length > 0) throw invalid(`no confirmation from ${missing.join(', ')}`);
  const first = bodies.get(members[0] as string);
  const reference = canonicalJson(first);
  const disagreeing = members.filter((m) => canonicalJson(bodies.get(m)) !== reference);
  if (disagreeing.length > 0) throw invalid(`confirmations disagree (${disagreeing.join(', ')} differ from ${members[0]})`);
  if (!isRecord(first)) throw invalid('a confirmation has no body');
  return first;
}

/** The generation a confirmed body describes, for `committee`; throws unless it is well formed. */
function generationOf(keyId: string, suite: string, committee: readonly string[], body: Record<string, unknown>): Generation {
  const threshold = body.threshold as number;
  if (!Array.isArray(body.groupCommitment) || body.groupCommitment.length !== threshold) {
    throw invalid(
      `group commitment has ${Array.isArray(body.groupCommitment) ? body.groupCommitment.length : 'no'} elements, expected ${threshold}`,
    );
  }
  const shares = body.verifyingShares;
  if (!isRecord(shares)) throw invalid('the confirmations carry no verifying shares');
  const unshared = committee.find((m) => typeof shares[m] !== 'string');
  if (unshared !== undefined) throw invalid(`no verifying share for ${unshared}`);
  if (Object.keys(shares).length !== committee.length) throw invalid('verifying shares name parties outside the committee');
  if (typeof body.publicKey !== 'string') throw invalid('the confirmations carry no public key');
  return {
    keyId,
    suite,
    threshold,
    committee: [...committee].sort(),
    publicKey: body.publicKey,
    groupCommitment: body.groupCommitment as string[],
    verifyingShares: shares as Record<string, string>,
  };
}

/** Step 3: the DKG certificate, for `parties` at `threshold`. */
async function checkDkg(
  key: Key,
  parties: readonly string[],
  threshold: number,
  signed: (c: Confirmation) => Promise<void>,
): Promise<Generation> {
  const committee = new Set(parties);
  if (committee.size !== parties.length || !Number.isSafeInteger(threshold) || threshold < 2 || threshold > committee.size) {
    throw invalid(`${threshold} of [${parties.join(', ')}] is not a committee`);
  }
  const confirmations = (key.certificate as { confirmations: Confirmation[] }).confirmations;
  const body = await agreedBody(confirmations, parties, 'dkg_confirm', undefined, signed);
  if (body.keyId !== key.keyId || body.suite !== key.suite || body.threshold !== threshold) {
    throw invalid('confirmations are for another key, suite or threshold');
  }
  return generationOf(key.keyId, key.suite, parties, body);
}

/** Step 4: the generation after `pkg` that `link` certifies. */
async function followLink(
  subtle: Subtle,
  pkg: Generation,
  link: LineageLink,
  signed: (c: Confirmation) => Promise<void>,
): Promise<Generation> {
  if (link.operation === 'repair') {
    const [c] = link.confirmations;
    if (link.confirmations.length !== 1 || c === undefined) throw invalid('a repair link holds one confirmation');
    if (!pkg.committee.includes(c.from)) throw invalid(`envelope from unknown sender "${c.from}"`);
    const body = await agreedBody([c], [c.from], 'repair_confirm', link.sessionId, signed);
    if (body.keyId !== pkg.keyId || body.verifyingShare !== pkg.verifyingShares[c.from]) {
      throw invalid(`the repair of ${c.from} proves another share than its certified verifying share`);
    }
    return pkg;
  }
  if (link.operation !== 'refresh' && link.operation !== 'reshare') throw invalid(`a lineage link of unknown operation ${link.operation}`);
  const origin = link.confirmations[0]?.body;
  if (!isRecord(origin) || !isRecord(origin.verifyingShares)) {
    throw invalid(`${link.operation} link ${link.sessionId} holds no lifecycle_confirm`);
  }
  const members = Object.keys(origin.verifyingShares).sort();
  const threshold = origin.threshold;
  if (!Number.isSafeInteger(threshold) || (threshold as number) < 2 || (threshold as number) > members.length) {
    throw invalid(`${String(threshold)} of [${members.join(', ')}] is not a committee`);
  }
  if (link.operation === 'refresh' && (threshold !== pkg.threshold || canonicalJson(members) !== canonicalJson(pkg.committee))) {
    throw invalid('a refresh keeps the committee and threshold');
  }
  const body = await agreedBody(link.confirmations, members, 'lifecycle_confirm', link.sessionId, signed);
  if (body.keyId !== pkg.keyId || body.suite !== pkg.suite || body.operation !== link.operation || body.threshold !== threshold) {
    throw invalid('confirmations are for another key, suite, operation or threshold');
  }
  const predecessor = toHex(await sha256(subtle, canonicalBytes(KEY_PACKAGE_DOMAIN, pkg)));
  if (body.predecessor !== predecessor) throw invalid('confirmations succeed another generation of the key');
  if (body.publicKey !== pkg.publicKey || !Array.isArray(body.groupCommitment) || body.groupCommitment[0] !== pkg.groupCommitment[0]) {
    throw invalid('confirmations change the group key');
  }
  return generationOf(pkg.keyId, pkg.suite, members, body);
}
