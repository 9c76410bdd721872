/**
 * Reading a bundle from an offline party (POST /v1/parties/{id}/inbox), strictly and before
 * anything changes: the bundle opens (bundle codes, protocol `openBundle`: signed by this party,
 * for the coordinator, not a replay), then every item must be an envelope this party signed, of a
 * kind an offline party sends: preprocessed `commitments` (session `offline-preprocess`, for an
 * active key it holds, every point valid) or an answer to a signing session (`signature_share`,
 * `sign_refused`, `commitments` for a request's ask), or its message in the DKG of a key whose
 * committee holds it (`dkg_round1`, `dkg_round2`, `dkg_confirm`, `dkg_abort`; the DKG driver then
 * checks it as it checks any member's). One defect refuses the whole bundle with its code; nothing
 * of it is stored or fed. Receipts are acknowledged by being read.
 */
import {
  COORDINATOR,
  type Envelope,
  getSuite,
  isBundleError,
  isProtocolError,
  type Message,
  OFFLINE_PREPROCESS_SESSION,
  type OpenedBundle,
  openBundle,
  openEnvelope,
  parseNonceCommitment,
  ReplayGuard,
} from '@glacis/protocol';
import { CoordinatorError } from '../errors.js';
import { parseSessionId } from './session-id.js';
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
}

/** What an offline party sends in a DKG (a `dkg_start` or `dkg_complete` is the coordinator's). */
const DKG_MESSAGES: ReadonlySet<Message['type']> = new Set(['dkg_round1', 'dkg_round2', 'dkg_confirm', 'dkg_abort']);

export interface ReadInboxOptions {
  partyId: string;
  /** The party's pinned identity key. */
  identityKey: Uint8Array;
  /** The last sequence accepted from it (the store's). */
  lastSequence: number | undefined;
  getKey(keyId: string): Promise<KeyRow | undefined>;
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
  const plan: InboxPlan = { bundle, commitments: [], answers: [], dkg: [] };
  const replay = new ReplayGuard();
  for (const [i, item] of bundle.items.entries()) {
    if (item.kind !== 'envelope') continue;
    let msg: Message;
    try {
      // Any recipient here: a DKG round 2 is addressed to a peer, relayed through us (checked below).
      msg = openEnvelope(item.envelope, { self: COORDINATOR, keyOf, replay, anyRecipient: true });
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      throw itemError(i, 'inbox_envelope_invalid', `${e.code}: ${e.message}`);
    }
    if (msg.to !== COORDINATOR && msg.type !== 'dkg_round1' && msg.type !== 'dkg_round2')
      throw itemError(i, 'inbox_envelope_invalid', `wrong_recipient: a ${msg.type} for ${msg.to} delivered to ${COORDINATOR}`);
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
    const answers =
      (session?.kind === 'sign' && (msg.type === 'signature_share' || msg.type === 'sign_refused')) ||
      (session?.kind === 'commit' && msg.type === 'commitments');
    if (!session || !answers || (session.kind !== 'sign' && session.kind !== 'commit'))
      throw itemError(i, 'inbox_unexpected_message', `a ${msg.type} in session ${msg.sessionId} is not an offline party's answer`);
    plan.answers.push({ msg, session });
  }
  return plan;
}
