/**
 * Runs signing requests with ROAST: asks every connected committee member for a fresh commitment,
 * feeds commitments, shares and refusals to the protocol's ROAST machine, and carries out what it
 * says (send packages, exclude cheaters, settle). Nothing here is persisted mid-flight: after a
 * restart a request starts over with fresh nonces, so a stale signing package is never resent.
 */
import {
  createRoastCoordinator,
  type Envelope,
  fromHex,
  isPolicyRefusal,
  type Message,
  type PublicKeyPackage,
  type RoastAction,
  type RoastCoordinator,
  type RoastInput,
  toHex,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import { type CommitmentPool, createCommitmentPool } from './commitment-pool.js';
import type { Clock, OrchestratorMetrics, PartyLink } from './ports.js';
import type { KeyRow, OrchestratorStore, SignatureRow } from './store-port.js';

interface RequestRun {
  request: SignatureRow;
  key: KeyRow;
  roast: RoastCoordinator;
  commitSessionId: string;
  sessionIds: Set<string>;
  asked: Set<string>;
  /** When each signer was sent its package, per session. */
  sentAt: Map<string, number>;
  startedAt: number;
  deadline: { cancel(): void };
  wake?: { cancel(): void };
}

export interface SigningDriverOptions {
  store: OrchestratorStore;
  link: PartyLink;
  clock: Clock;
  logger: Logger;
  metrics: OrchestratorMetrics;
  /** How long a request may take before it fails with `insufficient_parties`. */
  requestTimeoutMs: number;
  /** Preprocessed commitments kept per (key, party); 0 disables the pool (default 32). */
  poolTarget?: number;
  /** ROAST session grace (see RoastOptions.sessionGraceMs). */
  sessionGraceMs?: number;
  /** Reports a signer's package-to-share round trip, ms. */
  onLatency?: (partyId: string, ms: number) => void;
}

export interface SigningDriver {
  start(signatureId: string): Promise<void>;
  onMessage(partyId: string, msg: Message, env: Envelope): boolean;
  onConnected(partyId: string): void;
  onDisconnected(partyId: string): void;
  /** Requests in flight. */
  readonly inFlight: number;
  /** In-flight requests for which `partyId` is ready. */
  readyCount(partyId: string): number;
}

function publicPackage(key: KeyRow): PublicKeyPackage {
  return {
    keyId: key.keyId,
    suite: key.suite,
    threshold: key.threshold,
    committee: key.parties,
    publicKey: key.publicKey as string,
    groupCommitment: key.groupCommitment as string[],
    verifyingShares: key.verifyingShares as Record<string, string>,
  };
}

export function createSigningDriver(o: SigningDriverOptions): SigningDriver {
  const runs = new Map<string, RequestRun>(); // signatureId → run
  const bySession = new Map<string, RequestRun>();
  const { link, logger } = o;
  const poolTarget = o.poolTarget ?? 32;
  const pool: CommitmentPool = createCommitmentPool({ target: poolTarget, lowWater: Math.floor(poolTarget / 2) });
  const poolSessions = new Map<string, string>(); // pool refill session → keyId
  let refills = 0;

  /** Tops up `partyId`'s preprocessed commitments for `keyId` when they run low. */
  function refill(keyId: string, partyId: string): void {
    if (poolTarget === 0 || !link.isConnected(partyId)) return;
    const count = pool.deficit(keyId, partyId);
    if (count === 0) return;
    const sessionId = `pool-${keyId}-${o.clock.now().toString(36)}-${refills++}`;
    poolSessions.set(sessionId, keyId);
    pool.asked(keyId, partyId, count);
    link.sendSealed(partyId, { type: 'commit_request', sessionId, to: partyId, body: { keyId, count } });
  }

  function askForCommitment(run: RequestRun, partyId: string): void {
    if (run.asked.has(partyId) && run.roast.ready.includes(partyId)) return;
    if (!link.isConnected(partyId)) return;
    run.asked.add(partyId);
    link.sendSealed(partyId, {
      type: 'commit_request',
      sessionId: run.commitSessionId,
      to: partyId,
      body: { keyId: run.key.keyId, count: 1 },
    });
  }

  function finish(run: RequestRun): void {
    run.deadline.cancel();
    run.wake?.cancel();
    // Commitments this request held but never sent in a package are still unused: keep them.
    for (const [p, c] of run.roast.unusedCommitments) if (link.isConnected(p)) pool.put(run.key.keyId, p, [c]);
    runs.delete(run.request.signatureId);
    bySession.delete(run.commitSessionId);
    for (const s of run.sessionIds) bySession.delete(s);
  }

  async function perform(run: RequestRun, actions: RoastAction[]): Promise<void> {
    const id = run.request.signatureId;
    for (const a of actions) {
      switch (a.type) {
        case 'send_package':
          run.sessionIds.add(a.sessionId);
          bySession.set(a.sessionId, run);
          logger.debug({ signatureId: id, sessionId: a.sessionId, signers: a.to }, 'signing session started');
          for (const p of a.to) {
            run.sentAt.set(`${a.sessionId}:${p}`, o.clock.now());
            link.sendSealed(p, { type: 'signing_package', sessionId: a.sessionId, to: p, body: a.pkg });
          }
          break;
        case 'exclude':
          logger.warn({ signatureId: id, partyId: a.party, code: a.code }, 'party excluded');
          o.metrics.partyExcluded(a.party);
          await o.store.addExcluded(
            id,
            { partyId: a.party, reason: `${a.code}: ${a.reason}` },
            {
              type: a.code.startsWith('policy') ? 'policy_refusal' : 'party_excluded',
              data: { signatureId: id, keyId: run.key.keyId, partyId: a.party, code: a.code, reason: a.reason },
            },
          );
          break;
        case 'completed': {
          finish(run);
          const signature = toHex(a.signature);
          const signers = [...a.signers].sort();
          await o.store.completeSignature(
            id,
            { signature, signers },
            { type: 'signature_completed', data: { signatureId: id, keyId: run.key.keyId, signers, signature } },
          );
          o.metrics.sessionEnded('signing', 'completed', (o.clock.now() - run.startedAt) / 1000);
          break;
        }
        case 'wake_at':
          run.wake?.cancel();
          run.wake = o.clock.setTimeout(() => feed(run, { type: 'tick' }), Math.max(0, a.at - o.clock.now()));
          break;
        case 'failed': {
          finish(run);
          const error = { code: a.code, message: a.message };
          const audit = {
            type: a.code === 'rejected' ? 'signature_rejected' : 'signature_failed',
            data: { signatureId: id, keyId: run.key.keyId, ...error },
          };
          if (a.code === 'rejected') await o.store.rejectSignature(id, error, audit);
          else await o.store.failSignature(id, error, audit);
          o.metrics.sessionEnded('signing', a.code, (o.clock.now() - run.startedAt) / 1000);
          break;
        }
        default: {
          const never: never = a;
          throw new Error(`unhandled ROAST action ${JSON.stringify(never)}`);
        }
      }
    }
  }

  function feed(run: RequestRun, input: RoastInput): void {
    let actions: RoastAction[];
    try {
      actions = run.roast.handle(input, o.clock.now());
    } catch (e) {
      logger.error({ signatureId: run.request.signatureId, err: (e as Error).message }, 'ROAST input rejected');
      return;
    }
    perform(run, actions).catch((e: unknown) => logger.error({ err: (e as Error).message }, 'signing driver error'));
  }

  return {
    get inFlight() {
      return runs.size;
    },
    readyCount(partyId) {
      let n = 0;
      for (const run of runs.values()) if (run.roast.ready.includes(partyId)) n++;
      return n;
    },
    async start(signatureId) {
      if (runs.has(signatureId)) return;
      const request = await o.store.getSignature(signatureId);
      if (!request || (request.status !== 'pending' && request.status !== 'signing')) return;
      const key = await o.store.getKey(request.keyId);
      if (key?.status !== 'active') {
        const error = { code: 'key_not_active', message: `key ${request.keyId} is not active` };
        await o.store.failSignature(signatureId, error, {
          type: 'signature_failed',
          data: { signatureId, keyId: request.keyId, ...error },
        });
        return;
      }
      const roast = createRoastCoordinator({
        key: publicPackage(key),
        requestId: signatureId,
        message: fromHex(request.message),
        ...(request.context === null || request.context === undefined ? {} : { context: request.context }),
        approvals: request.approvals,
        // A fresh suffix per start: sessions of an earlier coordinator life are never reused.
        sessionId: (n) => `${signatureId}-${o.clock.now().toString(36)}-s${n}`,
        sessionGraceMs: o.sessionGraceMs ?? 0,
      });
      const run: RequestRun = {
        request,
        key,
        roast,
        commitSessionId: `${signatureId}-${o.clock.now().toString(36)}-c`,
        sessionIds: new Set(),
        asked: new Set(),
        sentAt: new Map(),
        startedAt: o.clock.now(),
        deadline: { cancel: () => undefined },
      };
      runs.set(signatureId, run);
      bySession.set(run.commitSessionId, run);
      // The deadline was fixed when the request was accepted; it survives coordinator restarts.
      const stored = Date.parse(request.deadline);
      const remaining = Number.isFinite(stored) ? Math.max(0, stored - o.clock.now()) : o.requestTimeoutMs;
      run.deadline = o.clock.setTimeout(() => feed(run, { type: 'deadline' }), remaining);
      await o.store.markSigning(signatureId);
      for (const p of key.parties) {
        const c = pool.take(key.keyId, p);
        if (c) {
          run.asked.add(p);
          feed(run, { type: 'commitment', from: p, commitment: c });
        } else {
          askForCommitment(run, p);
        }
        refill(key.keyId, p);
      }
    },
    onMessage(partyId, msg) {
      const poolKey = poolSessions.get(msg.sessionId);
      if (poolKey !== undefined) {
        if (msg.type === 'commitments' && msg.body.keyId === poolKey) {
          poolSessions.delete(msg.sessionId);
          pool.put(poolKey, partyId, msg.body.commitments);
        }
        return true;
      }
      const run = bySession.get(msg.sessionId);
      if (!run) return false;
      switch (msg.type) {
        case 'commitments': {
          const c = msg.body.commitments[0];
          if (c && msg.body.keyId === run.key.keyId) feed(run, { type: 'commitment', from: partyId, commitment: c });
          break;
        }
        case 'signature_share': {
          const sent = run.sentAt.get(`${msg.sessionId}:${partyId}`);
          if (sent !== undefined) {
            run.sentAt.delete(`${msg.sessionId}:${partyId}`);
            o.onLatency?.(partyId, o.clock.now() - sent);
          }
          feed(run, { type: 'share', from: partyId, sessionId: msg.sessionId, share: msg.body.share, next: msg.body.next });
          break;
        }
        case 'sign_refused':
          if (isPolicyRefusal(msg.body.code)) {
            feed(run, { type: 'refused', from: partyId, sessionId: msg.sessionId, code: msg.body.code, message: msg.body.message });
          } else {
            // The party could not use its commitment (restarted, or evicted it): not a refusal of
            // the request. It leaves the session unblamed and is asked for a fresh commitment.
            logger.info({ signatureId: run.request.signatureId, partyId, code: msg.body.code }, 'signer withdrew from a session');
            feed(run, { type: 'withdrawn', from: partyId, sessionId: msg.sessionId });
            run.asked.delete(partyId);
            askForCommitment(run, partyId);
          }
          break;
        default:
          break;
      }
      return true;
    },
    onConnected(partyId) {
      // A party that comes back rejoins every request it can still help with.
      for (const run of runs.values()) {
        if (run.key.parties.includes(partyId) && !run.roast.excluded.has(partyId)) {
          run.asked.delete(partyId);
          askForCommitment(run, partyId);
        }
      }
    },
    onDisconnected(partyId) {
      pool.dropParty(partyId);
      for (const run of [...runs.values()]) if (run.key.parties.includes(partyId)) feed(run, { type: 'unavailable', party: partyId });
    },
  };
}
