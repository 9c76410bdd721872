import type { OfferedPolicy, PartyPolicyStatus } from './policy-relay.js';

/**
 * The boundary between the HTTP layer and the part of the coordinator that talks to parties.
 * Routes persist first, answer, and then hand the id to the orchestrator; the orchestrator drives
 * the protocol over WebSocket and writes every outcome back through the store.
 */

/** A configured party and its live connection state. */
export interface PartyStatus {
  partyId: string;
  /** Ed25519 identity public key, hex. */
  identityKey: string;
  /** A live, authenticated WebSocket connection exists. */
  connected: boolean;
  /** `offline`: reached by bundles through its outbox and inbox (docs/offline.md), not by a socket. */
  mode: 'online' | 'offline';
  /** RFC 3339 time of the last frame from this party, or null if never seen. */
  lastSeenAt: string | null;
  /** In-flight signing requests for which the coordinator holds a fresh commitment of this party. */
  ready: number;
  /** Times this party was excluded from a request (invalid share or refusal) since start. */
  excludedCount: number;
  /** Smoothed time from signing package sent to share received, ms; null before the first share. */
  latencyMs: number | null;
  /** Active keys of which this committee member reported no share (or another generation) at its last connection. */
  needsRepair: string[];
  /** The policy this party last reported in force (static or signed), or null before its first report. */
  policy: PartyPolicyStatus | null;
}

/** An offline party's outbox, as one bundle signed by the coordinator and bound to the party. */
export interface OutboxBundle {
  partyId: string;
  /** The bundle, or null when nothing waits for the party. */
  bundle: Uint8Array | null;
  /** Its sequence (the party refuses any not above the last it accepted), or null. */
  sequence: number | null;
  /** The signing requests whose messages it carries. */
  signatureIds: string[];
  /** The keys whose DKG messages (start, rounds, certificate or abort) it carries. */
  keyIds: string[];
  /** The lifecycle operations (refresh, repair, reshare, drill) whose messages it carries. */
  operationIds: string[];
  /** Envelopes in it. */
  items: number;
}

/** What an inbox bundle brought. */
export interface InboxReceipt {
  partyId: string;
  sequence: number;
  /** Preprocessed commitments stored. */
  commitments: number;
  /** Answers handed on: to signing sessions (shares, refusals, commitments asked for), DKG and lifecycle messages. */
  answers: number;
}

export interface Orchestrator {
  /** Every configured party, with its connection state. */
  parties(): PartyStatus[];
  /** True when every online party in `partyIds` has a live authenticated connection (an offline one has its outbox). */
  allConnected(partyIds: readonly string[]): boolean;
  /** A key in status `pending` was just persisted: run its DKG. Never throws; outcomes go to the store. */
  onKeyCreated(keyId: string): void;
  /**
   * A signature request was just persisted (`pending`: sign it; `awaiting_approval`: hold it until
   * approved or its approval deadline) or released for signing by its approvals. Never throws.
   */
  onSignatureRequested(signatureId: string): void;
  /** A lifecycle operation (refresh, repair, reshare, drill) was just persisted: run it. Never throws. */
  onOperationCreated(operationId: string): void;
  /**
   * What the coordinator knows of `partyId`'s share of `keyId` from its last `key_sync`: `held`
   * (the current generation), `missing` (none, or another generation), or `unknown` (not reported).
   */
  shareStatus(keyId: string, partyId: string): 'held' | 'missing' | 'unknown';
  /** A newly stored policy: offer it to every party. Never throws. */
  onPolicyDistributed(policy: OfferedPolicy): void;
  /**
   * Resolves true once every connected party reports the policy `digest` in force (or refused
   * it), false after `ms` or on `signal`.
   */
  waitPolicySettled(digest: string, ms: number, signal?: AbortSignal): Promise<boolean>;
  /** The pending bundle for offline party `partyId`. Throws `not_found`, `party_not_offline`. */
  offlineOutbox(partyId: string): Promise<OutboxBundle>;
  /**
   * Takes a bundle from offline party `partyId`: checked whole first (offline-inbox.ts), then its
   * commitments stored and its sequence recorded in one transaction, then its answers fed to the
   * requests. Throws `not_found`, `party_not_offline`, a bundle code or an inbox code; a refused
   * bundle changes nothing.
   */
  offlineInbox(partyId: string, bundle: Uint8Array): Promise<InboxReceipt>;
}
