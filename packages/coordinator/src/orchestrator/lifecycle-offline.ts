/**
 * Lifecycle operations and offline parties (docs/offline.md). A refresh, reshare or drill runs as
 * one online session between every member it involves (a reshare: the current committee and the
 * new one), which an air-gapped party reached by bundles cannot join; until these run through
 * bundles such an operation is refused with `offline_party_in_committee`, or failed with it if it
 * was already pending (accepted before the party was configured offline), rather than left to wait
 * for a party that never connects. A repair changes no one's share but its target's, and its
 * helpers are chosen among the online members: it runs unless its target is offline.
 */
import type { JsonObject, LifecycleType } from './store-port.js';

/** The offline parties an operation of `type` on a key of `committee`, with `params`, would need. */
export function offlinePartiesNeeded(
  type: LifecycleType,
  committee: readonly string[],
  params: JsonObject,
  isOffline: (partyId: string) => boolean,
): string[] {
  const involved = (): readonly string[] => {
    switch (type) {
      case 'refresh':
      case 'drill':
        return committee;
      case 'reshare': {
        const next = Array.isArray(params.parties) ? params.parties.filter((p): p is string => typeof p === 'string') : [];
        return [...new Set([...committee, ...next])];
      }
      case 'repair':
        return typeof params.partyId === 'string' ? [params.partyId] : [];
      default: {
        const never: never = type;
        throw new Error(`unknown lifecycle operation ${String(never)}`);
      }
    }
  };
  return involved()
    .filter((p) => isOffline(p))
    .sort();
}

/** The message of `offline_party_in_committee` for `parties`. */
export function offlinePartyMessage(type: LifecycleType, parties: readonly string[]): string {
  return `a ${type} runs online and ${parties.join(', ')} ${parties.length === 1 ? 'is an offline party' : 'are offline parties'}; lifecycle operations through bundles are not supported yet`;
}
