/**
 * A new holder's part of a successor's test signature (protocol lifecycle/successor-test.ts): a
 * nonce commitment of its staged share on request, then one signature share over the test message
 * it computes itself — the only thing a staged share ever signs. Nonces live in memory only (a
 * restart forgets them: the coordinator asks again), and each is used once; the use is on disk in
 * lifecycle.log before the share leaves.
 */
import {
  COORDINATOR,
  createSigner,
  type Message,
  type Outgoing,
  type Rng,
  rawIntent,
  type Signer,
  successorTestMessage,
  toHex,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import type { Successions } from '../keystore/successions.js';
import type { LifecycleLog } from './lifecycle-log.js';

type TestRequest = Extract<Message, { type: 'lifecycle_test_request' }>;
type TestPackage = Extract<Message, { type: 'lifecycle_test_package' }>;

export interface SuccessorTestSignerOptions {
  successions: Successions;
  log: LifecycleLog;
  rng: Rng;
  now: () => Date;
  send: (out: Outgoing) => void;
  logger: Logger;
}

export interface SuccessorTestSigner {
  onRequest(msg: TestRequest): void;
  onPackage(msg: TestPackage): Promise<void>;
  /** Forgets the nonces of a session's staged successor (committed or discarded). */
  forget(sessionId: string): void;
  close(): void;
}

/** Sessions whose nonces are held at once; a coordinator cannot make a party hoard more. */
const MAX_SESSIONS = 64;

export function createSuccessorTestSigner(o: SuccessorTestSignerOptions): SuccessorTestSigner {
  const signers = new Map<string, Signer>();

  /** The staged successor the message's session names, or undefined (logged). */
  function stagedFor(msg: TestRequest | TestPackage) {
    const s = o.successions.staged(msg.body.keyId);
    if (s?.sessionId !== msg.sessionId || s.confirm === null || s.decided !== null) {
      o.logger.warn({ keyId: msg.body.keyId, sessionId: msg.sessionId }, 'test signature asked for no successor staged here; ignored');
      return undefined;
    }
    return s;
  }

  function forget(sessionId: string): void {
    signers.get(sessionId)?.discardAll();
    signers.delete(sessionId);
  }

  return {
    onRequest(msg) {
      const s = stagedFor(msg);
      if (!s) return;
      let signer = signers.get(msg.sessionId);
      if (!signer) {
        if (signers.size >= MAX_SESSIONS) forget(signers.keys().next().value as string);
        signer = createSigner(s.share, o.rng, { maxPending: 4 });
        signers.set(msg.sessionId, signer);
      }
      o.send({
        type: 'lifecycle_test_commitment',
        sessionId: msg.sessionId,
        to: COORDINATOR,
        body: { keyId: s.keyId, commitment: signer.commit() },
      });
    },
    async onPackage(msg) {
      const s = stagedFor(msg);
      const signer = signers.get(msg.sessionId);
      if (!s || !signer) return;
      const message = successorTestMessage(msg.sessionId, s.share.public);
      let signed: ReturnType<Signer['sign']>;
      try {
        signed = signer.sign(
          { keyId: s.keyId, requestId: msg.sessionId, intent: rawIntent(toHex(message)), approvals: [], commitments: msg.body.commitments },
          [message],
        );
      } catch (e) {
        o.logger.warn({ keyId: s.keyId, sessionId: msg.sessionId, err: (e as Error).message }, 'test signing package refused');
        return;
      }
      // SECURITY: the nonce's use is on disk before the share leaves (DESIGN.md invariant 1).
      await o.log.record('successor_test_signed', { keyId: s.keyId, sessionId: msg.sessionId, commitment: signed.consumed[0] }, o.now());
      o.send({
        type: 'lifecycle_test_share',
        sessionId: msg.sessionId,
        to: COORDINATOR,
        body: { keyId: s.keyId, share: toHex(signed.shares[0] as Uint8Array) },
      });
    },
    forget,
    close() {
      for (const id of [...signers.keys()]) forget(id);
    },
  };
}
