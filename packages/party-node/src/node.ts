/**
 * The party daemon's driver: authenticates every envelope, sends each to the DKG, signing or
 * lifecycle handler, and seals and sends what they answer. It owns the link and nothing else; the
 * handlers own the state (dkg/dkg-handler.ts, signing/signing-handler.ts,
 * lifecycle/lifecycle-handler.ts). On every connection it reports what it holds (`key_sync`), so
 * the coordinator notices a share that is missing or of an old generation.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import {
  COORDINATOR,
  createEnvelopeSealer,
  type Envelope,
  fromHex,
  type IdentityKey,
  isProtocolError,
  type Message,
  type Outgoing,
  openEnvelope,
  ReplayGuard,
  type Rng,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import type { PartyConfig } from './config.js';
import type { CrashPoint } from './crash-points.js';
import { createDkgHandler, type DkgHandler } from './dkg/dkg-handler.js';
import type { Keystore } from './keystore/keystore.js';
import { createLifecycleHandler, type LifecycleHandler } from './lifecycle/lifecycle-handler.js';
import { createPolicyHandler, POLICY_SESSION } from './policy/policy-handler.js';
import { openPolicyStore } from './policy/policy-store.js';
import { type Clock, type ConnectLink, type CoordinatorLink, type PartyTransportFaults, realClock } from './ports.js';
import type { PartyRecords } from './records.js';
import { createSigningHandler } from './signing/signing-handler.js';
import { createCoordinatorLinks } from './transport/coordinator-links.js';

export interface PartyNodeOptions {
  config: PartyConfig;
  identity: IdentityKey;
  keystore: Keystore;
  /** The share log, the approvals counted and the DKG sessions started (records.ts). */
  records: PartyRecords;
  logger: Logger;
  rng?: Rng;
  clock?: Clock;
  crash?: (point: CrashPoint) => void;
  /** The link to the coordinator; the WebSocket client unless a test passes its own. */
  connect?: ConnectLink;
  /** Tests only: faults on this party's side of the link (ports.ts). */
  faults?: PartyTransportFaults;
}

export interface PartyNode {
  readonly connected: boolean;
  /** DKG sessions running here (for tests and diagnostics). */
  liveDkgSessions(): string[];
  /** Refresh, repair and reshare sessions running here (for tests and diagnostics). */
  liveLifecycleSessions(): string[];
  stop(): Promise<void>;
}

