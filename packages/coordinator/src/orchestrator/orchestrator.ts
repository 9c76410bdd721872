/**
 * The coordinator's engine room: party connections, the DKG, signing and lifecycle drivers, the
 * work leases that say which instance runs what, and recovery after a restart (or after another
 * instance stopped). Implements the Orchestrator boundary the HTTP layer calls.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import {
  type BitcoinNetwork,
  COORDINATOR,
  type Envelope,
  type IdentityKey,
  type Message,
  type MessageBody,
  sealBundle,
  toHex,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import type { CoordinatorCrashPoint } from '../crash-points.js';
import { CoordinatorError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import { type ConnectionHub, createConnectionHub, type HubOptions } from './connections.js';
import { createClockSealer } from './coordinator-sealer.js';
import { createDkgDriver, type DkgDriver } from './dkg-driver.js';
import { createLeaseKeeper, type LeaseKeeper } from './lease-keeper.js';
import { createLifecycleDriver, type LifecycleDriver } from './lifecycle-driver.js';
import { readInbox } from './offline-inbox.js';
import { createOfflineOutbox } from './offline-outbox.js';
import { createPolicyRelay, type PolicyRelay } from './policy-relay.js';
import { type Clock, type OrchestratorMetrics, type PartyLink, realClock } from './ports.js';
import { parseSessionId } from './session-id.js';
import { createSigningDriver, type SigningDriver, type SigningDriverOptions } from './signing-driver.js';
import type { OrchestratorStore, WorkKind } from './store-port.js';
import type { Orchestrator, PartyStatus } from './types.js';

export interface OrchestratorOptions {
  identity: IdentityKey;
  /** Admitted parties and their pinned identity keys. */
  parties: ReadonlyMap<string, Uint8Array>;
  store: OrchestratorStore;
  logger: Logger;
  metrics: OrchestratorMetrics;
  dkgTimeoutMs: number;
  requestTimeoutMs: number;
  /** How long a refresh, repair or reshare may take before its certificate is complete (default 120 s). */
  lifecycleTimeoutMs?: number;
  /** How long a drill waits for the holders' proofs (default 30 s). */
  drillTimeoutMs?: number;
  /** Whether the coordinator repairs a key's missing shares itself (default: never). */
  autoRepair?: (keyId: string) => boolean;
  /** Test-only crash injection (crash-points.ts). */
  crash?: (point: CoordinatorCrashPoint) => void;
  /** ROAST: how long an open session may run before another starts beside it (at least; default 250 ms). */
  sessionGraceMs?: number;
  /** Runs sessions' aggregations on other threads (aggregation-pool.ts); default: inline. */
  aggregate?: SigningDriverOptions['aggregate'];
  clock?: Clock;
  /** Fault injection for tests and the LAN bench: rewrite, drop or duplicate traffic per party. */
  faults?: TransportFaults;
  /** The chain PSBTs are read for when a request completes (default `bitcoin`). */
  bitcoinNetwork?: BitcoinNetwork;
  /** Bounds on party sockets that have not authenticated yet (see HubOptions). */
  connectionLimits?: Pick<HubOptions, 'maxUnauthenticated' | 'maxPreAuthBytes'>;
  /** Work leases (default: a store this process uses alone, 30 s leases). */
  leases?: LeaseSettings;
  /** Parties reached by bundles, not sockets (docs/offline.md): their outbox and inbox. */
  offlineParties?: readonly string[];
  /**
   * How long a DKG or lifecycle operation with an offline participant may run, and how long its
   * certificate or abort waits in the outbox (`offlineDeadlineMs`, default 24 h).
   */
  offlineDeadlineMs?: number;
}

/** How this instance holds work leases (docs/operations.md, "Several coordinators"). */
export interface LeaseSettings {
  /** This instance life's id, the owner of its leases (default: random). */
  owner?: string;
  ttlMs: number;
  /** True when no other coordinator uses the store (SQLite): start by taking every lease. */
  exclusive: boolean;
  /** How often to look for work whose lease lapsed (default ttlMs / 2). */
  claimIntervalMs?: number;
}

/** Hooks on the coordinator's side of every party link. Return [] to drop, several to duplicate. */
export interface TransportFaults {
  outbound?(partyId: string, env: Envelope): Envelope[];
  inbound?(partyId: string, msg: Message, env: Envelope): boolean;
}

