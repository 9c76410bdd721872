/**
 * Reading a bundle from an offline party (POST /v1/parties/{id}/inbox), strictly and before
 * anything changes: the bundle opens (bundle codes, protocol `openBundle`: signed by this party,
 * for the coordinator, not a replay), then every item must be an envelope this party signed, of a
 * kind an offline party sends: preprocessed `commitments` (session `offline-preprocess`, for an
 * active key it holds, every point valid) or an answer to a signing session (`signature_share`,
 * `sign_refused`, `commitments` for a request's ask), or its message in the DKG of a key whose
 * committee holds it (`dkg_round1`, `dkg_round2`, `dkg_confirm`, `dkg_abort`; the DKG driver then
 * checks it as it checks any member's), or its message in a lifecycle operation it takes part in
 * (`LIFECYCLE_MESSAGES` of the operation's type, naming the operation's key, addressed to the
 * coordinator, to all or to another participant; the lifecycle driver then checks and relays it as
 * it does a socket's). A message of a DKG or operation that is over is taken, and ignored there.
 * One defect refuses the whole bundle with its code; nothing of it is stored or fed. Receipts are
 * acknowledged by being read.
 */
import {
  BROADCAST,
  COORDINATOR,
  type Envelope,
  getSuite,
  isBundleError,
  isProtocolError,
  LIFECYCLE_PEER_MESSAGES,
  type Message,
  OFFLINE_PREPROCESS_SESSION,
  type OpenedBundle,
  openBundle,
  openEnvelope,
  parseNonceCommitment,
  ReplayGuard,
} from '@glacis/protocol';
import { CoordinatorError } from '../errors.js';
import { type LifecycleKind, parseSessionId, type SessionRefOf } from './session-id.js';
import type { SigningSessionRef } from './signing-driver.js';
import type { KeyRow, OfflineCommitment } from './store-port.js';

/** An inbox bundle, checked: what to store and what to feed. */
export interface InboxPlan {
  bundle: OpenedBundle;
  /** Preprocessed commitments to store (unused). */
  commitments: OfflineCommitment[];
  /** Answers to signing sessions, for the signing driver. */
  answers: { msg: Message; session: SigningSessionRef }[];
  /** Its messages in DKGs, for the DKG driver (with their envelopes: relayed and kept as they are). */
  dkg: { msg: Message; env: Envelope }[];
  /**
   * Its messages in lifecycle operations, for the lifecycle driver, in the order the party sent them
   * (the replay check holds each session's to it): a share of a package taken back always comes
   * before the fresh commitment that answers the request sent in its place.
   */
  lifecycle: { msg: Message; env: Envelope; session: SessionRefOf<LifecycleKind> }[];
}

/** What an offline party sends in a DKG (a `dkg_start` or `dkg_complete` is the coordinator's). */
const DKG_MESSAGES: ReadonlySet<Message['type']> = new Set(['dkg_round1', 'dkg_round2', 'dkg_confirm', 'dkg_abort']);

/** What an offline party sends in each kind of lifecycle operation (starts, requests and certificates are the coordinator's). */
const LIFECYCLE_MESSAGES: Record<LifecycleKind, ReadonlySet<Message['type']>> = {
  refresh: new Set([
    'refresh_round1',
    'refresh_round2',
    'lifecycle_confirm',
    'lifecycle_abort',
    'lifecycle_test_commitment',
    'lifecycle_test_share',
  ]),
  reshare: new Set([
    'reshare_round1',
    'reshare_round2',
    'lifecycle_confirm',
    'lifecycle_abort',
    'lifecycle_test_commitment',
    'lifecycle_test_share',
  ]),
  repair: new Set(['repair_commit', 'repair_delta', 'repair_sigma', 'repair_confirm', 'lifecycle_abort']),
  drill: new Set(['drill_proof']),
};

/** Messages addressed to other parties, which the coordinator relays (all others are addressed to it). */
const RELAYED: ReadonlySet<Message['type']> = new Set(['dkg_round1', 'dkg_round2', ...LIFECYCLE_PEER_MESSAGES]);

/** A lifecycle operation as the inbox checks a message against it. */
export interface LifecycleOperationView {
  keyId: string;
  /** Everyone its session's messages go between (running here, or recorded when it started). */
  participants: readonly string[];
}

export interface ReadInboxOptions {
  partyId: string;
  /** The party's pinned identity key. */
  identityKey: Uint8Array;
  /** The last sequence accepted from it (the store's). */
  lastSequence: number | undefined;
  getKey(keyId: string): Promise<KeyRow | undefined>;
  /** Lifecycle operation `operationId` if it is of type `kind`. */
  getOperation(kind: LifecycleKind, operationId: string): Promise<LifecycleOperationView | undefined>;
}

