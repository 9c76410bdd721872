/**
 * Driving the signing machine by hand, with no driver and no network (signing-machine.test.ts,
 * offline-signing-machine.test.ts): the request that starts a run, and what the machine sends.
 */
import { randomBytes } from 'node:crypto';
import { type Intent, type Rng, rawIntent, toHex, utf8 } from '@glacis/protocol';
import type { Cluster } from '../../protocol/test/harness.js';
import type { SigningAction, SigningInput } from '../src/orchestrator/signing-machine.js';

export const rng: Rng = (n = 32) => new Uint8Array(randomBytes(n));

/** The machine's sends of one message type. */
export const sends = (actions: SigningAction[], type: 'commit_request' | 'signing_package') =>
  actions.filter((a): a is Extract<SigningAction, { type: 'send' }> => a.type === 'send' && a.message.type === type);

/** The input that starts request `signatureId` under `key`: `intent` (default: the raw message 'm'), no approvals, deadline 10 s. */
export function requestInput(key: Cluster, signatureId = 'sig_1', intent: Intent = rawIntent(toHex(utf8('m')))): SigningInput {
  return { type: 'request', request: { signatureId, keyId: key.pub.keyId, key: key.pub, intent, approvals: [], deadline: 10_000 } };
}
