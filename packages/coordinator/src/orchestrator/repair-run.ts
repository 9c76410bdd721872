/**
 * A verified repair on the coordinator (protocol lifecycle/repair.ts): `t` connected members help
 * the target rebuild its share; the coordinator relays commitments (public) and boxes (opaque),
 * and completes only on the target's `repair_confirm`, a proof of knowledge of the share behind
 * its certified verifying share, bound to this session and to the key's generation
 * (`verifyShareDrill`). That signed confirmation is linked into the key's lineage: a desk can see
 * that the party, under the identity it now has, holds its share. No share and no public
 * material changes; the key signs throughout.
 *
 * Helpers are chosen among the online members first. An offline participant (docs/offline.md) is
 * reached through its outbox: an offline target gets its start and the others' messages once every
 * helper's sum is in, so it rebuilds and proves its share in one trip; an offline helper gets them
 * once every online helper's commitment is in. A repair with one runs to the offline deadline.
 */
import { type Envelope, isProtocolError, keyPackageHash, type Message, verifyShareDrill } from '@glacis/protocol';
import type { Courier } from './lifecycle-courier.js';
import { createRunShell, type LifecycleRun, packageOf, type RunContext } from './lifecycle-run.js';
import type { KeyRow, OperationRecord } from './store-port.js';

/** Picks a repair's helpers: t reachable members other than the target, online ones first. */
export function chooseHelpers(key: KeyRow, target: string, reach: Pick<Courier, 'offline' | 'reachable'>): string[] | undefined {
  const rank = (p: string) => (reach.offline(p) ? 1 : 0);
  const able = key.parties.filter((p) => p !== target && reach.reachable(p)).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  return able.length >= key.threshold ? able.slice(0, key.threshold).sort() : undefined;
}

export function createRepairRun(ctx: RunContext, op: OperationRecord, key: KeyRow): LifecycleRun {
  const target = (op.params as { partyId: string }).partyId;
  const pkg = packageOf(key);
  const predecessor = keyPackageHash(pkg);
  const generation = key.generation;
  let helpers: string[] = [];
  /** The target's proof is being checked: a re-sent one is not checked again. */
  let confirming = false;
  const shell = createRunShell(
    ctx,
    op,
    'repair',
    {
      start,
      onMessage,
      onConnected: () => undefined,
      onDisconnected(p) {
        if (shell.participants.includes(p)) void shell.failAll('party_disconnected', `${p} disconnected during the repair`);
      },
    },
    ready,
  );
  const { life, courier, sessionId, failAll } = shell;

  /**
   * Whether offline participant `p` may have its messages (contract rule 4): the target once every
   * helper's sum is in; a helper once every online helper's commitment is.
   */
  function ready(p: string): boolean {
    if (p === target) return helpers.every((h) => shell.relay.has('repair_sigma', h, target));
    return helpers.every((h) => shell.courier.offline(h) || shell.relay.has('repair_commit', h));
  }

  async function start(): Promise<void> {
    const chosen = chooseHelpers(key, target, courier);
    if (!chosen || !courier.reachable(target)) {
      return failAll('parties_unavailable', `a repair needs ${target} and ${key.threshold} other members connected`);
    }
    helpers = chosen;
    const participants = [...helpers, target].sort();
    shell.participants = participants;
    // Recorded before any start leaves (see successor-run.ts).
    await life.progress({ phase: 'running', target, helpers, participants });
    if (!life.holdsLease()) return;
    const timeoutMs = courier.timeoutMs(participants, ctx.timeoutMs);
    life.timer(timeoutMs, () => void failAll('lifecycle_timeout', `the repair did not finish within ${timeoutMs} ms`));
    ctx.logger.info({ operationId: op.operationId, keyId: key.keyId, target, helpers, timeoutMs }, 'repair starting');
    const body = { keyId: key.keyId, suite: key.suite, predecessor, target, helpers, key: pkg, generation };
    for (const p of participants) courier.send(p, { type: 'repair_start', sessionId, to: p, body });
  }

  function onMessage(from: string, msg: Message, env: Envelope): void {
    const participants = shell.participants;
    if (!participants.includes(from) || life.settled) return;
    switch (msg.type) {
      case 'repair_commit':
      case 'repair_delta':
      case 'repair_sigma': {
        const verdict = shell.relay.relay(from, msg, env);
        if (verdict) void failAll(verdict.code, verdict.message, verdict.culprits);
        return;
      }
      case 'repair_confirm':
        if (from !== target || confirming) return;
        confirming = true;
        void confirm(msg.body, env);
        return;
      case 'lifecycle_abort':
        if (msg.to !== 'coordinator') for (const p of participants) if (p !== from) courier.forward(p, env, true);
        void failAll(msg.body.code, `${from}: ${msg.body.message}`, msg.to === 'coordinator' ? [] : msg.body.culprits);
        return;
      default:
        return;
    }
  }

  async function confirm(body: Extract<Message, { type: 'repair_confirm' }>['body'], env: Envelope): Promise<void> {
    try {
      verifyShareDrill(pkg, { keyId: key.keyId, partyId: target, drillId: sessionId, nonce: predecessor }, { ...body, drillId: sessionId });
    } catch (e) {
      return failAll(isProtocolError(e) ? e.code : 'drill_invalid_proof', (e as Error).message, isProtocolError(e) ? e.culprits : [target]);
    }
    const done = await life.complete(
      { type: 'key_repaired', data: { operationId: op.operationId, keyId: key.keyId, partyId: target, helpers, generation } },
      { expectedGeneration: generation, link: { operation: 'repair', sessionId, confirmations: [env] } },
    );
    if (!done) return;
    ctx.logger.info({ operationId: op.operationId, keyId: key.keyId, target }, 'share repaired');
    ctx.onShareHeld(key.keyId, target);
  }

  return shell.run;
}
