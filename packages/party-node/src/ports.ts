/**
 * What the party node's logic needs from the outside world, as small interfaces: a clock for its
 * deadlines, a link to the coordinator, and (tests only) faults on that link. The daemon passes
 * the real ones; unit tests pass doubles and run the node without sockets or waiting.
 */
import type { Envelope, Outgoing } from '@glacis/protocol';

/** Time and timers. */
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

/** What the link reports to the node. */
export interface LinkEvents {
  onEnvelope(env: Envelope): void;
  onConnected(): void;
  onDisconnected(): void;
}

/** The node's one connection to the coordinator (transport/coordinator-client.ts in production). */
export interface CoordinatorLink {
  readonly connected: boolean;
  start(): void;
  /** Sends one envelope; false when not connected. */
  send(env: Envelope): boolean;
  stop(): Promise<void>;
}

/** Makes the link, wired to the node's handlers. */
export type ConnectLink = (events: LinkEvents) => CoordinatorLink;

/**
 * Fault injection on this party's side of its link, for tests and the LAN bench (the party-side
 * twin of the coordinator's TransportFaults): `outbound` sees each message before it is signed,
 * so it can make this party lie; `inbound` sees each envelope before it is authenticated. Return
 * [] / false to drop, several to duplicate. Production code never sets it.
 */
export interface PartyTransportFaults {
  outbound?(out: Outgoing): Outgoing[];
  inbound?(env: Envelope): boolean;
}
