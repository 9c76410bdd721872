/**
 * A refresh or reshare, end to end on the coordinator (two phases, DESIGN.md "Key lifecycle"):
 *
 *   running     every participant is sent its start (a reshare's start carries the key's package
 *               for newcomers); their rounds are relayed; every new holder's lifecycle_confirm
 *               is collected. Any failure (a party's abort or refusal, a disconnection, the
 *               timeout, an equivocation) fails the operation and leaves the key exactly as it
 *               was: nothing was switched anywhere.
 *   certified   the confirmations are the successor's certificate (verifyLifecycleCertificate
 *               against the key's current package and the coordinator's pins). It is recorded in
 *               the operation's progress before anything else happens, so a restarted coordinator
 *               resumes here: from now on no member can abandon the successor any more (each
 *               confirmed it), so the operation only completes — it no longer times out.
 *   testing     every new holder signs the successor test message (protocol successorTestMessage,
 *               which each computes itself) with its staged share; the coordinator aggregates and
 *               verifies the signature under the unchanged public key. An invalid share fails the
 *               operation, naming its sender (`lifecycle_test_invalid`); a holder that goes away
 *               is asked again when it is back.
 *   offline     an offline participant (docs/offline.md) is reached through its outbox
 *               (lifecycle-courier.ts): its start and the others' messages are parked until every
 *               online dealer's round 1 (a reshare: and its round 2s to the offline new members) is
 *               in, so its vault deals and derives in one trip; the operation runs to the offline
 *               deadline. Its vault sends a test commitment with its confirmation, kept for the
 *               test round; a fresh one after a package went out (the vault had no unused nonce
 *               for it) starts the round over with it.
 *   switch      one store transaction: the key's committee, threshold, verifying shares and group
 *               commitment, its generation, the certificate linked into its lineage, the operation
 *               completed and its audit event. Then every participant (and, for a reshare, every
 *               old member) is sent the certificate: new holders switch, members reshared away
 *               destroy their share; signing requests in flight start over on the new material.
 */
import {
  BROADCAST,
  COORDINATOR,
  canonicalJson,
  createAggregator,
  type Envelope,
  envelopeSchema,
  getSuite,
  isProtocolError,
  keyPackageHash,
  type Message,
  type NonceCommitment,
  type Outgoing,
  openEnvelope,
  type PublicKeyPackage,
  parseNonceCommitment,
  publicKeyPackageSchema,
  rawIntent,
  successorTestMessage,
  toHex,
  verifyLifecycleCertificate,
} from '@glacis/protocol';
import { z } from 'zod';
import type { Courier } from './lifecycle-courier.js';
import { createRunShell, type LifecycleRun, packageOf, type RunContext } from './lifecycle-run.js';
import type { JsonObject, KeyRow, OperationRecord } from './store-port.js';

/** What a certified operation records, to be resumed after a restart. */
const certifiedSchema = z.object({
  phase: z.literal('certified'),
  participants: z.array(z.string()),
  certificate: z.array(envelopeSchema),
  successor: publicKeyPackageSchema,
});

/** The certified state recorded in `op`'s progress, if it reached it. */
export function certifiedProgress(op: OperationRecord): z.infer<typeof certifiedSchema> | undefined {
  const r = certifiedSchema.safeParse(op.progress);
  return r.success ? r.data : undefined;
}

/**
 * Picks a reshare's dealers: t reachable old members, online ones first (an offline dealer costs a
 * trip to its vault), then those staying in the committee.
 */
export function chooseDealers(key: KeyRow, next: readonly string[], reach: Pick<Courier, 'offline' | 'reachable'>): string[] | undefined {
  const rank = (p: string) => (reach.offline(p) ? 2 : 0) + (next.includes(p) ? 0 : 1);
  const ranked = key.parties.filter(reach.reachable).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  return ranked.length >= key.threshold ? ranked.slice(0, key.threshold).sort() : undefined;
}

