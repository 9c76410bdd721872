/**
 * The party's side of signing: hands out nonce commitments, and answers a signing package with a
 * share only when the key is its own and active, its policy holds (approvals included), and its
 * nonce is fresh — with the nonce's consumption and the approvals' use on disk first.
 */
import { createHash } from 'node:crypto';
import {
  COORDINATOR,
  createSigner,
  isProtocolError,
  type KeyShare,
  type Message,
  type Outgoing,
  type Rng,
  type Signer,
  type SignRefusalCode,
  toHex,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import type { Policy } from '../config.js';
import type { CrashPoint } from '../crash-points.js';
import type { Keystore, StoredShare } from '../keystore/keystore.js';
import type { ApprovalLedger } from '../policy/approval-ledger.js';
import { evaluatePolicy } from '../policy/policy.js';
import type { Clock } from '../ports.js';
import type { ShareLog } from '../share-log/share-log.js';

type CommitRequest = Extract<Message, { type: 'commit_request' }>;
type SigningPackage = Extract<Message, { type: 'signing_package' }>;

export interface SigningHandlerOptions {
  keystore: Keystore;
  policy: Policy;
  shareLog: ShareLog;
  approvals: ApprovalLedger;
  rng: Rng;
  clock: Clock;
  send: (out: Outgoing) => void;
  logger: Logger;
  crash: (point: CrashPoint) => void;
}

export interface SigningHandler {
  /** A key turned active: sign with it, and answer the commitment requests that waited for it. */
  activate(stored: StoredShare): void;
  /**
   * The live share of a key changed (a lifecycle switch, a repair, a retirement): the old share's
   * nonces are discarded and its bytes zeroed; the new live share (if any) signs from now on.
   */
  reload(keyId: string): void;
  onCommitRequest(msg: CommitRequest): void;
  onSigningPackage(msg: SigningPackage): Promise<void>;
  /** Forgets every nonce (the node is stopping). */
  close(): void;
}

/** Commitment requests held per key while its certificate is on its way. */
const MAX_WAITING = 64;

export function createSigningHandler(o: SigningHandlerOptions): SigningHandler {
  const { keystore, logger } = o;
  const signers = new Map<string, { signer: Signer; share: KeyShare }>();
  const awaitingActivation = new Map<string, CommitRequest[]>();
  const use = (share: KeyShare) => signers.set(share.keyId, { signer: createSigner(share, o.rng), share });
  for (const s of keystore.usable().shares) if (s.status === 'active') use(s.share);

  function onCommitRequest(msg: CommitRequest): void {
    const signer = signers.get(msg.body.keyId)?.signer;
    if (!signer) {
      if (keystore.get(msg.body.keyId)?.status === 'pending') {
        // The certificate is on its way (key_sync after a restart): answer once it is checked.
        const q = awaitingActivation.get(msg.body.keyId) ?? [];
        if (q.length < MAX_WAITING) q.push(msg);
        awaitingActivation.set(msg.body.keyId, q);
      } else {
        logger.warn({ keyId: msg.body.keyId }, 'commitments requested for a key this party does not hold');
      }
      return;
    }
    const commitments = Array.from({ length: msg.body.count }, () => signer.commit());
    o.send({ type: 'commitments', sessionId: msg.sessionId, to: COORDINATOR, body: { keyId: msg.body.keyId, commitments } });
  }

  async function onSigningPackage(msg: SigningPackage): Promise<void> {
    const pkg = msg.body;
    const refuse = (code: SignRefusalCode, message: string) => {
      logger.warn({ keyId: pkg.keyId, requestId: pkg.requestId, sessionId: msg.sessionId, code }, 'signing refused');
      o.send({
        type: 'sign_refused',
        sessionId: msg.sessionId,
        to: COORDINATOR,
        body: { keyId: pkg.keyId, requestId: pkg.requestId, code, message: message.slice(0, 1024) },
      });
    };
    const signer = signers.get(pkg.keyId)?.signer;
    if (!signer) return refuse('wrong_key', `this party holds no active share of key ${pkg.keyId}`);
    const verdict = evaluatePolicy(o.policy, pkg, { now: o.clock.now(), priorUse: o.approvals.priorUse });
    if (!verdict.ok) return refuse(verdict.code, verdict.message);
    let signed: ReturnType<Signer['sign']>;
    try {
      signed = signer.sign(pkg);
    } catch (e) {
      if (isProtocolError(e)) return refuse(e.code, e.message);
      throw e;
    }
    // SECURITY: the nonce's consumption (DESIGN.md invariant 1) and the approvals' use are on
    // disk before the share can leave. Both are taken in this turn, with the policy check, so a
    // package handled concurrently cannot count the same approval for another request.
    const uses = verdict.counted.map((c) => ({ ...c, keyId: pkg.keyId, requestId: pkg.requestId }));
    await Promise.all([
      o.approvals.record(uses),
      o.shareLog.recordRelease(
        {
          keyId: pkg.keyId,
          requestId: pkg.requestId,
          sessionId: msg.sessionId,
          messageDigest: createHash('sha256').update(pkg.message, 'hex').digest('hex'),
          approvals: uses.map((u) => ({ approverKey: u.approverKey, nonce: u.nonce })),
          commitment: signed.consumed,
        },
        new Date(o.clock.now()),
      ),
    ]);
    o.crash('nonce-recorded');
    const next = signer.commit();
    o.send({
      type: 'signature_share',
      sessionId: msg.sessionId,
      to: COORDINATOR,
      body: { keyId: pkg.keyId, requestId: pkg.requestId, share: toHex(signed.share), next },
    });
    o.crash('share-sent');
    logger.info({ keyId: pkg.keyId, requestId: pkg.requestId, sessionId: msg.sessionId }, 'share released');
  }

  function activate(stored: StoredShare): void {
    const keyId = stored.share.keyId;
    if (!signers.has(keyId)) use(stored.share);
    const waiting = awaitingActivation.get(keyId) ?? [];
    awaitingActivation.delete(keyId);
    for (const m of waiting) onCommitRequest(m);
  }

  return {
    activate,
    reload(keyId) {
      const old = signers.get(keyId);
      signers.delete(keyId);
      // SECURITY: nonces made under the old share are never used again, and its bytes leave memory.
      old?.signer.discardAll();
      old?.share.frostSecret.signingShare.fill(0);
      const stored = keystore.get(keyId);
      if (stored?.status === 'active') activate(stored);
    },
    onCommitRequest,
    onSigningPackage,
    close() {
      for (const s of signers.values()) s.signer.discardAll();
    },
  };
}
