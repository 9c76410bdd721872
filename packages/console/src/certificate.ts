/**
 * A key's DKG certificate, checked in the browser against the identity keys the user pinned in the
 * console — never against the `identityKey` the coordinator writes beside each confirmation, which
 * is only compared. The checks follow `glacis keys verify` (packages/client/src/verify-key.ts and
 * the protocol's verifyDkgCertificate), in its order, with its refusal codes; the first failure is
 * the verdict:
 *
 *   1. the key is active and has a certificate and a public key;
 *   2. every committee member is pinned; every confirmation names its sender (`partyId` = `from`),
 *      comes from a pinned party, and the coordinator's `identityKey` for it, if any, is the pin;
 *   3. each confirmation is a `v: 1` `dkg_confirm` from a committee member whose Ed25519 signature
 *      over `"glacis/envelope/v1" ‖ 0x00 ‖ canonical-JSON({body, from, seq, sessionId, to, type,
 *      v})` verifies under the pinned key; exactly one from each member; all bodies identical; the
 *      body's keyId, suite and threshold the key's; `groupCommitment` of `threshold` elements and
 *      `verifyingShares` naming exactly the committee;
 *   4. the served publicKey and verifyingShares are the confirmed ones.
 *
 * What it does not do (docs/console.md): step 6 of docs/api.md, the curve arithmetic that ties
 * `groupCommitment` to `publicKey` and to each verifying share. Every member signed the same values,
 * so only a committee that is wholly faulty could confirm an inconsistent key; `glacis keys verify`
 * checks that too.
 */
import type { Key } from './api-types.js';
import { canonicalBytes, canonicalJson } from './canonical.js';
import { type Subtle, verifyEd25519 } from './ed25519.js';
import { isConsoleError } from './errors.js';
import { fromHex, isHex } from './hex.js';

/** Why a key is refused: the codes of `glacis keys verify` (docs/errors.md, the desk's CLI). */
export type KeyRefusalCode =
  | 'key_not_active'
  | 'no_certificate'
  | 'untrusted_party'
  | 'identity_mismatch'
  | 'malformed_confirmation'
  | 'certificate_invalid'
  | 'public_key_mismatch'
  | 'verifying_shares_mismatch';

/** The verdict on one key. */
export type KeyVerdict =
  | { ok: true; keyId: string; publicKey: string }
  | { ok: false; keyId: string; code: KeyRefusalCode; reason: string };

/** Pinned identity keys: party id → Ed25519 public key (hex). */
export type Pins = Readonly<Record<string, string>>;

const ENVELOPE_DOMAIN = 'glacis/envelope/v1';

