/**
 * The party's side of signing: hands out nonce commitments, and answers a signing package with a
 * share only when the key is its own and active, the intent is one it can read and sign, its nonce
 * is fresh, and its own policy admits the request — with the nonce's consumption, the approvals'
 * use and the decision (with its velocity event) on disk first.
 *
 * SECURITY (DESIGN.md invariant 7): what this party signs is what it computed itself from the
 * package's intent (`interpretIntent`: the raw bytes, or each listed PSBT input's BIP-341 sighash
 * from the PSBT it parsed), and the policy reads facts from that same reading, with this party's
 * own key record, label and Bitcoin network. Nothing else in the package (context, the
 * coordinator's wording) feeds a decision; approvals count only as signatures over the intent.
 */
import { createHash } from 'node:crypto';
import {
  COORDINATOR,
  type CommitmentSetWire,
  commitmentSet,
  createSigner,
  fromHex,
  type InterpretedIntent,
  intentDigest,
  interpretIntent,
  isProtocolError,
  type KeyShare,
  type Message,
  type NonceCommitmentWire,
  type Outgoing,
  type PreparedSigning,
  type Rng,
  type SignedShare,
  type Signer,
  type SignRefusalCode,
  shareFields,
  toHex,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import type { PartyConfig } from '../config.js';
import type { CrashPoint } from '../crash-points.js';
import type { Keystore, StoredShare } from '../keystore/keystore.js';
import type { ApprovalLedger } from '../policy/approval-ledger.js';
import { type CountedApproval, type DecisionRecord, decide } from '../policy/decide.js';
import type { DecisionLog } from '../policy/decision-log.js';
import type { PolicyStore } from '../policy/policy-store.js';
import type { Clock } from '../ports.js';
import type { ShareLog } from '../share-log/share-log.js';

type CommitRequest = Extract<Message, { type: 'commit_request' }>;
type SigningPackage = Extract<Message, { type: 'signing_package' }>;

export interface SigningHandlerOptions {
  keystore: Keystore;
  /** This party's configuration: its own limits (`policy`), key labels and Bitcoin network. */
  config: Pick<PartyConfig, 'policy' | 'keyLabels' | 'bitcoinNetwork'>;
  policy: PolicyStore;
  shareLog: ShareLog;
  approvals: ApprovalLedger;
  decisions: DecisionLog;
  rng: Rng;
  clock: Clock;
  send: (out: Outgoing) => void;
  logger: Logger;
  crash: (point: CrashPoint) => void;
  /** Where nonces live between commitment and use (default: in the signer's memory only). */
  nonces?: NonceKeeper;
  /**
   * Asked after the policy admitted a package and before its nonce is used (the offline party's
   * operator confirms what the screen shows); false: nothing is signed, recorded or sent for it.
   * Only for a driver that handles one package at a time: another package handled while this
   * waits could take the same velocity headroom.
   */
  confirm?: (view: SigningView) => Promise<boolean>;
}

/** What an operator is shown before a share is released: the intent as this party read it and the rule that admits it. */
export interface SigningView {
  sessionId: string;
  pkg: SigningPackage['body'];
  interpreted: InterpretedIntent;
  record: DecisionRecord;
  counted: readonly CountedApproval[];
}

/**
 * Keeps nonces between a commitment and its use. An online party keeps them in the signer's
 * memory (a restart forgets them, which is safe); the offline party seals them on disk, because a
 * trip to the vault outlives the process (offline/nonce-vault.ts).
 */
export interface NonceKeeper {
  /** Called once per signer as it is made: nonces kept from earlier runs go into its pool. */
  load(signer: Signer): void;
  /** `count` fresh commitments of `signer`, their nonces kept (durably, if this keeper persists them) before this returns. */
  fresh(signer: Signer, count: number): NonceCommitmentWire[];
  /** These nonces were used and the share log says so: destroy every copy before the share leaves. */
  consumed(keyId: string, commitments: readonly NonceCommitmentWire[]): void;
}

/** The online party's keeper: nonces in memory only. */
export const memoryNonces: NonceKeeper = {
  load: () => undefined,
  fresh: (signer, count) => Array.from({ length: count }, () => signer.commit()),
  consumed: () => undefined,
};

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

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export function createSigningHandler(o: SigningHandlerOptions): SigningHandler {
  const { keystore, logger } = o;
  const nonces = o.nonces ?? memoryNonces;
  const signers = new Map<string, { signer: Signer; share: KeyShare }>();
  const awaitingActivation = new Map<string, CommitRequest[]>();
  const use = (share: KeyShare) => {
    const signer = createSigner(share, o.rng);
    nonces.load(signer);
    signers.set(share.keyId, { signer, share });
  };
  for (const s of keystore.usable().shares) if (s.status === 'active') use(s.share);

  /**
   * Each key's next commitments, made once a share has left rather than before it: a share carries
   * the signer's next commitments, and making them (two fixed-base multiplications each, ~0.8 ms
   * for secp256k1-tr here) delayed every share by that much. Only with nonces in memory: a keeper
   * that persists them (the offline vault) would seal a set the process may exit without sending.
   * A spare belongs to the signer that made it (a reloaded key's signer finds none of its own).
   */
  const spares = new Map<string, { signer: Signer; width: number; set: CommitmentSetWire }>();
  const keepSpares = o.nonces === undefined;

  function nextCommitments(keyId: string, signer: Signer, width: number): CommitmentSetWire {
    const spare = spares.get(keyId);
    spares.delete(keyId);
    if (spare?.signer === signer && spare.width === width) return spare.set;
    return commitmentSet(nonces.fresh(signer, width));
  }

  function makeSpare(keyId: string, signer: Signer, width: number): void {
    if (!keepSpares) return;
    o.clock.setTimeout(() => {
      if (signers.get(keyId)?.signer !== signer || spares.has(keyId)) return;
      spares.set(keyId, { signer, width, set: commitmentSet(nonces.fresh(signer, width)) });
    }, 0);
  }

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
    const commitments = nonces.fresh(signer, msg.body.count);
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
    const stored = keystore.get(pkg.keyId);
    if (!signer || !stored) return refuse('wrong_key', `this party holds no active share of key ${pkg.keyId}`);
    // What to sign and the policy's facts, from the intent alone, read here (invariant 7); then the
    // package's commitments against it. Neither consumes anything.
    let interpreted: InterpretedIntent;
    let prepared: PreparedSigning;
    try {
      interpreted = interpretIntent(
        pkg.intent,
        {
          keyId: pkg.keyId,
          suite: stored.share.public.suite,
          publicKey: fromHex(stored.share.public.publicKey),
          label: o.config.keyLabels[pkg.keyId] ?? null,
        },
        { bitcoinNetwork: o.config.bitcoinNetwork },
      );
      prepared = signer.prepare(pkg, interpreted.messages);
    } catch (e) {
      if (isProtocolError(e)) return refuse(e.code, e.message);
      throw e;
    }
    const digest = toHex(intentDigest(pkg.intent));
    const now = o.clock.now();
    const { record, verdict } = decide({
      active: o.policy.active(),
      limits: o.config.policy,
      sessionId: msg.sessionId,
      pkg,
      interpreted,
      intentDigest: digest,
      now,
      history: o.decisions.history(now),
      prior: o.decisions.counted(pkg.keyId, pkg.requestId, digest),
      priorUse: o.approvals.priorUse,
    });
    if (!verdict.ok) {
      await o.decisions.recordDecision(record, new Date(now));
      return refuse(verdict.code, verdict.message);
    }
    if (o.confirm && !(await o.confirm({ sessionId: msg.sessionId, pkg, interpreted, record, counted: verdict.counted }))) {
      logger.info({ keyId: pkg.keyId, requestId: pkg.requestId, sessionId: msg.sessionId }, 'declined by the operator; nothing signed');
      return;
    }
    let signed: SignedShare;
    try {
      signed = prepared.sign();
    } catch (e) {
      // Only a nonce used since `prepare` gets here, which nothing in this turn can do.
      if (isProtocolError(e)) return refuse(e.code, e.message);
      throw e;
    }
    // SECURITY: the nonces' consumption (DESIGN.md invariant 1), the approvals' use and the
    // decision with its velocity event are on disk before the shares can leave. All three were
    // taken in this turn, with the decision, so a package handled concurrently cannot count the
    // same approval, or the same velocity headroom, for another request.
    const uses = verdict.counted.map((c) => ({ ...c, keyId: pkg.keyId, requestId: pkg.requestId }));
    const messageDigests = interpreted.messages.map(sha256Hex);
    await Promise.all([
      o.approvals.record(uses),
      o.decisions.recordDecision(record, new Date(now)),
      o.shareLog.recordRelease(
        {
          keyId: pkg.keyId,
          requestId: pkg.requestId,
          sessionId: msg.sessionId,
          intentType: pkg.intent.type,
          intentDigest: digest,
          messageDigests,
          messageDigest: messageDigests[0] as string,
          approvals: uses.map((u) => ({ approverKey: u.approverKey, nonce: u.nonce })),
          commitments: signed.consumed,
          commitment: signed.consumed[0] as (typeof signed.consumed)[number],
        },
        new Date(now),
      ),
    ]);
    o.crash('nonce-recorded');
    nonces.consumed(pkg.keyId, signed.consumed);
    o.crash('nonce-deleted');
    const next = nextCommitments(pkg.keyId, signer, interpreted.messages.length);
    o.send({
      type: 'signature_share',
      sessionId: msg.sessionId,
      to: COORDINATOR,
      body: { keyId: pkg.keyId, requestId: pkg.requestId, ...shareFields(signed.shares.map(toHex)), next },
    });
    o.crash('share-sent');
    makeSpare(pkg.keyId, signer, interpreted.messages.length);
    logger.info(
      { keyId: pkg.keyId, requestId: pkg.requestId, sessionId: msg.sessionId, ruleId: record.ruleId, messages: signed.shares.length },
      'share released',
    );
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
      spares.delete(keyId);
      // SECURITY: nonces made under the old share are never used again, and its bytes leave memory.
      old?.signer.discardAll();
      old?.share.frostSecret.signingShare.fill(0);
      const stored = keystore.get(keyId);
      if (stored?.status === 'active') activate(stored);
    },
    onCommitRequest,
    onSigningPackage,
    close() {
      spares.clear();
      for (const s of signers.values()) s.signer.discardAll();
    },
  };
}
