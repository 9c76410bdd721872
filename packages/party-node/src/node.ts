/**
 * The party daemon's driver: the only code here that awaits. It authenticates every envelope,
 * feeds the protocol state machines, persists what must survive a crash before anything that
 * depends on it leaves the process, and sends the state machines' output.
 */
import { randomBytes } from 'node:crypto';
import {
  COORDINATOR,
  createDkgParticipant,
  createEnvelopeSealer,
  createSigner,
  type DkgParticipant,
  type DkgStep,
  type Envelope,
  fromHex,
  getSuite,
  type IdentityKey,
  isProtocolError,
  type Message,
  type MessageBody,
  type Outgoing,
  openEnvelope,
  ProtocolError,
  ReplayGuard,
  type Rng,
  requestDigest,
  type Signer,
  toHex,
  verifyDkgCertificate,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import type { PartyConfig } from './config.js';
import type { CrashPoint } from './crash-points.js';
import type { Keystore } from './keystore/keystore.js';
import { evaluatePolicy } from './policy/policy.js';
import type { ShareLog } from './share-log/share-log.js';
import type { CoordinatorClient } from './transport/coordinator-client.js';
import { createCoordinatorLinks } from './transport/coordinator-links.js';

export interface PartyNodeOptions {
  config: PartyConfig;
  identity: IdentityKey;
  keystore: Keystore;
  shareLog: ShareLog;
  logger: Logger;
  rng?: Rng;
  crash?: (point: CrashPoint) => void;
  /**
   * TEST ONLY (GLACIS_TEST_CORRUPT_SHARES=1, read in cli.ts): add 1 to every signature share
   * before sending it, making this party a cheater, so tests can prove that ROAST names and
   * excludes exactly the cheating party and signs with the others. Never set in production.
   */
  testCorruptShares?: boolean;
}

export interface PartyNode {
  readonly connected: boolean;
  stop(): Promise<void>;
}

type DkgSession = { keyId: string; committee: string[]; suite: string; threshold: number; participant: DkgParticipant };

const MAX_EARLY = 4096;

export function startPartyNode(o: PartyNodeOptions): PartyNode {
  const { config, identity, keystore, logger } = o;
  const self = config.partyId;
  const rng: Rng = o.rng ?? ((n = 32) => new Uint8Array(randomBytes(n)));
  const crash = o.crash ?? (() => undefined);
  const coordinatorKey = fromHex(config.coordinator.identityKey);
  // Microsecond clock as the first seq: a restarted party keeps numbering above its old envelopes.
  const sealer = createEnvelopeSealer(self, identity, Date.now() * 1000);
  const guard = new ReplayGuard();
  const dkgSessions = new Map<string, DkgSession>();
  const early = new Map<string, Envelope[]>();
  let earlyCount = 0;
  const signers = new Map<string, Signer>();
  const awaitingActivation = new Map<string, Extract<Message, { type: 'commit_request' }>[]>();

  const keyOf = (name: string): Uint8Array | undefined => {
    if (name === COORDINATOR) return coordinatorKey;
    if (name === self) return identity.publicKey;
    const k = config.peers[name];
    return k === undefined ? undefined : fromHex(k);
  };

  for (const s of keystore.list()) {
    if (s.status === 'active') signers.set(s.share.keyId, createSigner(s.share, rng));
  }
  logger.info({ partyId: self, activeKeys: signers.size }, 'party node starting');

  const client: CoordinatorClient = createCoordinatorLinks({
    urls: [config.coordinator.url, ...config.coordinator.urls],
    partyId: self,
    identity,
    coordinatorKey,
    reconnect: config.reconnect,
    logger,
    onEnvelope: (env) => {
      handle(env).catch((e: unknown) => logger.error({ err: (e as Error).message }, 'envelope handling failed'));
    },
    onConnected: () => {
      // Keys whose certificate we never saw (a crash right after the DKG): ask for it.
      const pendingKeys = keystore
        .list()
        .filter((s) => s.status === 'pending')
        .map((s) => s.share.keyId);
      if (pendingKeys.length > 0) send({ type: 'key_sync', sessionId: 'key-sync', to: COORDINATOR, body: { pendingKeys } });
    },
    onDisconnected: () => undefined,
  });

  function send(out: Outgoing): void {
    if (!client.send(sealer.seal(out))) logger.warn({ type: out.type, sessionId: out.sessionId }, 'not connected; message dropped');
  }

  async function handle(env: Envelope): Promise<void> {
    let msg: Message;
    try {
      msg = openEnvelope(env, { self, keyOf, replay: guard });
    } catch (e) {
      logger.warn({ code: isProtocolError(e) ? e.code : 'internal', from: (env as { from?: unknown }).from }, 'envelope rejected');
      return;
    }
    switch (msg.type) {
      case 'dkg_start':
        return onDkgStart(msg);
      case 'dkg_round1':
      case 'dkg_round2':
      case 'dkg_abort':
        return onDkgMessage(msg, env);
      case 'dkg_complete':
        return onDkgComplete(msg);
      case 'commit_request':
        return onCommitRequest(msg);
      case 'signing_package':
        return onSigningPackage(msg);
      default:
        logger.warn({ type: msg.type, from: msg.from }, 'unexpected message type for a party');
    }
  }

  function fromCoordinator(msg: Message): boolean {
    if (msg.from === COORDINATOR) return true;
    logger.warn({ type: msg.type, from: msg.from }, 'control message not from the coordinator; ignored');
    return false;
  }

  function abortDkg(sessionId: string, keyId: string, error: ProtocolError): void {
    logger.warn({ keyId, sessionId, code: error.code, culprits: error.culprits }, 'DKG failed');
    dkgSessions.delete(sessionId);
    keystore.discardPending(keyId);
    send({
      type: 'dkg_abort',
      sessionId,
      to: COORDINATOR,
      body: { keyId, code: error.code, message: error.message, culprits: [...error.culprits] },
    });
  }

  function runDkgStep(sessionId: string, session: DkgSession, step: DkgStep): void {
    if (step.share) {
      // The share is on disk (fsync'd) before our confirmation can make the key active.
      keystore.savePending(step.share);
      crash('dkg-share-saved');
    }
    for (const out of step.outgoing) send(out);
    if (step.error) abortDkg(sessionId, session.keyId, step.error);
  }

  function onDkgStart(msg: Extract<Message, { type: 'dkg_start' }>): void {
    if (!fromCoordinator(msg)) return;
    const { keyId, suite, threshold, committee } = msg.body;
    const sessionId = msg.sessionId;
    if (dkgSessions.has(sessionId)) return;
    try {
      if (keystore.get(keyId))
        throw new ProtocolError('dkg_unexpected_message', `a share for key ${keyId} already exists; refusing to replace it`);
      const unpinned = committee.filter((p) => keyOf(p) === undefined);
      if (unpinned.length > 0) throw new ProtocolError('unknown_party', `no pinned identity key for ${unpinned.join(', ')}`);
      const participant = createDkgParticipant({
        suite: getSuite(suite),
        keyId,
        sessionId,
        self,
        committee,
        threshold,
        identity,
        peerKey: keyOf,
        rng,
      });
      const session: DkgSession = { keyId, committee: [...committee].sort(), suite, threshold, participant };
      dkgSessions.set(sessionId, session);
      logger.info({ keyId, sessionId, suite, threshold, n: committee.length }, 'DKG started');
      runDkgStep(sessionId, session, participant.start());
      const queued = early.get(sessionId) ?? [];
      early.delete(sessionId);
      earlyCount -= queued.length;
      for (const env of queued) feedDkg(session, sessionId, openEnvelope(env, { self, keyOf }));
    } catch (e) {
      const err = isProtocolError(e) ? e : new ProtocolError('dkg_failed', (e as Error).message);
      abortDkg(sessionId, keyId, err);
    }
  }

  function feedDkg(session: DkgSession, sessionId: string, msg: Message): void {
    try {
      runDkgStep(sessionId, session, session.participant.receive(msg));
    } catch (e) {
      logger.warn({ sessionId, from: msg.from, code: isProtocolError(e) ? e.code : 'internal' }, 'DKG message refused');
    }
  }

  function onDkgMessage(msg: Message, env: Envelope): void {
    const session = dkgSessions.get(msg.sessionId);
    if (session) {
      feedDkg(session, msg.sessionId, msg);
      return;
    }
    if (msg.type === 'dkg_abort') {
      if (msg.from === COORDINATOR) onDkgAbortForStoredKey(msg);
      return;
    }
    // A peer's round 1 can overtake our dkg_start on another path: hold it briefly.
    if (earlyCount >= MAX_EARLY) return;
    const q = early.get(msg.sessionId) ?? [];
    q.push(env);
    early.set(msg.sessionId, q);
    earlyCount++;
  }

  function onDkgAbortForStoredKey(msg: Extract<Message, { type: 'dkg_abort' }>): void {
    const stored = keystore.get(msg.body.keyId);
    if (stored?.status === 'pending') {
      keystore.discardPending(msg.body.keyId);
      logger.warn({ keyId: msg.body.keyId, code: msg.body.code }, 'pending share discarded: its DKG failed');
    }
  }

  function onDkgComplete(msg: Extract<Message, { type: 'dkg_complete' }>): void {
    if (!fromCoordinator(msg)) return;
    const { keyId, confirmations } = msg.body;
    const stored = keystore.get(keyId);
    if (!stored) {
      logger.warn({ keyId }, 'certificate for a key this party holds no share of');
      return;
    }
    try {
      const pub = stored.share.public;
      const certified = verifyDkgCertificate(confirmations, {
        keyId,
        suite: pub.suite,
        threshold: pub.threshold,
        committee: pub.committee,
        keyOf,
      });
      if (certified.publicKey !== pub.publicKey || certified.groupCommitment.join() !== pub.groupCommitment.join()) {
        throw new ProtocolError('dkg_confirmation_mismatch', 'certified key differs from the key this party derived');
      }
      if (stored.status !== 'active') keystore.activate(keyId, confirmations);
      if (!signers.has(keyId)) signers.set(keyId, createSigner(stored.share, rng));
      dkgSessions.delete(msg.sessionId);
      logger.info({ keyId, publicKey: pub.publicKey }, 'key active');
      const waiting = awaitingActivation.get(keyId) ?? [];
      awaitingActivation.delete(keyId);
      for (const m of waiting) onCommitRequest(m);
    } catch (e) {
      logger.error({ keyId, code: isProtocolError(e) ? e.code : 'internal', err: (e as Error).message }, 'DKG certificate rejected');
    }
  }

  function onCommitRequest(msg: Extract<Message, { type: 'commit_request' }>): void {
    if (!fromCoordinator(msg)) return;
    const signer = signers.get(msg.body.keyId);
    if (!signer) {
      if (keystore.get(msg.body.keyId)?.status === 'pending') {
        // The certificate is on its way (key_sync after a restart): answer once it is checked.
        const q = awaitingActivation.get(msg.body.keyId) ?? [];
        if (q.length < 64) q.push(msg);
        awaitingActivation.set(msg.body.keyId, q);
      } else {
        logger.warn({ keyId: msg.body.keyId }, 'commitments requested for a key this party does not hold');
      }
      return;
    }
    const commitments = Array.from({ length: msg.body.count }, () => signer.commit());
    send({ type: 'commitments', sessionId: msg.sessionId, to: COORDINATOR, body: { keyId: msg.body.keyId, commitments } });
  }

  async function onSigningPackage(msg: Extract<Message, { type: 'signing_package' }>): Promise<void> {
    if (!fromCoordinator(msg)) return;
    const pkg: MessageBody<'signing_package'> = msg.body;
    const refuse = (code: string, message: string) => {
      logger.warn({ keyId: pkg.keyId, requestId: pkg.requestId, sessionId: msg.sessionId, code }, 'signing refused');
      send({
        type: 'sign_refused',
        sessionId: msg.sessionId,
        to: COORDINATOR,
        body: { keyId: pkg.keyId, requestId: pkg.requestId, code, message },
      });
    };
    const signer = signers.get(pkg.keyId);
    if (!signer) return refuse('wrong_key', `this party holds no active share of key ${pkg.keyId}`);
    const verdict = evaluatePolicy(config.policy, pkg);
    if (!verdict.ok) return refuse(verdict.code, verdict.message);
    let signed: ReturnType<Signer['sign']>;
    try {
      signed = signer.sign(pkg);
    } catch (e) {
      if (isProtocolError(e)) return refuse(e.code, e.message);
      throw e;
    }
    // SECURITY: the consumption is on disk before the share can leave (DESIGN.md invariant 1).
    await o.shareLog.recordRelease(
      {
        keyId: pkg.keyId,
        requestId: pkg.requestId,
        sessionId: msg.sessionId,
        requestDigest: toHex(requestDigest(pkg.keyId, pkg.message, pkg.context)),
        commitment: signed.consumed,
      },
      new Date(),
    );
    crash('nonce-recorded');
    const next = signer.commit();
    let share = signed.share;
    const suite = o.testCorruptShares ? keystore.get(pkg.keyId)?.share.public.suite : undefined;
    if (suite) {
      // TEST ONLY: a provably invalid share (z + 1), see PartyNodeOptions.testCorruptShares.
      const { Fn } = getSuite(suite);
      share = Fn.toBytes(Fn.add(Fn.fromBytes(share), 1n));
    }
    send({
      type: 'signature_share',
      sessionId: msg.sessionId,
      to: COORDINATOR,
      body: { keyId: pkg.keyId, requestId: pkg.requestId, share: toHex(share), next },
    });
    crash('share-sent');
    logger.info({ keyId: pkg.keyId, requestId: pkg.requestId, sessionId: msg.sessionId }, 'share released');
  }

  client.start();
  return {
    get connected() {
      return client.connected;
    },
    async stop() {
      await client.stop();
      for (const s of signers.values()) s.discardAll();
      await o.shareLog.close();
    },
  };
}