/** The body fields the check reads; a confirmation whose body lacks them is refused. */
interface ConfirmBody {
  keyId: unknown;
  suite: unknown;
  threshold: unknown;
  publicKey: unknown;
  groupCommitment: unknown;
  verifyingShares: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks `key` against `pins`. Never throws for a bad key: it refuses it. */
export async function verifyKeyCertificate(subtle: Subtle, key: Key, pins: Pins): Promise<KeyVerdict> {
  try {
    return await check(subtle, key, pins);
  } catch (e) {
    // A body with no canonical form (a float, nesting too deep) was signed by nobody.
    if (isConsoleError(e, 'invalid_encoding') || isConsoleError(e, 'bad_response')) {
      return { ok: false, keyId: key.keyId, code: 'certificate_invalid', reason: `a confirmation is malformed: ${e.message}` };
    }
    throw e;
  }
}

async function check(subtle: Subtle, key: Key, pins: Pins): Promise<KeyVerdict> {
  const refuse = (code: KeyRefusalCode, reason: string): KeyVerdict => ({ ok: false, keyId: key.keyId, code, reason });
  const invalid = (reason: string) => refuse('certificate_invalid', reason);
  const pinned = (partyId: string) => (Object.hasOwn(pins, partyId) ? pins[partyId] : undefined);

  if (key.status !== 'active') return refuse('key_not_active', `the key is ${key.status}: only an active key has a certificate`);
  if (key.certificate === null || key.publicKey === null)
    return refuse('no_certificate', 'the coordinator serves no certificate for this key');

  for (const member of key.parties) {
    if (pinned(member) === undefined) return refuse('untrusted_party', `committee member ${member} is not pinned`);
  }
  const confirmations = key.certificate.confirmations;
  for (const c of confirmations) {
    if (c.partyId !== c.from) return refuse('malformed_confirmation', `a confirmation names ${c.partyId} but was sent by ${c.from}`);
    const mine = pinned(c.from);
    if (mine === undefined) return refuse('untrusted_party', `a confirmation comes from ${c.from}, who is not pinned`);
    if (c.identityKey !== null && c.identityKey !== mine) {
      return refuse('identity_mismatch', `the coordinator pins ${c.identityKey} for ${c.from}; you pinned ${mine}`);
    }
  }

  const committee = new Set(key.parties);
  if (committee.size !== key.parties.length || key.threshold < 2 || key.threshold > committee.size) {
    return invalid(`${key.threshold} of [${key.parties.join(', ')}] is not a committee`);
  }
  const bodies = new Map<string, unknown>();
  for (const c of confirmations) {
    if (c.v !== 1) return invalid(`envelope version ${c.v} is not supported (expected 1)`);
    if (!committee.has(c.from)) return invalid(`envelope from unknown sender "${c.from}"`);
    if (!isHex(c.signature, 64)) return invalid(`envelope from ${c.from}: signature does not verify`);
    const signed = canonicalBytes(ENVELOPE_DOMAIN, {
      v: c.v,
      type: c.type,
      sessionId: c.sessionId,
      from: c.from,
      to: c.to,
      seq: c.seq,
      body: c.body,
    });
    const pin = fromHex(pinned(c.from) as string, `pin of ${c.from}`);
    if (!(await verifyEd25519(subtle, fromHex(c.signature, 'signature'), signed, pin))) {
      return invalid(`envelope from ${c.from}: signature does not verify`);
    }
    if (c.type !== 'dkg_confirm') return invalid(`certificate holds a ${c.type} from ${c.from}`);
    if (bodies.has(c.from)) return invalid(`${c.from} confirmed twice`);
    bodies.set(c.from, c.body);
  }
  const missing = key.parties.filter((m) => !bodies.has(m));
  if (missing.length > 0) return invalid(`no confirmation from ${missing.join(', ')}`);

  const first = bodies.get(key.parties[0] as string);
  const reference = canonicalJson(first);
  const disagreeing = key.parties.filter((m) => canonicalJson(bodies.get(m)) !== reference);
  if (disagreeing.length > 0) return invalid(`confirmations disagree (${disagreeing.join(', ')} differ from ${key.parties[0]})`);
  if (!isRecord(first)) return invalid('a confirmation has no body');
  const body = first as Partial<ConfirmBody>;
  if (body.keyId !== key.keyId || body.suite !== key.suite || body.threshold !== key.threshold) {
    return invalid('confirmations are for another key, suite or threshold');
  }
  if (!Array.isArray(body.groupCommitment) || body.groupCommitment.length !== key.threshold) {
    return invalid(
      `group commitment has ${Array.isArray(body.groupCommitment) ? body.groupCommitment.length : 'no'} elements, expected ${key.threshold}`,
    );
  }
  if (!isRecord(body.verifyingShares)) return invalid('the confirmations carry no verifying shares');
  const shareHolders = Object.keys(body.verifyingShares);
  const unshared = key.parties.find((m) => typeof (body.verifyingShares as Record<string, unknown>)[m] !== 'string');
  if (unshared !== undefined) return invalid(`no verifying share for ${unshared}`);
  if (shareHolders.length !== key.parties.length) return invalid('verifying shares name parties outside the committee');
  if (typeof body.publicKey !== 'string') return invalid('the confirmations carry no public key');

  if (body.publicKey !== key.publicKey) {
    return refuse(
      'public_key_mismatch',
      `the coordinator serves publicKey ${key.publicKey}, but the committee confirmed ${body.publicKey}`,
    );
  }
  if (canonicalJson(body.verifyingShares) !== canonicalJson(key.verifyingShares)) {
    return refuse('verifying_shares_mismatch', 'the served verifyingShares are not the ones the committee confirmed');
  }
  return { ok: true, keyId: key.keyId, publicKey: body.publicKey };
}