const itemError = (i: number, code: 'inbox_envelope_invalid' | 'inbox_unexpected_message' | 'inbox_commitment_invalid', why: string) =>
  new CoordinatorError(code, `item ${i}: ${why}`);

/** Opens and checks `bytes`; throws a CoordinatorError with the defect's code. */
export async function readInbox(bytes: Uint8Array, o: ReadInboxOptions): Promise<InboxPlan> {
  const keyOf = (name: string) => (name === o.partyId ? o.identityKey : undefined);
  let bundle: OpenedBundle;
  try {
    bundle = openBundle(bytes, { self: COORDINATOR, keyOf, ledger: { lastSequence: () => o.lastSequence } });
  } catch (e) {
    if (isBundleError(e)) throw new CoordinatorError(e.code, e.message);
    throw e;
  }
  const plan: InboxPlan = { bundle, commitments: [], answers: [], dkg: [], lifecycle: [] };
  const replay = new ReplayGuard();
  for (const [i, item] of bundle.items.entries()) {
    if (item.kind !== 'envelope') continue;
    let msg: Message;
    try {
      // Any recipient here: a round 2 is addressed to a peer, relayed through us (checked below).
      msg = openEnvelope(item.envelope, { self: COORDINATOR, keyOf, replay, anyRecipient: true });
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      throw itemError(i, 'inbox_envelope_invalid', `${e.code}: ${e.message}`);
    }
    const wrongRecipient = () =>
      itemError(i, 'inbox_envelope_invalid', `wrong_recipient: a ${msg.type} for ${msg.to} delivered to ${COORDINATOR}`);
    if (msg.to !== COORDINATOR && !RELAYED.has(msg.type)) throw wrongRecipient();
    if (msg.type === 'commitments' && msg.sessionId === OFFLINE_PREPROCESS_SESSION) {
      const key = await o.getKey(msg.body.keyId);
      if (key?.status !== 'active' || !key.parties.includes(o.partyId))
        throw itemError(i, 'inbox_commitment_invalid', `${o.partyId} holds no share of an active key ${msg.body.keyId}`);
      const suite = getSuite(key.suite);
      for (const c of msg.body.commitments) {
        try {
          parseNonceCommitment(suite, c, o.partyId);
        } catch (e) {
          throw itemError(i, 'inbox_commitment_invalid', (e as Error).message);
        }
        plan.commitments.push({ keyId: msg.body.keyId, hiding: c.hiding, binding: c.binding });
      }
      continue;
    }
    const session = parseSessionId(msg.sessionId);
    if (session?.kind === 'dkg' && DKG_MESSAGES.has(msg.type)) {
      // A DKG that is over takes its late messages as ignored; one the party is no member of is a defect.
      const key = await o.getKey(session.keyId);
      if (!key?.parties.includes(o.partyId))
        throw itemError(i, 'inbox_unexpected_message', `${o.partyId} is not in the committee of key ${session.keyId}`);
      plan.dkg.push({ msg, env: item.envelope });
      continue;
    }
    if (session?.kind === 'refresh' || session?.kind === 'repair' || session?.kind === 'reshare' || session?.kind === 'drill') {
      if (!LIFECYCLE_MESSAGES[session.kind].has(msg.type))
        throw itemError(i, 'inbox_unexpected_message', `a ${msg.type} is not an offline party's message in a ${session.kind}`);
      // An operation that is over takes its late messages as ignored; one the party takes no part in is a defect.
      const op = await o.getOperation(session.kind, session.operationId);
      if (!op?.participants.includes(o.partyId))
        throw itemError(i, 'inbox_unexpected_message', `${o.partyId} takes no part in ${session.kind} ${session.operationId}`);
      if ((msg.body as { keyId: string }).keyId !== op.keyId)
        throw itemError(i, 'inbox_unexpected_message', `a ${msg.type} of session ${msg.sessionId} names another key than ${op.keyId}`);
      const peer = msg.to !== o.partyId && op.participants.includes(msg.to);
      if (msg.to !== COORDINATOR && msg.to !== BROADCAST && !peer) throw wrongRecipient();
      plan.lifecycle.push({ msg, env: item.envelope, session });
      continue;
    }
    const answers =
      (session?.kind === 'sign' && (msg.type === 'signature_share' || msg.type === 'sign_refused')) ||
      (session?.kind === 'commit' && msg.type === 'commitments');
    if (!session || !answers || (session.kind !== 'sign' && session.kind !== 'commit'))
      throw itemError(i, 'inbox_unexpected_message', `a ${msg.type} in session ${msg.sessionId} is not an offline party's answer`);
    plan.answers.push({ msg, session });
  }
  return plan;
}
