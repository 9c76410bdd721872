/** Small interfaces the orchestrator's drivers share, so each can be tested with plain doubles. */
import type { Envelope, Outgoing } from '@glacis/protocol';

/** What the orchestrator reports to metrics. */
export interface OrchestratorMetrics {
  sessionEnded(kind: 'dkg' | 'signing', outcome: string, seconds: number): void;
  connectedParties(count: number): void;
  wsRejected(reason: string): void;
  partyExcluded(partyId: string): void;
  /** Time from a signing package sent to the party's share received. */
  partyLatency(partyId: string, seconds: number): void;
  /** A ROAST session started: a signing package went to each of its t signers. */
  signingSessionStarted(): void;
  /** A signature share message came from `partyId` (one for a session already ended included). */
  signatureShareReceived(partyId: string): void;
  /** A refresh, repair, reshare or drill settled. */
  lifecycleEnded(type: 'refresh' | 'repair' | 'reshare' | 'drill', outcome: 'completed' | 'failed'): void;
  /** `partyId` proved its share of `keyId` intact (a drill) at `at` (ms since the epoch). */
  drillProved(keyId: string, partyId: string, at: number): void;
}

/** Sending to parties. */
export interface PartyLink {
  isConnected(partyId: string): boolean;
  /** Seals `out` as the coordinator and sends it to `partyId`; false if not connected. */
  sendSealed(partyId: string, out: Outgoing): boolean;
  /** Forwards a party's envelope unchanged; false if not connected. */
  forward(partyId: string, env: Envelope): boolean;
}

/**
 * A message for an offline party's outbox: the coordinator's own (sealed when it is put there), or
 * a party's envelope relayed as it is.
 */
export type HeldMessage = { message: Outgoing } | { envelope: Envelope };

/** Timers, injectable so drivers can be tested on a virtual clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};
