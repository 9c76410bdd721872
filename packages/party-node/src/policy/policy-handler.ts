/**
 * Policy offers from the coordinator and this party's reports of the policy in force. An offer is
 * verified against the administrators this party pinned and activated (policy-store.ts) or
 * refused; either way the outcome goes into the decision log and back to the coordinator as a
 * `policy_status`, which the party also sends after every (re)connect. Nothing here trusts the
 * coordinator: a forged, replayed or older policy is refused with its code and changes nothing.
 */
import {
  COORDINATOR,
  isProtocolError,
  type Message,
  type MessageBody,
  type Outgoing,
  type ProtocolError,
  parsePolicy,
  policyDigest,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import type { Clock } from '../ports.js';
import type { DecisionLog } from './decision-log.js';
import type { PolicyStore } from './policy-store.js';

type PolicyOffer = Extract<Message, { type: 'policy_offer' }>;

export interface PolicyHandler {
  /** Sends this party's `policy_status` (after a connect). */
  report(): void;
  onOffer(msg: PolicyOffer): Promise<void>;
}

export interface PolicyHandlerOptions {
  policy: PolicyStore;
  decisions: DecisionLog;
  clock: Clock;
  send: (out: Outgoing) => void;
  logger: Logger;
}

/** The session id of policy traffic (the coordinator's `policy` channel, which every instance shares). */
export const POLICY_SESSION = 'policy';

/** The version and digest an offer claims, when its document parses at all (for the refusal report). */
function claimed(signed: { policy: unknown }): { version: number | null; digest: string | null } {
  try {
    const p = parsePolicy(signed.policy);
    return { version: p.version, digest: policyDigest(p) };
  } catch {
    return { version: null, digest: null };
  }
}

export function createPolicyHandler(o: PolicyHandlerOptions): PolicyHandler {
  let refused: MessageBody<'policy_status'>['refused'] = null;

  function report(): void {
    const p = o.policy.active();
    o.send({
      type: 'policy_status',
      sessionId: POLICY_SESSION,
      to: COORDINATOR,
      body: { source: p.source, version: p.version, digest: p.digest, refused },
    });
  }

  async function onOffer(msg: PolicyOffer): Promise<void> {
    const now = o.clock.now();
    try {
      const { changed, policy } = o.policy.activate(msg.body.signed, now);
      refused = null;
      if (changed) {
        o.logger.info({ version: policy.version, digest: policy.digest }, 'policy activated');
        await o.decisions.recordPolicy(
          'policy_activated',
          { version: policy.version, digest: policy.digest, signers: policy.signers },
          new Date(now),
        );
      }
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      const error = e as ProtocolError;
      const { version, digest } = claimed(msg.body.signed);
      refused = { version, digest, code: error.code, message: error.message.slice(0, 1024) };
      o.logger.warn({ code: error.code, version }, 'policy offer refused');
      await o.decisions.recordPolicy('policy_refused', { version, digest, code: error.code, message: refused.message }, new Date(now));
    }
    report();
  }

  return { report, onOffer };
}