export function startPartyNode(o: PartyNodeOptions): PartyNode {
  const { config, identity, keystore, logger } = o;
  const self = config.partyId;
  const rng: Rng = o.rng ?? ((n = 32) => new Uint8Array(randomBytes(n)));
  const clock = o.clock ?? realClock;
  const crash = o.crash ?? (() => undefined);
  const coordinatorKey = fromHex(config.coordinator.identityKey);
  // Microsecond clock as the first seq: a restarted party keeps numbering above its old envelopes.
  const sealer = createEnvelopeSealer(self, identity, clock.now() * 1000);
  const guard = new ReplayGuard();

  const keyOf = (name: string): Uint8Array | undefined => {
    if (name === COORDINATOR) return coordinatorKey;
    if (name === self) return identity.publicKey;
    const k = config.peers[name];
    return k === undefined ? undefined : fromHex(k);
  };

  const { tlsPin, tlsCaFile } = config.coordinator;
  const connect: ConnectLink =
    o.connect ??
    ((events) =>
      // One link per pinned coordinator instance (one, unless the coordinator runs several).
      createCoordinatorLinks({
        urls: [config.coordinator.url, ...config.coordinator.urls],
        sharedSessions: [POLICY_SESSION],
        ...(tlsPin ? { tls: { pinSha256: tlsPin, ...(tlsCaFile ? { caFile: resolve(keystore.dataDir, tlsCaFile) } : {}) } } : {}),
        partyId: self,
        identity,
        coordinatorKey,
        reconnect: config.reconnect,
        logger,
        ...events,
      }));
  const link: CoordinatorLink = connect({
    onEnvelope: (env) => {
      if (o.faults?.inbound && !o.faults.inbound(env)) return;
      handle(env).catch((e: unknown) => logger.error({ err: (e as Error).message }, 'envelope handling failed'));
    },
    onConnected: () => {
      policyHandler.report();
      // Keys whose certificate we never saw (a crash right after the DKG or a confirmation), and
      // what we hold: the coordinator answers with certificates, and notices what is missing.
      send({ type: 'key_sync', sessionId: 'key-sync', to: COORDINATOR, body: { pendingKeys: dkg.pendingKeys(), ...lifecycle.holdings() } });
    },
    onDisconnected: () => undefined,
  });

  function transmit(env: Envelope): void {
    if (!link.send(env)) logger.warn({ type: env.type, sessionId: env.sessionId }, 'not connected; message dropped');
  }
  function send(out: Outgoing): void {
    for (const m of o.faults?.outbound ? o.faults.outbound(out) : [out]) transmit(sealer.seal(m));
  }
  /** Seals without sending, for a message that must be recorded before it leaves; the faults apply when it is sent. */
  function sealOne(out: Outgoing): Envelope {
    const [m] = o.faults?.outbound ? o.faults.outbound(out) : [out];
    return sealer.seal(m ?? out);
  }

  // The policy in force: the static one, or the signed one activated last (verified again here).
  const policy = openPolicyStore(keystore.dataDir, config);
  const policyHandler = createPolicyHandler({ policy, decisions: o.records.decisions, clock, send, logger });
  const signing = createSigningHandler({
    keystore,
    config,
    policy,
    shareLog: o.records.shareLog,
    approvals: o.records.approvals,
    decisions: o.records.decisions,
    rng,
    clock,
    send,
    logger,
    crash,
  });
  const dkg: DkgHandler = createDkgHandler({
    self,
    identity,
    keystore,
    sessions: o.records.dkgSessions,
    keyOf,
    rng,
    clock,
    deadlineMs: config.dkg.deadlineMs,
    send,
    logger,
    crash,
    onKeyActive: (stored) => signing.activate(stored),
  });
  const lifecycle: LifecycleHandler = createLifecycleHandler({
    self,
    identity,
    keystore,
    sessions: o.records.lifecycleSessions,
    confirmed: o.records.lifecycleConfirmed,
    log: o.records.lifecycleLog,
    keyOf,
    policy: config.lifecycle,
    rng,
    clock,
    seal: sealOne,
    transmit,
    logger,
    crash,
    onShareChanged: (keyId) => signing.reload(keyId),
  });
  const { shares, damaged } = keystore.usable();
  const inForce = policy.active();
  logger.info(
    {
      partyId: self,
      activeKeys: shares.filter((s) => s.status === 'active').length,
      policy: { source: inForce.source, version: inForce.version, digest: inForce.digest },
    },
    'party node starting',
  );
  if (damaged.length > 0)
    logger.error({ keyIds: damaged }, 'damaged key files are not used; the coordinator is told these shares are missing (repair them)');

  /** Control messages come from the coordinator only; a peer's envelope of that type is ignored. */
  function fromCoordinator(msg: Message): boolean {
    if (msg.from === COORDINATOR) return true;
    logger.warn({ type: msg.type, from: msg.from }, 'control message not from the coordinator; ignored');
    return false;
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
        if (fromCoordinator(msg)) dkg.onStart(msg);
        return;
      case 'dkg_round1':
      case 'dkg_round2':
      case 'dkg_abort':
        return dkg.onMessage(msg);
      case 'dkg_complete':
        if (fromCoordinator(msg)) dkg.onComplete(msg);
        return;
      case 'commit_request':
        if (fromCoordinator(msg)) signing.onCommitRequest(msg);
        return;
      case 'signing_package':
        if (fromCoordinator(msg)) await signing.onSigningPackage(msg);
        return;
      case 'refresh_start':
      case 'repair_start':
      case 'reshare_start':
        if (fromCoordinator(msg)) lifecycle.onStart(msg);
        return;
      case 'refresh_round1':
      case 'refresh_round2':
      case 'repair_commit':
      case 'repair_delta':
      case 'repair_sigma':
      case 'reshare_round1':
      case 'reshare_round2':
        lifecycle.onPeerMessage(msg);
        return;
      case 'lifecycle_abort':
        if (msg.from === COORDINATOR) lifecycle.onCoordinatorAbort(msg);
        else lifecycle.onPeerMessage(msg);
        return;
      case 'lifecycle_complete':
        if (fromCoordinator(msg)) lifecycle.onComplete(msg);
        return;
      case 'lifecycle_test_request':
        if (fromCoordinator(msg)) lifecycle.onTestRequest(msg);
        return;
      case 'lifecycle_test_package':
        if (fromCoordinator(msg)) await lifecycle.onTestPackage(msg);
        return;
      case 'drill_request':
        if (fromCoordinator(msg)) lifecycle.onDrill(msg);
        return;
      case 'policy_offer':
        if (fromCoordinator(msg)) await policyHandler.onOffer(msg);
        return;
      default:
        logger.warn({ type: msg.type, from: msg.from }, 'unexpected message type for a party');
    }
  }

  link.start();
  return {
    get connected() {
      return link.connected;
    },
    liveDkgSessions: () => dkg.liveSessions(),
    liveLifecycleSessions: () => lifecycle.liveSessions(),
    async stop() {
      await link.stop();
      dkg.close();
      lifecycle.close();
      signing.close();
      await o.records.close();
    },
  };
}
