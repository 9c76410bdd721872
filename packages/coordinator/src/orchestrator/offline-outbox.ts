/**
 * What the coordinator holds for each offline party until it is carried to the vault, in the order
 * it was made: the signing packages of running requests, the messages of running DKGs (the start,
 * the other members' round-1 packages and the round-2 shares addressed to it, then the certificate
 * or the abort) and of running lifecycle operations (their start, the other participants' rounds,
 * the test request and package, a drill's request; then the certificate or the abort). Kept in
 * memory, like the runs they belong to: after a restart a request starts over with fresh packages,
 * and a package the vault signs from before the restart is answered into a session nobody runs
 * (ignored).
 *
 * A message leaves the outbox when the party's answer shows it has it — a signing answer ends its
 * session's messages; a DKG or lifecycle answer the messages it could only have been made after
 * (`DKG_ACKS`, `LIFECYCLE_ACKS`) — or when its request, DKG or operation ends. A last word
 * (certificate, abort) needs no answer: it is held until a deadline and carried in every bundle
 * until then (the vault ignores a repeat), or, for a DKG's certificate, until the party
 * preprocesses nonces for the key (it holds it active then).
 *
 * An offline party re-sends every envelope of a session in each later answer, so a lifecycle answer
 * read before acknowledges nothing again: a test request sent after a restarted test round must not
 * be taken out by the re-sent commitment that answered the one before.
 */
import { canonicalJson, type Envelope, type Message } from '@glacis/protocol';

/** Who a held message belongs to. */
type Owner = { kind: 'request'; id: string } | { kind: 'key'; id: string } | { kind: 'operation'; id: string };

/**
 * What each DKG message from the party shows it received: its round 1 needs the start; its round 2
 * every round-1 package; its confirmation every round-2 share; its abort ends the session.
 */
const DKG_ACKS: Partial<Record<Message['type'], readonly string[]>> = {
  dkg_round1: ['dkg_start'],
  dkg_round2: ['dkg_start', 'dkg_round1'],
  dkg_confirm: ['dkg_start', 'dkg_round1', 'dkg_round2'],
};

/**
 * What each lifecycle message from the party shows it received in its session: a round message the
 * start and every round before its own; a confirmation every round; a test commitment the test
 * request; a test share the test package; a drill proof the request. (A reshare dealer deals at
 * its start; its own `lifecycle_abort` ends the session's messages.)
 */
const LIFECYCLE_ACKS: Partial<Record<Message['type'], readonly string[]>> = {
  refresh_round1: ['refresh_start'],
  refresh_round2: ['refresh_start', 'refresh_round1'],
  reshare_round1: ['reshare_start'],
  reshare_round2: ['reshare_start'],
  lifecycle_confirm: ['refresh_start', 'refresh_round1', 'refresh_round2', 'reshare_start', 'reshare_round1', 'reshare_round2'],
  repair_commit: ['repair_start'],
  repair_delta: ['repair_start', 'repair_commit'],
  repair_sigma: ['repair_start', 'repair_commit', 'repair_delta'],
  repair_confirm: ['repair_start', 'repair_commit', 'repair_delta', 'repair_sigma'],
  lifecycle_test_commitment: ['lifecycle_test_request'],
  lifecycle_test_share: ['lifecycle_test_package'],
  drill_proof: ['drill_request'],
};

/** Operations whose answers read are remembered. */
const MAX_READ = 1024;

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
  /** Holds `env` of lifecycle operation `operationId` for `partyId`; with `until` (ms), only up to then. */
  putLifecycle(partyId: string, operationId: string, env: Envelope, until?: number): void;
  /** Takes back what is held for `partyId` in `sessionId` of these types and not yet carried (a test round restarted). */
  withdrawLifecycle(partyId: string, sessionId: string, types: readonly string[]): void;
  /** Operation `operationId` ended here: its round messages are no longer wanted (its last words stay). */
  dropLifecycle(operationId: string): void;
  /** `partyId` sent `msg` in a session of operation `operationId`: what it shows the party has is delivered. */
  lifecycleAnswered(partyId: string, operationId: string, msg: Message): void;
  /** What waits for `partyId` at `now`, oldest first, with the requests, keys and operations it belongs to. */
  pending(partyId: string, now: number): { envelopes: Envelope[]; requestIds: string[]; keyIds: string[]; operationIds: string[] };
}

interface Held {
  owner: Owner;
  env: Envelope;
  until: number | undefined;
}

export function createOfflineOutbox(): OfflineOutbox {
  const held = new Map<string, Held[]>(); // partyId → messages
  const read = new Map<string, Set<string>>(); // operationId → `${partyId}|${type}|${to}|${body}` of lifecycle answers read
  const keep = (partyId: string, wanted: (m: Held) => boolean) => {
    const list = held.get(partyId);
    if (list) held.set(partyId, list.filter(wanted));
  };
  const keepAll = (wanted: (m: Held) => boolean) => {
    for (const p of held.keys()) keep(p, wanted);
  };
  const add = (partyId: string, m: Held) => held.set(partyId, [...(held.get(partyId) ?? []), m]);
  const rounds = (m: Held, operationId: string) => m.owner.kind === 'operation' && m.owner.id === operationId && m.until === undefined;
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
    putLifecycle: (partyId, operationId, env, until) => add(partyId, { owner: { kind: 'operation', id: operationId }, env, until }),
    withdrawLifecycle: (partyId, sessionId, types) =>
      keep(
        partyId,
        (m) => !(m.owner.kind === 'operation' && m.env.sessionId === sessionId && m.until === undefined && types.includes(m.env.type)),
      ),
    dropLifecycle(operationId) {
      keepAll((m) => !rounds(m, operationId));
      read.delete(operationId);
    },
    lifecycleAnswered(partyId, operationId, msg) {
      const seen = read.get(operationId) ?? new Set<string>();
      const answer = `${partyId}|${msg.type}|${msg.to}|${canonicalJson(msg.body)}`;
      if (seen.has(answer)) return;
      read.set(operationId, seen.add(answer));
      // Operations that ended long ago are forgotten first (dropLifecycle forgets one that ends here).
      if (read.size > MAX_READ) read.delete(read.keys().next().value as string);
      const acked = LIFECYCLE_ACKS[msg.type] ?? [];
      const all = msg.type === 'lifecycle_abort';
      keep(partyId, (m) => m.owner.kind !== 'operation' || m.env.sessionId !== msg.sessionId || !(all || acked.includes(m.env.type)));
    },
    pending(partyId, now) {
      keep(partyId, (m) => m.until === undefined || m.until > now);
      const list = held.get(partyId) ?? [];
      const ids = (kind: Owner['kind']) => [...new Set(list.filter((m) => m.owner.kind === kind).map((m) => m.owner.id))];
      return { envelopes: list.map((m) => m.env), requestIds: ids('request'), keyIds: ids('key'), operationIds: ids('operation') };
    },
  };
}
