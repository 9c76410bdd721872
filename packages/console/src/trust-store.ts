/**
 * What the user pinned, in this browser's localStorage for the coordinator's origin: party
 * identity keys (the `glacis` CLI's trust-file format, `{"parties":{id: hex}, "retired":{id:
 * [hex, …]}}`: `retired` holds the keys a party had before its operator re-created it), and audit anchors
 * (`SEQ:HASH`). Neither is secret and neither is ever sent anywhere: the console only reads them to
 * check what the coordinator serves. They are not protected from the coordinator itself, which
 * serves the code of this page (docs/console.md, "What the browser's checks are worth").
 */
import { type ChainPoint, parseAnchor } from './audit-chain.js';
import { ConsoleError } from './errors.js';
import { isHex } from './hex.js';

const PINS = 'glacis.console.pins';
const RETIRED = 'glacis.console.retired';
const ANCHORS = 'glacis.console.anchors';

/** A party id as the protocol allows it (`partyIdSchema`). */
const PARTY_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Pinned identity keys: party id → Ed25519 public key (64 lowercase hex characters). */
export type PinnedParties = Record<string, string>;
/** Retired identity keys: party id → the keys it held before it was re-created. */
export type RetiredKeys = Record<string, string[]>;
/** A parsed trust file. */
export interface TrustFile {
  parties: PinnedParties;
  retired: RetiredKeys;
}

/** The most retired keys one party may list (the CLI's limit). */
const MAX_RETIRED = 64;

const bad = (reason: string): never => {
  throw new ConsoleError('invalid_trust_file', reason);
};

/** Checks one pin; returns the key lowercased and trimmed. Throws `invalid_trust_file`. */
export function checkPin(partyId: string, identityKey: string): string {
  if (!PARTY_ID.test(partyId)) bad(`"${partyId}" is not a party id (1-63 of a-z 0-9 . _ -, starting with a letter or digit)`);
  const key = identityKey.trim().toLowerCase();
  if (!isHex(key, 32)) bad(`the identity key of ${partyId} is not an Ed25519 public key (64 hex characters)`);
  return key;
}

/** Parses a trust file as `glacis keys verify --trust` reads it: strict, at least one party. */
export function parseTrustFile(text: string): TrustFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return bad('expected {"parties": {…}}');
  const extra = Object.keys(json).filter((k) => k !== 'parties' && k !== 'retired');
  if (extra.length > 0) bad(`unknown field ${extra[0]}`);
  const parties = (json as { parties?: unknown }).parties;
  if (typeof parties !== 'object' || parties === null || Array.isArray(parties)) return bad('parties: expected an object');
  const out: PinnedParties = {};
  for (const [id, key] of Object.entries(parties)) {
    if (typeof key !== 'string') bad(`parties.${id}: expected a string`);
    // The CLI takes the file's hex as it is: lowercase only, no spaces.
    if (!isHex(key as string, 32)) bad(`parties.${id}: expected an Ed25519 public key: 64 lowercase hex characters`);
    out[id] = checkPin(id, key as string);
  }
  if (Object.keys(out).length === 0) bad('no party pinned');
  const retired: RetiredKeys = {};
  const listed = (json as { retired?: unknown }).retired;
  if (listed !== undefined) {
    if (typeof listed !== 'object' || listed === null || Array.isArray(listed)) return bad('retired: expected an object');
    for (const [id, keys] of Object.entries(listed)) {
      if (!Array.isArray(keys) || keys.length > MAX_RETIRED) bad(`retired.${id}: expected a list of at most ${MAX_RETIRED} keys`);
      retired[id] = (keys as unknown[]).map((key, i) => {
        if (typeof key !== 'string' || !isHex(key, 32))
          bad(`retired.${id}[${i}]: expected an Ed25519 public key: 64 lowercase hex characters`);
        return checkPin(id, key as string);
      });
    }
  }
  return { parties: out, retired };
}

function read(storage: Storage, key: string): unknown {
  try {
    return JSON.parse(storage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

/** The pins saved in `storage` (a damaged entry reads as none: nothing unpinned is trusted). */
export function loadPins(storage: Storage = globalThis.localStorage): PinnedParties {
  const v = read(storage, PINS);
  if (typeof v !== 'object' || v === null) return {};
  const out: PinnedParties = {};
  for (const [id, key] of Object.entries(v)) {
    if (typeof key === 'string' && PARTY_ID.test(id) && isHex(key, 32)) out[id] = key;
  }
  return out;
}

/** Saves `pins`, replacing what was saved. */
export function savePins(pins: PinnedParties, storage: Storage = globalThis.localStorage): void {
  storage.setItem(PINS, JSON.stringify(pins));
}

/** The retired keys saved in `storage` (a damaged entry reads as none). */
export function loadRetired(storage: Storage = globalThis.localStorage): RetiredKeys {
  const v = read(storage, RETIRED);
  if (typeof v !== 'object' || v === null) return {};
  const out: RetiredKeys = {};
  for (const [id, keys] of Object.entries(v)) {
    if (!PARTY_ID.test(id) || !Array.isArray(keys)) continue;
    const good = keys.filter((k): k is string => typeof k === 'string' && isHex(k, 32));
    if (good.length > 0) out[id] = good.slice(0, MAX_RETIRED);
  }
  return out;
}

/** Saves `retired`, replacing what was saved. */
export function saveRetired(retired: RetiredKeys, storage: Storage = globalThis.localStorage): void {
  storage.setItem(RETIRED, JSON.stringify(retired));
}

/** The anchors saved in `storage`. */
export function loadAnchors(storage: Storage = globalThis.localStorage): ChainPoint[] {
  const v = read(storage, ANCHORS);
  if (!Array.isArray(v)) return [];
  const out: ChainPoint[] = [];
  for (const text of v) {
    try {
      if (typeof text === 'string') out.push(parseAnchor(text));
    } catch {
      // A damaged anchor is dropped: it proves nothing either way.
    }
  }
  return out;
}

/** Saves `anchors`, replacing what was saved. */
export function saveAnchors(anchors: readonly ChainPoint[], storage: Storage = globalThis.localStorage): void {
  storage.setItem(ANCHORS, JSON.stringify(anchors.map((a) => `${a.seq}:${a.hash}`)));
}
