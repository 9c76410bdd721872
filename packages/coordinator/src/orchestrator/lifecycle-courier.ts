/**
 * How a lifecycle run reaches a party: an online one on its socket, an offline one
 * (docs/offline.md) through its outbox. What a run sends an offline participant is parked until the
 * run says that the online participants have sent what the vault needs to do as much as it can in
 * one trip (`ready`); from then on it goes straight to the outbox. A last word (the certificate, an
 * abort) is never parked: it is held in the outbox to the offline deadline, carried in every bundle
 * until then, since the vault answers nothing to it.
 */
import type { Envelope, Outgoing } from '@glacis/protocol';
import type { HeldMessage, PartyLink } from './ports.js';

/** The offline parties' side of lifecycle operations: their outboxes. */
export interface OfflineLifecyclePort {
  isOffline(partyId: string): boolean;
  /** How long an operation with an offline participant may run (`offlineDeadlineMs`), and how long a last word waits. */
  deadlineMs: number;
  /** Holds for `partyId` a message of operation `operationId`; `last`: its last word, held to the deadline. */
  hold(partyId: string, operationId: string, item: HeldMessage, last: boolean): void;
  /** Takes back what waits for `partyId` in `sessionId` of these types, not carried yet (a test round restarted). */
  withdraw(partyId: string, sessionId: string, types: readonly string[]): void;
  /** The operation ended: its round messages are no longer wanted (its last words stay). */
  drop(operationId: string): void;
}

/** One run's way to its parties. */
export interface Courier {
  offline(partyId: string): boolean;
  /** Connected, or offline (its outbox is always there). */
  reachable(partyId: string): boolean;
  /** Sends the coordinator's `out`; false when an online party is not connected. `last`: a last word. */
  send(to: string, out: Outgoing, last?: boolean): boolean;
  /** Relays a participant's envelope as it is; false when an online party is not connected. */
  forward(to: string, env: Envelope, last?: boolean): boolean;
  /** Releases what is parked for each offline party that is `ready` now (call after each relayed message). */
  flush(): void;
  /** Takes back what waits for an offline party, of these types (online parties: nothing to do). */
  withdraw(partyId: string, types: readonly string[]): void;
  /** How long an operation among `participants` may run: the offline deadline when one of them is offline. */
  timeoutMs(participants: readonly string[], onlineMs: number): number;
}

export interface CourierOptions {
  link: PartyLink;
  offline: OfflineLifecyclePort | undefined;
  operationId: string;
  sessionId: string;
  /** Whether an offline party may have its messages now (contract rule 4); without it nothing is parked. */
  ready?: (partyId: string) => boolean;
}

export function createCourier(o: CourierOptions): Courier {
  const { link, offline: port } = o;
  const isOffline = (p: string) => port?.isOffline(p) ?? false;
  const parked = new Map<string, HeldMessage[]>(); // offline party → held back, oldest first
  const released = new Set<string>();

  function hold(to: string, item: HeldMessage, last: boolean): true {
    const p = port as OfflineLifecyclePort;
    if (last || !o.ready || released.has(to)) {
      p.hold(to, o.operationId, item, last);
      return true;
    }
    parked.set(to, [...(parked.get(to) ?? []), item]);
    flush();
    return true;
  }

  function flush(): void {
    for (const [to, items] of [...parked]) {
      if (!o.ready?.(to)) continue;
      parked.delete(to);
      released.add(to);
      for (const item of items) port?.hold(to, o.operationId, item, false);
    }
  }

  return {
    offline: isOffline,
    reachable: (p) => isOffline(p) || link.isConnected(p),
    send: (to, out, last = false) => (isOffline(to) ? hold(to, { message: out }, last) : link.sendSealed(to, out)),
    forward: (to, env, last = false) => (isOffline(to) ? hold(to, { envelope: env }, last) : link.forward(to, env)),
    flush,
    withdraw(partyId, types) {
      if (!isOffline(partyId)) return;
      const left = parked.get(partyId)?.filter((i) => !('message' in i && types.includes(i.message.type)));
      if (left) parked.set(partyId, left);
      port?.withdraw(partyId, o.sessionId, types);
    },
    timeoutMs: (participants, onlineMs) => (port && participants.some(isOffline) ? port.deadlineMs : onlineMs),
  };
}