export function createSuccessorRun(ctx: RunContext, op: OperationRecord, key: KeyRow): LifecycleRun {
  const operation = op.type as 'refresh' | 'reshare';
  // A snapshot: the row may be changed under us by the switch itself.
  const pkg = packageOf(key);
  const predecessor = keyPackageHash(pkg);
  const fromGeneration = key.generation;
  const params = op.params as { threshold?: number; parties?: string[] };
  const committee = operation === 'refresh' ? [...pkg.committee] : [...(params.parties ?? [])].sort();
  const threshold = operation === 'refresh' ? pkg.threshold : (params.threshold ?? 0);
  const resumed = certifiedProgress(op);
  const recordedDealers = (op.progress as { dealers?: string[] } | null)?.dealers;
  let dealers: string[] = recordedDealers ?? [];

  let phase: 'running' | 'testing' | 'done' = 'running';
  const confirms = new Map<string, Envelope>();
  let certificate: Envelope[] = resumed?.certificate ?? [];
  let successor: PublicKeyPackage | undefined = resumed?.successor;
  let test: { commitments: Map<string, NonceCommitment>; aggregator?: ReturnType<typeof createAggregator> } | undefined;
  /** Each offline holder's latest test commitment not yet in a package sent to it: kept for the next round. */
  const unused = new Map<string, NonceCommitment>();
  /** Test commitments and shares read: the same again (an offline holder re-sends) is a duplicate. */
  const read = new Set<string>();
  /** Participants that disconnected while the operation runs. */
  const away = new Set<string>();

  const shell = createRunShell(
    ctx,
    op,
    operation,
    {
      start,
      onMessage,
      onConnected(p) {
        // A new holder back while the test runs may have lost its nonce: the round starts over.
        if (phase === 'testing' && committee.includes(p)) startTest();
      },
      onDisconnected(p) {
        // Not a failure yet: the party may have confirmed (a confirmation lost with the link) and
        // says so when it is back (onKeySync); the timeout decides if it is not.
        if (phase === 'running' && shell.participants.includes(p)) away.add(p);
      },
      onKeySync(p, staged) {
        if (phase !== 'running' || !away.delete(p)) return;
        const mine = staged.find((s) => s.sessionId === sessionId && s.keyId === key.keyId);
        if (mine && committee.includes(p)) {
          let msg: Message;
          try {
            msg = openEnvelope(mine.confirm, { self: COORDINATOR, keyOf: ctx.keyOf, anyRecipient: true });
          } catch {
            return;
          }
          if (msg.type === 'lifecycle_confirm' && msg.from === p && msg.sessionId === sessionId) onConfirm(p, msg, mine.confirm);
          return;
        }
        // A new member back without its confirmation lost its part with its memory: it can never
        // confirm. (A dealer that is not a new member may well have finished its part.)
        if (committee.includes(p)) void failAll('party_disconnected', `${p} came back without its part of the ${operation}`);
      },
    },
    () => ready(),
  );
  const { life, courier, sessionId } = shell;
  if (resumed) shell.participants = resumed.participants;
  const log = ctx.logger.child({ operationId: op.operationId, keyId: key.keyId, sessionId });

  async function failAll(code: string, message: string, culprits: readonly string[] = []): Promise<void> {
    if (life.settled) return;
    phase = 'done';
    await shell.failAll(code, message, culprits);
  }

  /**
   * Whether an offline participant may have its messages (contract rule 4): every online dealer's
   * round 1 is in and, in a reshare, its round 2 to each offline new member, so that the vault
   * deals and derives in one trip.
   */
  function ready(): boolean {
    const { relay } = shell;
    return dealers
      .filter((d) => !shell.courier.offline(d))
      .every((d) =>
        operation === 'refresh'
          ? relay.has('refresh_round1', d)
          : relay.has('reshare_round1', d) &&
            committee.every((j) => j === d || !shell.courier.offline(j) || relay.has('reshare_round2', d, j)),
      );
  }

  async function start(): Promise<void> {
    if (resumed) {
      log.info('resuming a certified operation: the successor test signature');
      startTest();
      return;
    }
    if (operation === 'reshare') {
      const chosen = recordedDealers ?? chooseDealers(key, committee, courier);
      if (!chosen) return failAll('parties_unavailable', `fewer than ${key.threshold} old members are connected to deal`);
      dealers = chosen;
    } else {
      dealers = [...committee];
    }
    const participants = [...new Set([...dealers, ...committee])].sort();
    const down = participants.filter((p) => !courier.reachable(p));
    // Nothing was sent yet: nobody to tell (an offline party's outbox would carry the abort for a day).
    if (down.length > 0) return failAll('parties_unavailable', `not connected: ${down.join(', ')}`);
    shell.participants = participants;
    // Recorded before any start leaves: an instance that takes the operation over after this one
    // died knows whom to tell that it is aborted.
    await life.progress({ phase: 'running', participants, dealers, committee, threshold, confirmed: [] });
    if (!life.holdsLease()) return;
    const timeoutMs = courier.timeoutMs(participants, ctx.timeoutMs);
    life.timer(timeoutMs, () => void failAll('lifecycle_timeout', `the ${operation} did not finish within ${timeoutMs} ms`));
    log.info({ operation, participants, committee, threshold, timeoutMs }, 'lifecycle operation starting');
    for (const p of participants) courier.send(p, startMessage(p));
    ctx.crash('lifecycle-started');
  }

  function startMessage(to: string): Outgoing {
    const common = { keyId: key.keyId, suite: key.suite, predecessor };
    if (operation === 'refresh') {
      return { type: 'refresh_start', sessionId, to, body: { ...common, threshold, committee } };
    }
    return {
      type: 'reshare_start',
      sessionId,
      to,
      body: { ...common, threshold, committee, dealers, key: pkg, generation: fromGeneration },
    };
  }

  function onMessage(from: string, msg: Message, env: Envelope): void {
    const participants = shell.participants;
    if (!participants.includes(from) || life.settled) return;
    switch (msg.type) {
      case 'refresh_round1':
      case 'refresh_round2':
      case 'reshare_round1':
      case 'reshare_round2': {
        if (phase !== 'running' || msg.type.slice(0, operation.length) !== operation) return;
        const verdict = shell.relay.relay(from, msg, env);
        if (verdict) void failAll(verdict.code, verdict.message, verdict.culprits);
        return;
      }
      case 'lifecycle_confirm':
        if (phase === 'running' && committee.includes(from)) onConfirm(from, msg, env);
        return;
      case 'lifecycle_abort':
        if (phase !== 'running') return;
        if (msg.to === BROADCAST) for (const p of participants) if (p !== from) courier.forward(p, env, true);
        void failAll(msg.body.code, `${from}: ${msg.body.message}`, msg.to === COORDINATOR ? [] : msg.body.culprits);
        return;
      case 'lifecycle_test_commitment':
        if (committee.includes(from) && firstRead(from, canonicalJson(msg.body.commitment))) onTestCommitment(from, msg.body.commitment);
        return;
      case 'lifecycle_test_share':
        // Read (and so a duplicate ever after) even when no package waits for it: a share of a
        // package taken back is re-sent by its offline holder and must never count in a later round.
        if (firstRead(from, msg.body.share) && phase === 'testing' && test?.aggregator) void onTestShare(from, msg.body.share);
        return;
      default:
        log.debug({ from, type: msg.type }, 'message without a place in this operation; dropped');
    }
  }

  function onConfirm(from: string, msg: Extract<Message, { type: 'lifecycle_confirm' }>, env: Envelope): void {
    const prev = confirms.get(from);
    if (prev) {
      if (canonicalJson(prev.body) !== canonicalJson(msg.body)) {
        void failAll('lifecycle_equivocation', `${from} signed two different confirmations`, [from]);
      }
      return;
    }
    confirms.set(from, env);
    void life.progress({ confirmed: [...confirms.keys()].sort() });
    if (confirms.size === committee.length) void certify();
  }

  async function certify(): Promise<void> {
    certificate = committee.map((m) => confirms.get(m) as Envelope);
    try {
      successor = verifyLifecycleCertificate(certificate, {
        predecessor: pkg,
        operation,
        sessionId,
        committee,
        threshold,
        keyOf: ctx.keyOf,
      });
    } catch (e) {
      const err = isProtocolError(e) ? e : undefined;
      return failAll(err?.code ?? 'lifecycle_confirmation_mismatch', (e as Error).message, err?.culprits ?? []);
    }
    life.stopTimer();
    // SECURITY: recorded before anything else: every member confirmed, so none can abandon it any
    // more; a restarted coordinator must be able to finish what the members are waiting for.
    await life.progress({ phase: 'certified', participants: shell.participants, certificate, successor } as unknown as JsonObject);
    if (!life.holdsLease()) return;
    ctx.crash('lifecycle-certified');
    log.info('successor certified; asking for the test signature');
    startTest();
  }

  /** False for a test commitment or share `from` sent before (re-sent by an offline holder). */
  function firstRead(from: string, what: string): boolean {
    const slot = `${from} ${what}`;
    if (read.has(slot)) return false;
    read.add(slot);
    return true;
  }

  /**
   * A test round: every new holder is asked for a commitment, but an offline holder whose latest
   * commitment went out in no package yet (sent with its confirmation, or after a package it had no
   * nonce for): that one is used, saving a trip to its vault.
   */
  function startTest(): void {
    phase = 'testing';
    test = { commitments: new Map() };
    for (const p of committee) {
      // What an earlier round left in its outbox is no longer wanted: the vault would answer it again.
      courier.withdraw(p, ['lifecycle_test_request', 'lifecycle_test_package']);
      const kept = unused.get(p);
      if (kept) test.commitments.set(p, kept);
      else courier.send(p, { type: 'lifecycle_test_request', sessionId, to: p, body: { keyId: key.keyId } });
    }
    sendTestPackage();
  }

  function onTestCommitment(from: string, wire: Extract<Message, { type: 'lifecycle_test_commitment' }>['body']['commitment']): void {
    if (phase === 'done') return;
    let commitment: NonceCommitment;
    try {
      commitment = parseNonceCommitment(getSuite(key.suite), wire, from);
    } catch (e) {
      void failAll('lifecycle_test_invalid', `${from}: ${(e as Error).message}`, [from]);
      return;
    }
    if (courier.offline(from)) unused.set(from, commitment);
    // Before the test (an offline holder's, with its confirmation): kept for the round.
    if (phase !== 'testing' || !test) return;
    if (!test.aggregator) {
      test.commitments.set(from, commitment);
      sendTestPackage();
      return;
    }
    // A package went out and an offline holder answers with a fresh commitment: it holds no unused
    // nonce for it (contract rule 3). The round starts over with that commitment.
    if (courier.offline(from) && test.aggregator.signers.includes(from)) {
      log.info({ holder: from }, 'an offline holder had no nonce for the test package: the test round starts over');
      startTest();
    }
  }

  /** Sends the test package once every new holder's commitment is in. */
  function sendTestPackage(): void {
    if (!test || test.aggregator || test.commitments.size < committee.length || !successor) return;
    // One message, as a raw intent: each holder computes the same message itself and signs only that.
    const message = successorTestMessage(sessionId, successor);
    const aggregator = createAggregator({ key: successor, requestId: sessionId, intent: rawIntent(toHex(message)), messages: [message] });
    for (const [p, c] of test.commitments) aggregator.addCommitment(p, [c]);
    const commitments = aggregator
      .buildPackage(committee)
      .commitments.map(({ partyId, hiding, binding }) => ({ partyId, hiding, binding }));
    test.aggregator = aggregator;
    for (const p of committee) {
      unused.delete(p);
      courier.send(p, { type: 'lifecycle_test_package', sessionId, to: p, body: { keyId: key.keyId, commitments } });
    }
  }

  async function onTestShare(from: string, share: string): Promise<void> {
    const aggregator = test?.aggregator;
    if (!aggregator) return;
    try {
      if (!aggregator.addShare(from, [share])) return;
      aggregator.finish();
    } catch (e) {
      const err = isProtocolError(e) ? e : undefined;
      if (err?.code === 'unexpected_signature_share') return;
      return failAll('lifecycle_test_invalid', `the successor's test signature failed: ${(e as Error).message}`, err?.culprits ?? [from]);
    }
    await switchKey();
  }

  async function switchKey(): Promise<void> {
    const next = successor as PublicKeyPackage;
    phase = 'done';
    const generation = fromGeneration + 1;
    const switched = await life.complete(
      {
        type: operation === 'refresh' ? 'key_refreshed' : 'key_reshared',
        data: {
          operationId: op.operationId,
          keyId: key.keyId,
          generation,
          threshold: next.threshold,
          parties: next.committee,
          publicKey: next.publicKey,
          successor: keyPackageHash(next),
        },
      },
      {
        expectedGeneration: fromGeneration,
        link: { operation, sessionId, confirmations: certificate },
        material: {
          threshold: next.threshold,
          parties: next.committee,
          verifyingShares: next.verifyingShares,
          groupCommitment: next.groupCommitment,
        },
      },
    );
    if (!switched) return;
    ctx.crash('lifecycle-switched');
    log.info({ generation, parties: next.committee, threshold: next.threshold }, 'key switched to its successor');
    const told = new Set([...shell.participants, ...pkg.committee]);
    for (const p of told) {
      const complete: Outgoing = {
        type: 'lifecycle_complete',
        sessionId,
        to: p,
        body: { keyId: key.keyId, operation, confirmations: certificate },
      };
      courier.send(p, complete, true);
    }
    for (const p of next.committee) ctx.onShareHeld(key.keyId, p);
    ctx.onKeySwitched(key.keyId, next);
  }

  return shell.run;
}
