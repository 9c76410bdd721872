/**
 * A party's answer to the coordinator's drill: a proof of knowledge of its stored share for the
 * coordinator's fresh challenge (protocol `proveShareIntact`), or nothing when the share is
 * missing, unreadable or does not match its verifying share — the drill then records this party
 * as failed. Every answer is recorded in lifecycle.log.
 */
import { COORDINATOR, isProtocolError, type Message, type Outgoing, proveShareIntact, type Rng } from '@glacis/protocol';
import type { Logger } from 'pino';
import type { Keystore } from '../keystore/keystore.js';

export interface DrillAnswerOptions {
  self: string;
  keystore: Keystore;
  rng: Rng;
  send: (out: Outgoing) => void;
  record: (data: Record<string, unknown>) => void;
  logger: Logger;
}

/** Answers one `drill_request`. */
export function answerDrill(o: DrillAnswerOptions, msg: Extract<Message, { type: 'drill_request' }>): void {
  const { keyId, drillId, nonce } = msg.body;
  let stored: ReturnType<Keystore['get']>;
  try {
    stored = o.keystore.get(keyId);
  } catch {
    stored = undefined; // unreadable: no proof can be made
  }
  if (stored?.status !== 'active') {
    o.logger.warn({ keyId, drillId }, 'drill for a key this party holds no active share of');
    o.record({ keyId, drillId, ok: false, code: 'wrong_key' });
    return;
  }
  try {
    const proof = proveShareIntact(stored.share, { keyId, partyId: o.self, drillId, nonce }, o.rng);
    o.send({ type: 'drill_proof', sessionId: msg.sessionId, to: COORDINATOR, body: proof });
    o.record({ keyId, drillId, ok: true, generation: stored.generation });
  } catch (e) {
    const code = isProtocolError(e) ? e.code : 'internal';
    o.logger.error({ keyId, drillId, code }, 'drill failed: the stored share does not match its verifying share');
    o.record({ keyId, drillId, ok: false, code });
  }
}
