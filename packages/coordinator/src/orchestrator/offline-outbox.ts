/**
 * What the coordinator holds for each offline party until it is carried to the vault, in the order
 * it was made: the signing packages of running requests, and the messages of running DKGs (the
 * start, the other members' round-1 packages and the round-2 shares addressed to it, then the
 * certificate or the abort). Kept in memory, like the runs they belong to: after a restart a
 * request starts over with fresh packages, and a package the vault signs from before the restart
 * is answered into a session nobody runs (ignored).
 *
 * A message leaves the outbox when the party's answer shows it has it — a signing answer ends its
 * session's messages; a DKG answer the rounds it could only have been made after (`DKG_ACKS`) —
 * or when its request or DKG ends. A DKG's last word (certificate, abort) needs no answer: it is
 * held until a deadline and carried in every bundle until then (the vault ignores a repeat), or,
 * for a certificate, until the party preprocesses nonces for the key (it holds it active then).
 */
import type { Envelope, Message } from '@glacis/protocol';

/** Who a held message belongs to. */
type Owner = { kind: 'request'; id: string } | { kind: 'key'; id: string };

/**
 * What each DKG message from the party shows it received: its round 1 needs the start; its round 2
 * every round-1 package; its confirmation every round-2 share; its abort ends the session.
 */
const DKG_ACKS: Partial<Record<Message['type'], readonly string[]>> = {
  dkg_round1: ['dkg_start'],
  dkg_round2: ['dkg_start', 'dkg_round1'],
  dkg_confirm: ['dkg_start', 'dkg_round1', 'dkg_round2'],
};

export interface OfflineOutbox {
  /** Holds `env` (of request `requestId`) for `partyId`. */
  put(partyId: string, requestId: string, env: Envelope): void;
  /** Request `requestId` ended here (settled or given up): its messages are no longer wanted. */
  drop(requestId: string): void;
  /** `partyId` answered signing session `sessionId`: its message there is delivered. */
  answered(partyId: string, sessionId: string): void;
  /** Holds `env` of the DKG of `keyId` for `partyId`; with `until` (ms), only up to then. */
  putDkg(partyId: string, keyId: string, env: Envelope, until?: number): void;
  /** The DKG of `keyId` ended here: its round messages are no longer wanted. */
  dropDkg(keyId: string): void;
  /** `partyId` sent a `type` message in DKG session `sessionId`: what it shows it has is delivered. */
  dkgAnswered(partyId: string, sessionId: string, type: Message['type']): void;
  /** `partyId` holds key `keyId` active (it sent commitments for it): nothing of its DKG is wanted. */
  keyActive(partyId: string, keyId: string): void;
  /** What waits for `partyId` at `now`, oldest first, with the requests and keys it belongs to. */
  pending(partyId: string, now: number): { envelopes: Envelope[]; requestIds: string[]; keyIds: string[] };
}

interface Held {
  owner: Owner;
  env: Envelope;
  until: number | undefined;
}

export function createOfflineOutbox(): OfflineOutbox {
  const held = new Map<string, Held[]>(); // partyId → messages
  const keep = (partyId: string, wanted: (m: Held) => boolean) => {
    const list = held.get(partyId);
    if (list) held.set(partyId, list.filter(wanted));
  };
  const keepAll = (wanted: (m: Held) => boolean) => {
    for (const p of held.keys()) keep(p, wanted);
  };
  const add = (partyId: string, m: Held) => held.set(partyId, [...(held.get(partyId) ?? []), m]);
  return {
    put: (partyId, requestId, env) => add(partyId, { owner: { kind: 'request', id: requestId }, env, until: undefined }),
    drop: (requestId) => keepAll((m) => !(m.owner.kind === 'request' && m.owner.id === requestId)),
    answered: (partyId, sessionId) => keep(partyId, (m) => m.env.sessionId !== sessionId),
    putDkg: (partyId, keyId, env, until) => add(partyId, { owner: { kind: 'key', id: keyId }, env, until }),
    // Only the rounds: a last word (held with a deadline) outlives its DKG.
    dropDkg: (keyId) => keepAll((m) => !(m.owner.kind === 'key' && m.owner.id === keyId && m.until === undefined)),
    dkgAnswered(partyId, sessionId, type) {
      const acked = DKG_ACKS[type];
      keep(partyId, (m) => m.env.sessionId !== sessionId || (acked !== undefined && !acked.includes(m.env.type)));
    },
    keyActive: (partyId, keyId) => keep(partyId, (m) => !(m.owner.kind === 'key' && m.owner.id === keyId)),
    pending(partyId, now) {
      keep(partyId, (m) => m.until === undefined || m.until > now);
      const list = held.get(partyId) ?? [];
      const ids = (kind: Owner['kind']) => [...new Set(list.filter((m) => m.owner.kind === kind).map((m) => m.owner.id))];
      return { envelopes: list.map((m) => m.env), requestIds: ids('request'), keyIds: ids('key') };
    },
  };
}
