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
 * An offline member (docs/offline.md) is reached through its outbox: what an online member gets on
 * its socket, it gets in the outbox, and its answers come from the inbox into `onMessage` like any
 * member's. Its messages are held back until every online member's round 1 is in, so the vault
 * can do rounds 1 and 2 in one trip; a DKG with an offline member runs to the offline deadline.
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
  type Outgoing,
  verifyDkgCertificate,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import { isCoordinatorError } from '../errors.js';
import type { Clock, HeldMessage, OrchestratorMetrics, PartyLink } from './ports.js';
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
  /** Round-2 bodies relayed, by `from→to`: an identical one again (an offline member re-sends) is not relayed twice. */
  round2: Map<string, string>;
  /** Messages for offline members, held back until every online member's round 1 is in. */
  parked: { to: string; item: HeldMessage }[] | undefined;
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
  /** Members reached by bundles (their outbox), and how long a DKG with one of them may run. */
  offline?: OfflineDkgPort;
}

/** The offline members' side of the DKG: the outbox. */
export interface OfflineDkgPort {
  parties: readonly string[];
  /** The DKG deadline when the committee has an offline member (`offlineDeadlineMs`). */
  deadlineMs: number;
  /**
   * Holds for `partyId` a message of the DKG of `keyId`: the coordinator's own (sealed there) or a
   * member's envelope relayed. `last`: the DKG's last word (certificate, abort), held to a deadline.
   */
  hold(partyId: string, keyId: string, item: HeldMessage, last: boolean): void;
  /** The DKG of `keyId` ended: its round messages are no longer wanted. */
  drop(keyId: string): void;
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
  const offline = new Set(o.offline?.parties ?? []);

  /** The coordinator's own message to a member: its socket, or its outbox. */
  function send(keyId: string, to: string, out: Outgoing, last = false): void {
    if (offline.has(to)) o.offline?.hold(to, keyId, { message: out }, last);
    else link.sendSealed(to, out);
  }

  /** A member's envelope to another member: relayed now, or held (parked until the vault's turn). */
  function relay(run: DkgRun, to: string, env: Envelope): void {
    if (!offline.has(to)) link.forward(to, env);
    else park(run, to, { envelope: env });
  }

  function park(run: DkgRun, to: string, item: HeldMessage): void {
    if (run.parked) run.parked.push({ to, item });
    else o.offline?.hold(to, run.key.keyId, item, false);
  }

  /** Every online member's round 1 is in: what waits for the offline members goes to their outbox. */
  function unparkWhenReady(run: DkgRun): void {
    if (!run.parked || run.key.parties.some((p) => !offline.has(p) && !run.round1.has(p))) return;
    const parked = run.parked;
    run.parked = undefined;
    for (const { to, item } of parked) o.offline?.hold(to, run.key.keyId, item, false);
  }

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
    o.offline?.drop(run.key.keyId);
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
      send(keyId, p, { type: 'dkg_abort', sessionId: run.sessionId, to: p, body: { keyId, code, message, culprits: [...culprits] } }, true);
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
      send(
        key.keyId,
        p,
        { type: 'dkg_complete', sessionId: run.sessionId, to: p, body: { keyId: key.keyId, confirmations: certificate } },
        true,
      );
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
        for (const p of members) if (p !== partyId) relay(run, p, env);
        unparkWhenReady(run);
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
        {
          const pair = `${partyId}\u0000${msg.to}`;
          const body = canonicalJson(msg.body);
          if (run.round2.get(pair) === body) return undefined;
          run.round2.set(pair, body);
        }
        relay(run, msg.to, env);
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
        round2: new Map(),
        parked: key.parties.some((p) => offline.has(p)) ? [] : undefined,
        transcriptHash: undefined,
        confirmations: new Map(),
        timer: { cancel: () => undefined },
        done: false,
      };
      runs.set(sessionId, run);
      // A trip to the vault and back, twice, takes what the institution allows for one.
      const timeoutMs = run.parked && o.offline ? o.offline.deadlineMs : o.timeoutMs;
      run.timer = o.clock.setTimeout(() => {
        void fail(run, 'dkg_timeout', `DKG did not finish within ${timeoutMs} ms`);
      }, timeoutMs);
      const down = key.parties.filter((p) => !offline.has(p) && !link.isConnected(p));
      if (down.length > 0) return fail(run, 'parties_unavailable', `not connected: ${down.join(', ')}`);
      logger.info({ keyId, sessionId, suite: key.suite, threshold: key.threshold, parties: key.parties }, 'DKG starting');
      for (const p of key.parties) {
        const start: Outgoing = {
          type: 'dkg_start',
          sessionId,
          to: p,
          body: { keyId, suite: key.suite, threshold: key.threshold, committee: key.parties },
        };
        if (offline.has(p)) park(run, p, { message: start });
        else link.sendSealed(p, start);
      }
      unparkWhenReady(run);
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
        send(keyId, p, { type: 'dkg_abort', sessionId, to: p, body: { keyId, code, message, culprits: [] } }, true);
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
