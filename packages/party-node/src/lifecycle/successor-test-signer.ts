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
  type MessageBody,
  type NonceCommitmentWire,
  type Outgoing,
  type Rng,
  rawIntent,
  type Signer,
  successorTestMessage,
  toHex,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import type { StagedSuccessor, Successions } from '../keystore/successions.js';
import type { LifecycleLog } from './lifecycle-log.js';

export type TestRequest = Extract<Message, { type: 'lifecycle_test_request' }>;
export type TestPackage = Extract<Message, { type: 'lifecycle_test_package' }>;

/**
 * The confirmed successor a test message names, waiting for its certificate; undefined (logged)
 * for anything else: a test signature is only ever made with a successor this party confirmed.
 */
export function stagedForTest(successions: Successions, msg: TestRequest | TestPackage, logger: Logger): StagedSuccessor | undefined {
  const s = successions.staged(msg.body.keyId);
  if (s?.sessionId !== msg.sessionId || s.confirm === null || s.decided !== null) {
    logger.warn({ keyId: msg.body.keyId, sessionId: msg.sessionId }, 'test signature asked for no successor staged here; ignored');
    return undefined;
  }
  return s;
}

/**
 * What a staged share signs for a test package: the successor test message this party computes
 * itself from the successor it holds (never anything of the coordinator's choosing), as a raw
 * intent under the coordinator's commitments.
 */
export function testSigning(s: StagedSuccessor, msg: TestPackage): { pkg: MessageBody<'signing_package'>; messages: Uint8Array[] } {
  const message = successorTestMessage(msg.sessionId, s.share.public);
  return {
    pkg: { keyId: s.keyId, requestId: msg.sessionId, intent: rawIntent(toHex(message)), approvals: [], commitments: msg.body.commitments },
    messages: [message],
  };
}

/** A holder's test commitment of session `sessionId`'s successor. */
export const testCommitment = (s: Pick<StagedSuccessor, 'keyId'>, sessionId: string, commitment: NonceCommitmentWire): Outgoing => ({
  type: 'lifecycle_test_commitment',
  sessionId,
  to: COORDINATOR,
  body: { keyId: s.keyId, commitment },
});

/** A holder's test signature share. */
export const testShare = (s: Pick<StagedSuccessor, 'keyId'>, sessionId: string, share: Uint8Array): Outgoing => ({
  type: 'lifecycle_test_share',
  sessionId,
  to: COORDINATOR,
  body: { keyId: s.keyId, share: toHex(share) },
});

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

  const stagedFor = (msg: TestRequest | TestPackage) => stagedForTest(o.successions, msg, o.logger);

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
      o.send(testCommitment(s, msg.sessionId, signer.commit()));
    },
    async onPackage(msg) {
      const s = stagedFor(msg);
      const signer = signers.get(msg.sessionId);
      if (!s || !signer) return;
      const { pkg, messages } = testSigning(s, msg);
      let signed: ReturnType<Signer['sign']>;
      try {
        signed = signer.sign(pkg, messages);
      } catch (e) {
        o.logger.warn({ keyId: s.keyId, sessionId: msg.sessionId, err: (e as Error).message }, 'test signing package refused');
        return;
      }
      // SECURITY: the nonce's use is on disk before the share leaves (DESIGN.md invariant 1).
      await o.log.record('successor_test_signed', { keyId: s.keyId, sessionId: msg.sessionId, commitment: signed.consumed[0] }, o.now());
      o.send(testShare(s, msg.sessionId, signed.shares[0] as Uint8Array));
    },
    forget,
    close() {
      for (const id of [...signers.keys()]) forget(id);
    },
  };
}