export interface RunningOrchestrator extends Orchestrator {
  /** Accepts party WebSocket connections on `server` at /v1/ws. */
  attach(server: Server): void;
  /** Sends an already-sealed envelope to a party (tools and tests). */
  sendEnvelope(partyId: string, env: Envelope): boolean;
  /**
   * Claims the work an earlier life of this coordinator, or a stopped instance, left unsettled
   * and resumes it; from then on keeps renewing leases and looking for such work.
   */
  recover(): Promise<void>;
  /** This instance's lease owner id. */
  readonly instanceId: string;
  close(): Promise<void>;
}

export function createOrchestrator(o: OrchestratorOptions): RunningOrchestrator {
  const clock = o.clock ?? realClock;
  const sealer = createClockSealer(COORDINATOR, o.identity, () => clock.now());
  const log = o.logger;
  let hub: ConnectionHub | undefined;
  let dkg: DkgDriver | undefined;
  let signing: SigningDriver | undefined;
  let keeper: LeaseKeeper | undefined;
  const leaseSettings = o.leases ?? { ttlMs: 30_000, exclusive: true };
  const instanceId = leaseSettings.owner ?? `c-${randomBytes(6).toString('hex')}`;
  let lifecycle: LifecycleDriver | undefined;
  let policy: PolicyRelay | undefined;
  const offlineParties = new Set(o.offlineParties ?? []);
  const outbox = createOfflineOutbox();

  const transmit = (p: string, env: Envelope): boolean => {
    if (!hub) return false;
    const outs = o.faults?.outbound ? o.faults.outbound(p, env) : [env];
    let sent = hub.isConnected(p);
    for (const e of outs) sent = hub.send(p, e) && sent;
    return sent;
  };
  const link: PartyLink = {
    isConnected: (p) => hub?.isConnected(p) ?? false,
    sendSealed: (p, out) => transmit(p, sealer.seal(out)),
    forward: transmit,
  };
  // Connection events are audited off the request path; a closed store (shutdown) must not crash us.
  const audit = (type: string, data: Record<string, unknown>) => {
    Promise.resolve(o.store.appendAudit(type, data)).catch((e: unknown) =>
      log.warn({ type, err: (e as Error).message }, 'audit append failed'),
    );
  };
  const connectedCount = () => [...o.parties.keys()].filter((p) => link.isConnected(p)).length;

  hub = createConnectionHub({
    identity: o.identity,
    parties: o.parties,
    logger: log,
    ...o.connectionLimits,
    events: {
      onConnected(partyId) {
        o.metrics.connectedParties(connectedCount());
        audit('party_connected', { partyId });
        signing?.onConnected(partyId);
        lifecycle?.onConnected(partyId);
      },
      onDisconnected(partyId) {
        o.metrics.connectedParties(connectedCount());
        audit('party_disconnected', { partyId });
        dkg?.onDisconnected(partyId);
        signing?.onDisconnected(partyId);
        lifecycle?.onDisconnected(partyId);
      },
      onMessage(partyId, msg, env) {
        if (o.faults?.inbound && !o.faults.inbound(partyId, msg, env)) return;
        if (msg.type === 'key_sync') {
          const body = msg.body;
          Promise.all([dkg?.sync(partyId, body.pendingKeys), lifecycle?.onKeySync(partyId, body)]).catch((e: unknown) =>
            log.error({ partyId, err: (e as Error).message }, 'key sync failed'),
          );
          return;
        }
        const session = parseSessionId(msg.sessionId);
        switch (session?.kind) {
          case 'dkg':
            dkg?.onMessage(partyId, msg, env);
            return;
          case 'pool':
          case 'commit':
          case 'sign':
            signing?.onMessage(partyId, msg, session);
            return;
          case 'refresh':
          case 'repair':
          case 'reshare':
          case 'drill':
            lifecycle?.onMessage(partyId, msg, env, session);
            return;
          case 'policy':
            if (msg.type === 'policy_status') onPolicyStatus(partyId, msg.body);
            return;
          case undefined:
            log.debug({ partyId, type: msg.type, sessionId: msg.sessionId }, 'message for no session of this coordinator; dropped');
            return;
          default: {
            const never: never = session;
            throw new Error(`unhandled session ${JSON.stringify(never)}`);
          }
        }
      },
      onRejected: (reason) => o.metrics.wsRejected(reason),
    },
  });
  const keyOf = (p: string) => o.parties.get(p);

  /** What the store holds as the latest distributed policy becomes the relay's (it never moves back). */
  async function loadLatestPolicy(): Promise<void> {
    const latest = await o.store.getPolicy();
    if (latest) policy?.setLatest({ signed: latest.signed, version: latest.version, digest: latest.digest });
  }
  // Another instance may have distributed a newer policy since this one last looked (a PUT lands
  // on one instance; parties report to all): the store says what is latest before a report is
  // answered with an offer. Reports are handled in the order they came; a report that fails is
  // logged, never left to reject the chain (that would drop every later report).
  let policyReports = Promise.resolve();
  function onPolicyStatus(partyId: string, status: MessageBody<'policy_status'>): void {
    policyReports = policyReports
      .then(async () => {
        await loadLatestPolicy().catch((e: unknown) => log.warn({ err: (e as Error).message }, 'reading the latest policy failed'));
        policy?.onStatus(partyId, status);
      })
      .catch((e: unknown) => log.error({ partyId, err: (e as Error).message }, 'policy report failed'));
  }
  policy = createPolicyRelay({ link, clock, logger: log });
  const leasesOf = (kind: WorkKind) => ({
    fence: (id: string) => keeper?.fence(kind, id),
    release: (id: string) => keeper?.drop(kind, id),
  });
  const offlineDeadlineMs = o.offlineDeadlineMs ?? 86_400_000;
  dkg = createDkgDriver({
    store: o.store,
    link,
    clock,
    logger: log,
    metrics: o.metrics,
    keyOf,
    timeoutMs: o.dkgTimeoutMs,
    leases: leasesOf('key'),
    offline: {
      parties: [...offlineParties],
      deadlineMs: offlineDeadlineMs,
      hold(partyId, keyId, item, last) {
        const env = 'envelope' in item ? item.envelope : sealer.seal(item.message);
        outbox.putDkg(partyId, keyId, env, last ? clock.now() + offlineDeadlineMs : undefined);
      },
      drop: (keyId) => outbox.dropDkg(keyId),
    },
  });
  // Per-party state for /v1/parties and metrics: exclusions and a smoothed signing round trip.
  const excludedCount = new Map<string, number>();
  const latencyMs = new Map<string, number>();
  const metrics: OrchestratorMetrics = {
    ...o.metrics,
    partyExcluded(partyId) {
      excludedCount.set(partyId, (excludedCount.get(partyId) ?? 0) + 1);
      o.metrics.partyExcluded(partyId);
    },
  };
  signing = createSigningDriver({
    store: o.store,
    link,
    clock,
    logger: log,
    metrics,
    requestTimeoutMs: o.requestTimeoutMs,
    sessionGraceMs: o.sessionGraceMs ?? 250,
    ...(o.aggregate ? { aggregate: o.aggregate } : {}),
    ...(o.bitcoinNetwork ? { bitcoinNetwork: o.bitcoinNetwork } : {}),
    onLatency(partyId, ms) {
      const prev = latencyMs.get(partyId);
      latencyMs.set(partyId, prev === undefined ? ms : prev * 0.8 + ms * 0.2);
      o.metrics.partyLatency(partyId, ms / 1000);
    },
    leases: leasesOf('signature'),
    offline: {
      parties: [...offlineParties],
      hold: (partyId, requestId, message) => outbox.put(partyId, requestId, sealer.seal(message)),
      drop: (requestId) => outbox.drop(requestId),
    },
  });
  /** The pinned key of `partyId` when it is an offline party; throws `not_found` or `party_not_offline`. */
  function offlineKeyOf(partyId: string): Uint8Array {
    const key = o.parties.get(partyId);
    if (!key) throw notFound('party');
    if (!offlineParties.has(partyId))
      throw new CoordinatorError('party_not_offline', `${partyId} is an online party: it has no outbox or inbox`);
    return key;
  }
  const logErr = (what: string, id: string) => (e: unknown) => log.error({ id, err: (e as Error).message }, `${what} failed`);
  keeper = createLeaseKeeper({
    store: o.store,
    owner: instanceId,
    ttlMs: leaseSettings.ttlMs,
    ...(leaseSettings.claimIntervalMs === undefined ? {} : { claimIntervalMs: leaseSettings.claimIntervalMs }),
    exclusive: leaseSettings.exclusive,
    clock,
    logger: log,
    // An instance no party reaches would only fail what it took; leave the work to the others.
    canTakeWork: () => connectedCount() > 0,
    onClaimed(lease) {
      // Epoch 1: never claimed before (accepted by an instance that had not claimed it yet).
      const fresh = lease.epoch === 1;
      switch (lease.kind) {
        case 'signature':
          log.info({ signatureId: lease.id, epoch: lease.epoch }, 'resuming signing request');
          signing?.start(lease.id).catch(logErr('signing start', lease.id));
          return;
        case 'key':
          if (fresh) dkg?.start(lease.id).catch(logErr('DKG start', lease.id));
          else dkg?.takeOver(lease.id).catch(logErr('DKG takeover', lease.id));
          return;
        case 'operation':
          if (fresh) lifecycle?.start(lease.id).catch(logErr('lifecycle start', lease.id));
          else lifecycle?.takeOver(lease.id).catch(logErr('lifecycle takeover', lease.id));
          return;
        default: {
          const never: never = lease.kind;
          throw new Error(`unknown work kind ${String(never)}`);
        }
      }
    },
    onLost(lease) {
      switch (lease.kind) {
        case 'signature':
          signing?.abandon(lease.id);
          return;
        case 'key':
          dkg?.abandon(lease.id);
          return;
        case 'operation':
          lifecycle?.abandon(lease.id);
          return;
        default: {
          const never: never = lease.kind;
          throw new Error(`unknown work kind ${String(never)}`);
        }
      }
    },
  });

  lifecycle = createLifecycleDriver({
    store: o.store,
    link,
    clock,
    logger: log,
    metrics: o.metrics,
    keyOf,
    timeoutMs: o.lifecycleTimeoutMs ?? 120_000,
    drillTimeoutMs: o.drillTimeoutMs ?? 30_000,
    rng: (n) => new Uint8Array(randomBytes(n)),
    crash: o.crash ?? (() => undefined),
    autoRepair: o.autoRepair ?? (() => false),
    newOperationId: () => newId('op', clock.now()),
    onKeySwitched: (keyId, key) => signing?.onKeySwitched(keyId, key),
    offline: {
      isOffline: (p) => offlineParties.has(p),
      deadlineMs: offlineDeadlineMs,
      hold(partyId, operationId, item, last) {
        const env = 'envelope' in item ? item.envelope : sealer.seal(item.message);
        outbox.putLifecycle(partyId, operationId, env, last ? clock.now() + offlineDeadlineMs : undefined);
      },
      withdraw: (partyId, sessionId, types) => outbox.withdrawLifecycle(partyId, sessionId, types),
      drop: (operationId) => outbox.dropLifecycle(operationId),
    },
    leases: {
      ...leasesOf('operation'),
      claim: async (id) => (await keeper?.claim('operation', id)) !== undefined,
    },
  });
  // A key switched by another instance on a shared database: stop signing with its old material here.
  const unwatch = o.store.onKeySwitched?.((keyId) => {
    lifecycle?.keySwitched(keyId).catch(logErr('following a key switch', keyId));
  });

  return {
    parties(): PartyStatus[] {
      return [...o.parties.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([partyId, key]) => ({
          partyId,
          identityKey: toHex(key),
          connected: link.isConnected(partyId),
          mode: offlineParties.has(partyId) ? 'offline' : 'online',
          lastSeenAt: hub?.lastSeen(partyId)?.toISOString() ?? null,
          ready: signing?.readyCount(partyId) ?? 0,
          excludedCount: excludedCount.get(partyId) ?? 0,
          latencyMs: latencyMs.has(partyId) ? Math.round((latencyMs.get(partyId) as number) * 10) / 10 : null,
          needsRepair: lifecycle?.needsRepair(partyId) ?? [],
          policy: policy?.statusOf(partyId) ?? null,
        }));
    },
    // An offline party is reached through its outbox: never connected, never waited for.
    allConnected: (ids) => ids.every((p) => offlineParties.has(p) || link.isConnected(p)),
    onKeyCreated(keyId) {
      keeper
        ?.claim('key', keyId)
        .then((fence) => (fence ? dkg?.start(keyId) : undefined))
        .catch(logErr('DKG start', keyId));
    },
    onSignatureRequested(signatureId) {
      keeper
        ?.claim('signature', signatureId)
        .then((fence) => (fence ? signing?.start(signatureId) : undefined))
        .catch(logErr('signing start', signatureId));
    },
    onOperationCreated(operationId) {
      keeper
        ?.claim('operation', operationId)
        .then((fence) => (fence ? lifecycle?.start(operationId) : undefined))
        .catch(logErr('lifecycle start', operationId));
    },
    shareStatus: (keyId, partyId) => lifecycle?.shareStatus(keyId, partyId) ?? 'unknown',
    onPolicyDistributed(p) {
      policy?.distribute(p);
    },
    waitPolicySettled(digest, ms, signal) {
      const connected = [...o.parties.keys()].filter((p) => link.isConnected(p));
      return policy?.waitSettled(digest, connected, ms, signal) ?? Promise.resolve(false);
    },
    async offlineOutbox(partyId) {
      offlineKeyOf(partyId);
      const now = clock.now();
      const { envelopes, requestIds, keyIds, operationIds } = outbox.pending(partyId, now);
      if (envelopes.length === 0)
        return { partyId, bundle: null, sequence: null, signatureIds: [], keyIds: [], operationIds: [], items: 0 };
      // Above every sequence given before (the vault refuses any other), and near the clock's ms.
      const sequence = await o.store.nextOutboxSequence(partyId, now);
      const bundle = sealBundle(
        { recipient: partyId, sequence, createdAt: now, items: envelopes.map((envelope) => ({ kind: 'envelope', envelope })) },
        { name: COORDINATOR, identity: o.identity },
        (n = 32) => new Uint8Array(randomBytes(n)),
      );
      return { partyId, bundle, sequence, signatureIds: requestIds, keyIds, operationIds, items: envelopes.length };
    },
    async offlineInbox(partyId, bytes) {
      const identityKey = offlineKeyOf(partyId);
      const plan = await readInbox(bytes, {
        partyId,
        identityKey,
        lastSequence: await o.store.lastInboxSequence(partyId),
        getKey: async (keyId) => o.store.getKey(keyId),
        getOperation: async (kind, operationId) => lifecycle?.operation(kind, operationId),
      });
      const { sequence } = plan.bundle;
      // Of two posts of one bundle at once, the store lets one in.
      if (!(await o.store.acceptInbox(partyId, sequence, plan.commitments)))
        throw new CoordinatorError('bundle_replayed', `bundle ${sequence} from ${partyId}: already accepted`);
      const answers = plan.answers.length + plan.dkg.length + plan.lifecycle.length;
      audit('offline_inbox_accepted', { partyId, sequence, commitments: plan.commitments.length, answers });
      for (const { msg, session } of plan.answers) {
        outbox.answered(partyId, msg.sessionId);
        signing?.onMessage(partyId, msg, session);
      }
      for (const { msg, env } of plan.dkg) {
        outbox.dkgAnswered(partyId, msg.sessionId, msg.type);
        dkg?.onMessage(partyId, msg, env);
      }
      // What the whole bundle shows the vault has leaves the outbox first: a message fed here may
      // put a new one there (a restarted test round's request) that this answer cannot have seen.
      for (const { msg, session } of plan.lifecycle) outbox.lifecycleAnswered(partyId, session.operationId, msg);
      for (const { msg, env, session } of plan.lifecycle) lifecycle?.onMessage(partyId, msg, env, session);
      for (const keyId of new Set(plan.commitments.map((c) => c.keyId))) outbox.keyActive(partyId, keyId);
      if (plan.commitments.length > 0) signing?.onOfflineSupplied(partyId);
      return { partyId, sequence, commitments: plan.commitments.length, answers };
    },
    attach: (server) => hub?.attach(server),
    sendEnvelope: (partyId, env) => hub?.send(partyId, env) ?? false,
    instanceId,
    async recover() {
      await loadLatestPolicy();
      // Claimed work is dispatched by onClaimed: signing requests are finished from scratch with
      // fresh nonces; a DKG cannot resume (its round state lived in the parties' memory), so it
      // fails with coordinator_restarted; so does a lifecycle operation, unless it was certified
      // (then it resumes at its test signature).
      await keeper?.claimNow();
      keeper?.start();
    },
    async close() {
      unwatch?.();
      await keeper?.close();
      await hub?.close();
    },
  };
}
