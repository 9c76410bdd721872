/**
 * What the coordinator holds for each offline party until it is carried to the vault: the sealed
 * messages (signing packages) of running requests, in the order they were made. A request that
 * ends here takes its messages with it; a session the party answered is done. Kept in memory, like
 * the runs they belong to: after a restart a request starts over with fresh packages, and a package
 * the vault signs from before the restart is answered into a session nobody runs (ignored).
 */
import type { Envelope } from '@glacis/protocol';

export interface OfflineOutbox {
  /** Holds `env` (of request `requestId`) for `partyId`. */
  put(partyId: string, requestId: string, env: Envelope): void;
  /** Request `requestId` ended here (settled or given up): its messages are no longer wanted. */
  drop(requestId: string): void;
  /** `partyId` answered session `sessionId`: its message there is delivered. */
  answered(partyId: string, sessionId: string): void;
  /** What waits for `partyId`, oldest first, with the requests it belongs to. */
  pending(partyId: string): { envelopes: Envelope[]; requestIds: string[] };
}

export function createOfflineOutbox(): OfflineOutbox {
  const held = new Map<string, { requestId: string; env: Envelope }[]>(); // partyId → messages
  return {
    put(partyId, requestId, env) {
      const list = held.get(partyId) ?? [];
      list.push({ requestId, env });
      held.set(partyId, list);
    },
    drop(requestId) {
      for (const [p, list] of held)
        held.set(
          p,
          list.filter((m) => m.requestId !== requestId),
        );
    },
    answered(partyId, sessionId) {
      const list = held.get(partyId);
      if (list)
        held.set(
          partyId,
          list.filter((m) => m.env.sessionId !== sessionId),
        );
    },
    pending(partyId) {
      const list = held.get(partyId) ?? [];
      return { envelopes: list.map((m) => m.env), requestIds: [...new Set(list.map((m) => m.requestId))] };
    },
  };
}
