/**
 * A verified repair on the coordinator (protocol lifecycle/repair.ts): `t` connected members help
 * the target rebuild its share; the coordinator relays commitments (public) and boxes (opaque),
 * and completes only on the target's `repair_confirm`, a proof of knowledge of the share behind
 * its certified verifying share, bound to this session and to the key's generation
 * (`verifyShareDrill`). That signed confirmation is linked into the key's lineage: a desk can see
 * that the party, under the identity it now has, holds its share. No share and no public
 * material changes; the key signs throughout.
 */
import { type Envelope, isProtocolError, keyPackageHash, type Message, verifyShareDrill } from '@glacis/protocol';
import { createSessionRelay, type LifecycleRun, packageOf, type RunContext, runLifecycle } from './lifecycle-run.js';
import { encodeSessionId } from './session-id.js';
import type { KeyRow, OperationRecord } from './store-port.js';

/** Picks a repair's helpers: t connected members other than the target. */
export function chooseHelpers(key: KeyRow, target: string, connected: (p: string) => boolean): string[] | undefined {
  const able = key.parties.filter((p) => p !== target && connected(p)).sort();
  return able.length >= key.threshold ? able.slice(0, key.threshold) : undefined;
}

export function createRepairRun(ctx: RunContext, op: OperationRecord, key: KeyRow): LifecycleRun {
  const sessionId = encodeSessionId({ kind: 'repair', operationId: op.operationId });
  const target = (op.params as { partyId: string }).partyId;
  const pkg = packageOf(key);
  const predecessor = keyPackageHash(pkg);
  const generation = key.generation;
  let helpers: string[] = [];
  let participants: string[] = [];
  let relay = createSessionRelay(ctx, participants);

  const run: LifecycleRun = {
    op,
    sessionId,
    get participants() {
      return participants;
    },
    start,
    onMessage,
    abandon: () => life.abandon(),
    onConnected: () => undefined,
    onDisconnected(p) {
      if (participants.includes(p)) void failAll('party_disconnected', `${p} disconnected during the repair`);
    },
  };
  const life = runLifecycle(ctx, () => run, 'repair');

  async function failAll(code: string, message: string, culprits: readonly string[] = []): Promise<void> {
    if (life.settled) return;
    ctx.abort(run, code, message);
    await life.fail({ code, message }, culprits);
  }

  async function start(): Promise<void> {
    const chosen = chooseHelpers(key, target, ctx.link.isConnected);
    if (!chosen || !ctx.link.isConnected(target)) {
      return failAll('parties_unavailable', `a repair needs ${target} and ${key.threshold} other members connected`);
    }
    helpers = chosen;
    participants = [...helpers, target].sort();
    relay = createSessionRelay(ctx, participants);
    // Recorded before any start leaves (see successor-run.ts).
    await life.progress({ phase: 'running', target, helpers, participants });
    if (!life.holdsLease()) return;
    life.timer(ctx.timeoutMs, () => void failAll('lifecycle_timeout', `the repair did not finish within ${ctx.timeoutMs} ms`));
    ctx.logger.info({ operationId: op.operationId, keyId: key.keyId, target, helpers }, 'repair starting');
    const body = { keyId: key.keyId, suite: key.suite, predecessor, target, helpers, key: pkg, generation };
    for (const p of participants) ctx.link.sendSealed(p, { type: 'repair_start', sessionId, to: p, body });
  }

  function onMessage(from: string, msg: Message, env: Envelope): void {
    if (!participants.includes(from) || life.settled) return;
    switch (msg.type) {
      case 'repair_commit':
      case 'repair_delta':
      case 'repair_sigma': {
        const verdict = relay.relay(from, msg, env);
        if (verdict) void failAll(verdict.code, verdict.message, verdict.culprits);
        return;
      }
      case 'repair_confirm':
        if (from === target) void confirm(msg.body, env);
        return;
      case 'lifecycle_abort':
        if (msg.to !== 'coordinator') for (const p of participants) if (p !== from) ctx.link.forward(p, env);
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

  return run;
}
