/**
 * Runs DKG sessions: starts them, relays round-1 broadcasts and encrypted round-2 shares between
 * committee members (opaque to the coordinator), and activates a key only when every member's
 * signed confirmation is in and they all agree — the set of confirmations is kept as the key's
 * certificate. Anything else ends the key as `failed` with a code.
 *
 * It also checks what it relays where only it can: it knows the parameters it sent each member
 * and holds every round-1 package, so a member that signs round 1 for other parameters, or echoes
 * another round-1 transcript in round 2, is named here (the members themselves cannot tell such a
 * member from a lying relay, and name nobody).
 *
 * With work leases (lease-keeper.ts) a DKG runs only where its key's lease is, and every write
 * carries the lease's fence. A DKG cannot move: its round state lives in the parties' memory, so
 * an instance that claims one another instance left (`takeOver`) fails it and tells the parties.
 */
import {
  canonicalJson,
  type DkgFailureCode,
  type DkgParams,
  dkgParamsHash,
  dkgTranscriptHash,
  type Envelope,
  isDkgFailureCode,
  isProtocolError,
  type Message,
  type MessageBody,
  verifyDkgCertificate,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import { isCoordinatorError } from '../errors.js';
import type { Clock, OrchestratorMetrics, PartyLink } from './ports.js';
import { encodeSessionId } from './session-id.js';
import type { KeyRow, LeaseFence, OrchestratorStore } from './store-port.js';

/** Which DKGs this instance may run, when it shares the store with other instances. */
export interface DkgLeases {
  /** The key's fence while this instance surely holds its lease; undefined once it does not. */
  fence(keyId: string): LeaseFence | undefined;
  /** The DKG settled, or was given up, here. */
  release(keyId: string): void;
}

interface DkgRun {
  key: KeyRow;
  sessionId: string;
  params: DkgParams;
  paramsHash: string;
  startedAt: number;
  round1: Map<string, MessageBody<'dkg_round1'>>;
  /** Once every round-1 package is in: the transcript every member must echo. */
  transcriptHash: string | undefined;
  confirmations: Map<string, Envelope>;
  timer: { cancel(): void };
  done: boolean;
}

export interface DkgDriverOptions {
  store: OrchestratorStore;
  link: PartyLink;
  clock: Clock;
  logger: Logger;
  metrics: OrchestratorMetrics;
  keyOf: (partyId: string) => Uint8Array | undefined;
  timeoutMs: number;
  /** Work leases; without them every DKG is this process's to run. */
  leases?: DkgLeases;
}

export interface DkgDriver {
  /** Runs the DKG of a pending key (with leases: one whose lease this instance holds). */
  start(keyId: string): Promise<void>;
  /** Fails a pending key whose DKG another instance (or an earlier life of this one) left unfinished. */
  takeOver(keyId: string): Promise<void>;
  /** Stops a DKG here without writing or telling the parties anything (its lease was lost). */
  abandon(keyId: string): void;
  /** A message of a DKG session (the orchestrator dispatches on the session id's kind); always true. */
  onMessage(partyId: string, msg: Message, env: Envelope): boolean;
  onDisconnected(partyId: string): void;
  /** Answers a party's `key_sync`: the certificate (or the abort) of each key it names. */
  sync(partyId: string, keyIds: readonly string[]): Promise<void>;
}

export const dkgSessionId = (keyId: string) => encodeSessionId({ kind: 'dkg', keyId });

export function createDkgDriver(o: DkgDriverOptions): DkgDriver {
  const runs = new Map<string, DkgRun>();
  const { link, logger } = o;

  /** False when leases are in use and this one is no longer surely ours: write and send nothing. */
  function mayWrite(keyId: string): { fence: LeaseFence | undefined } | undefined {
    if (!o.leases) return { fence: undefined };
    const fence = o.leases.fence(keyId);
    return fence ? { fence } : undefined;
  }

  function stop(run: DkgRun): void {
    run.done = true;
    run.timer.cancel();
    runs.delete(run.sessionId);
  }

  /** A settle the lease allowed; `lease_lost` from the store (the lease moved meanwhile) is only logged. */
  async function settled(keyId: string, write: () => Promise<void> | void): Promise<void> {
    try {
      await write();
    } catch (e) {
      if (!(isCoordinatorError(e) && e.code === 'lease_lost')) throw e;
      logger.warn({ keyId, err: e.message }, 'lease lost: DKG outcome not written here');
    } finally {
      o.leases?.release(keyId);
    }
  }

  async function fail(run: DkgRun, code: DkgFailureCode, message: string, culprits: readonly string[] = []): Promise<void> {
    if (run.done) return;
    stop(run);
    const keyId = run.key.keyId;
    const allowed = mayWrite(keyId);
    if (!allowed) return;
    logger.warn({ keyId, sessionId: run.sessionId, code, culprits }, 'DKG failed');
    for (const p of run.key.parties) {
      link.sendSealed(p, { type: 'dkg_abort', sessionId: run.sessionId, to: p, body: { keyId, code, message, culprits: [...culprits] } });
    }
    const detail = culprits.length > 0 ? `${message} (culprits: ${culprits.join(', ')})` : message;
    await settled(keyId, () =>
      o.store.markKeyFailed(
        keyId,
        { code, message: detail },
        { type: 'key_failed', data: { keyId, code, message: detail, culprits: [...culprits] } },
        allowed.fence,
      ),
    );
    o.metrics.sessionEnded('dkg', 'failed', (o.clock.now() - run.startedAt) / 1000);
  }

  async function complete(run: DkgRun): Promise<void> {
    const key = run.key;
    let pub: ReturnType<typeof verifyDkgCertificate>;
    const certificate = key.parties.map((p) => run.confirmations.get(p) as Envelope);
    try {
      pub = verifyDkgCertificate(certificate, {
        keyId: key.keyId,
        suite: key.suite,
        threshold: key.threshold,
        committee: key.parties,
        keyOf: o.keyOf,
      });
    } catch (e) {
      return fail(run, isProtocolError(e) ? e.code : 'dkg_failed', (e as Error).message, isProtocolError(e) ? e.culprits : []);
    }
    stop(run);
    const allowed = mayWrite(key.keyId);
    if (!allowed) return;
    let written = false;
    await settled(key.keyId, async () => {
      await o.store.markKeyActive(
        key.keyId,
        { publicKey: pub.publicKey, verifyingShares: pub.verifyingShares, groupCommitment: pub.groupCommitment, certificate },
        {
          type: 'key_created',
          data: { keyId: key.keyId, suite: key.suite, threshold: key.threshold, parties: key.parties, publicKey: pub.publicKey },
        },
        allowed.fence,
      );
      written = true;
    });
    // The parties activate their shares only on a certificate the store holds.
    if (!written) return;
    for (const p of key.parties) {
      link.sendSealed(p, { type: 'dkg_complete', sessionId: run.sessionId, to: p, body: { keyId: key.keyId, confirmations: certificate } });
    }
    logger.info({ keyId: key.keyId, publicKey: pub.publicKey }, 'key active');
    o.metrics.sessionEnded('dkg', 'completed', (o.clock.now() - run.startedAt) / 1000);
  }

  function handle(run: DkgRun, partyId: string, msg: Message, env: Envelope): Promise<void> | undefined {
    const members = run.key.parties;
    if (!members.includes(partyId)) return undefined;
    switch (msg.type) {
      case 'dkg_round1': {
        const prev = run.round1.get(partyId);
        if (prev) {
          // Two different signed round-1 packages from one party is proof of equivocation.
          if (canonicalJson(prev) !== canonicalJson(msg.body))
            return fail(run, 'dkg_equivocation', `${partyId} sent two different round-1 packages`, [partyId]);
          return undefined;
        }
        if (msg.to !== '*') return fail(run, 'dkg_unexpected_message', `round 1 from ${partyId} was not a broadcast`, [partyId]);
        // We sent every member these parameters, signed: a package made for others is the sender's lie.
        if (msg.body.paramsHash !== run.paramsHash)
          return fail(run, 'dkg_parameter_mismatch', `${partyId} signed round 1 for other parameters than it was sent`, [partyId]);
        run.round1.set(partyId, msg.body);
        if (run.round1.size === members.length) run.transcriptHash = dkgTranscriptHash(run.params, run.round1);
        for (const p of members) if (p !== partyId) link.forward(p, env);
        return undefined;
      }
      case 'dkg_round2':
        if (!members.includes(msg.to) || msg.to === partyId)
          return fail(run, 'dkg_unexpected_message', `round 2 from ${partyId} to ${msg.to}`, [partyId]);
        // An honest member sends round 2 only after every round-1 package reached it through us.
        if (run.transcriptHash === undefined)
          return fail(run, 'dkg_unexpected_message', `round 2 from ${partyId} before every round-1 package was relayed`, [partyId]);
        // Every member was relayed the same signed round-1 packages: another echo is the sender's fault.
        if (msg.body.transcriptHash !== run.transcriptHash)
          return fail(run, 'dkg_transcript_mismatch', `${partyId} echoed a round-1 transcript other than the one relayed`, [partyId]);
        link.forward(msg.to, env);
        return undefined;
      case 'dkg_confirm':
        if (!run.confirmations.has(partyId)) run.confirmations.set(partyId, env);
        if (run.confirmations.size === members.length) return complete(run);
        return undefined;
      case 'dkg_abort':
        return fail(run, msg.body.code, `${partyId}: ${msg.body.message}`, msg.body.culprits);
      default:
        return undefined;
    }
  }

  return {
    async start(keyId) {
      if (!mayWrite(keyId)) return;
      const key = await o.store.getKey(keyId);
      if (key?.status !== 'pending') {
        o.leases?.release(keyId);
        return;
      }
      const sessionId = dkgSessionId(keyId);
      const params: DkgParams = { keyId, sessionId, suite: key.suite, threshold: key.threshold, committee: key.parties };
      const run: DkgRun = {
        key,
        sessionId,
        params,
        paramsHash: dkgParamsHash(params),
        startedAt: o.clock.now(),
        round1: new Map(),
        transcriptHash: undefined,
        confirmations: new Map(),
        timer: { cancel: () => undefined },
        done: false,
      };
      runs.set(sessionId, run);
      run.timer = o.clock.setTimeout(() => {
        void fail(run, 'dkg_timeout', `DKG did not finish within ${o.timeoutMs} ms`);
      }, o.timeoutMs);
      const offline = key.parties.filter((p) => !link.isConnected(p));
      if (offline.length > 0) return fail(run, 'parties_unavailable', `not connected: ${offline.join(', ')}`);
      logger.info({ keyId, sessionId, suite: key.suite, threshold: key.threshold, parties: key.parties }, 'DKG starting');
      for (const p of key.parties) {
        link.sendSealed(p, {
          type: 'dkg_start',
          sessionId,
          to: p,
          body: { keyId, suite: key.suite, threshold: key.threshold, committee: key.parties },
        });
      }
    },
    async takeOver(keyId) {
      const allowed = mayWrite(keyId);
      if (!allowed) return;
      const key = await o.store.getKey(keyId);
      if (key?.status !== 'pending') {
        o.leases?.release(keyId);
        return;
      }
      const code = 'coordinator_restarted';
      const message = 'the coordinator instance running the DKG stopped before it finished; request a new key';
      logger.warn({ keyId, code }, 'DKG left unfinished by another coordinator life; failing it');
      // Parties still in the DKG drop its state; one that saved a pending share discards it.
      const sessionId = dkgSessionId(keyId);
      for (const p of key.parties)
        link.sendSealed(p, { type: 'dkg_abort', sessionId, to: p, body: { keyId, code, message, culprits: [] } });
      await settled(keyId, () =>
        o.store.markKeyFailed(keyId, { code, message }, { type: 'key_failed', data: { keyId, code, message } }, allowed.fence),
      );
    },
    abandon(keyId) {
      const run = runs.get(dkgSessionId(keyId));
      if (run) stop(run);
      o.leases?.release(keyId);
    },
    onMessage(partyId, msg, env) {
      const run = runs.get(msg.sessionId);
      if (!run) return true; // a DKG session (the orchestrator dispatched it by kind) that is over
      handle(run, partyId, msg, env)?.catch((e: unknown) => logger.error({ err: (e as Error).message }, 'DKG driver error'));
      return true;
    },
    async sync(partyId, keyIds) {
      for (const keyId of keyIds) {
        const key = await o.store.getKey(keyId);
        if (!key?.parties.includes(partyId)) continue;
        const sessionId = dkgSessionId(keyId);
        if (key.status === 'active' && key.certificate) {
          link.sendSealed(partyId, { type: 'dkg_complete', sessionId, to: partyId, body: { keyId, confirmations: key.certificate } });
        } else if (key.status === 'failed') {
          const error = key.error ?? { code: 'dkg_failed', message: 'the DKG failed' };
          const code = isDkgFailureCode(error.code) ? error.code : 'dkg_failed';
          link.sendSealed(partyId, {
            type: 'dkg_abort',
            sessionId,
            to: partyId,
            body: { keyId, code, message: error.message.slice(0, 1024), culprits: [] },
          });
        }
      }
    },
    onDisconnected(partyId) {
      for (const run of [...runs.values()]) {
        if (run.key.parties.includes(partyId)) void fail(run, 'party_disconnected', `${partyId} disconnected during the DKG`);
      }
    },
  };
}
