/**
 * `glacis-party drill`: the drill a party runs on its own stored shares, without the coordinator.
 * For each active share it makes a proof of knowledge for a fresh random challenge
 * (protocol `proveShareIntact`) and checks it against the share's certified verifying share
 * (`verifyShareDrill`): a share that was damaged on disk, or no longer matches its key, fails.
 */
import { randomBytes } from 'node:crypto';
import { isProtocolError, proveShareIntact, type Rng, toHex, verifyShareDrill } from '@glacis/protocol';
import { isPartyError } from '../errors.js';
import type { Keystore } from '../keystore/keystore.js';

/** One key's verdict. */
export type LocalDrillResult =
  | { keyId: string; generation: number; ok: true }
  | { keyId: string; generation: number | null; ok: false; code: string; reason: string };

/** Drills every active share of `keystore` (or only `keyId`'s). */
export function drillLocally(
  keystore: Keystore,
  partyId: string,
  keyId?: string,
  rng: Rng = (n = 32) => new Uint8Array(randomBytes(n)),
): { ok: boolean; partyId: string; keys: LocalDrillResult[] } {
  const ids =
    keyId === undefined
      ? keystore
          .list()
          .filter((s) => s.status === 'active')
          .map((s) => s.share.keyId)
      : [keyId];
  const keys = ids.map((id): LocalDrillResult => {
    let generation: number | null = null;
    try {
      const stored = keystore.get(id);
      if (stored?.status !== 'active')
        return { keyId: id, generation, ok: false, code: 'unknown_key', reason: 'no active share of this key here' };
      generation = stored.generation;
      const challenge = { keyId: id, partyId, drillId: `local-${toHex(rng(8))}`, nonce: toHex(rng(32)) };
      verifyShareDrill(stored.share.public, challenge, proveShareIntact(stored.share, challenge, rng));
      return { keyId: id, generation: stored.generation, ok: true };
    } catch (e) {
      if (!isProtocolError(e) && !isPartyError(e)) throw e;
      return { keyId: id, generation, ok: false, code: e.code, reason: e.message };
    }
  });
  return { ok: keys.every((k) => k.ok), partyId, keys };
}
