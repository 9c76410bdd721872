/**
 * A drill on the coordinator: every holder of the key is sent a fresh 32-byte challenge and
 * answers with a proof of knowledge of its share (protocol lifecycle/drill.ts), which the
 * coordinator checks against the holder's certified verifying share. The operation completes when
 * every holder proved its share, and fails (`drill_failed`, naming the others) when one sent an
 * invalid proof, is not connected, or did not answer within `drillTimeoutMs`. Each proof is
 * recorded (audit `drill_completed`, the operation's progress, the metric
 * `glacis_drill_last_success_timestamp_seconds{party,key}`). Nothing changes on the key. An
 * offline holder (docs/offline.md) gets its challenge in its outbox at once; a drill with one waits
 * for the proofs up to the offline deadline.
 */
import { isProtocolError, type Message, toHex, verifyShareDrill } from '@glacis/protocol';
import { createCourier } from './lifecycle-courier.js';
import { type LifecycleRun, packageOf, type RunContext, runLifecycle } from './lifecycle-run.js';
import { encodeSessionId } from './session-id.js';
import type { KeyRow, OperationRecord } from './store-port.js';

export function createDrillRun(ctx: RunContext, op: OperationRecord, key: KeyRow): LifecycleRun {
  const sessionId = encodeSessionId({ kind: 'drill', operationId: op.operationId });
  const pkg = packageOf(key);
  const challenge = { keyId: key.keyId, drillId: op.operationId, nonce: toHex(ctx.rng(32)) };
  const members = [...key.parties];
  const proved = new Set<string>();
  const failed = new Map<string, string>(); // party → code
  const courier = createCourier({ link: ctx.link, offline: ctx.offline, operationId: op.operationId, sessionId });

  const run: LifecycleRun = {
    op,
    sessionId,
    participants: members,
    start,
    onMessage,
    abandon: () => life.abandon(),
    onConnected: () => undefined,
    onDisconnected: () => undefined,
  };
  const life = runLifecycle(ctx, () => run, 'drill');

  const report = () => ({
    phase: life.settled ? 'done' : 'waiting',
    proved: [...proved].sort(),
    failed: [...failed].map(([partyId, code]) => ({ partyId, code })).sort((a, b) => (a.partyId < b.partyId ? -1 : 1)),
    waiting: members.filter((m) => !proved.has(m) && !failed.has(m)),
  });

  async function start(): Promise<void> {
    for (const m of members) {
      if (!courier.reachable(m)) failed.set(m, 'party_unavailable');
      else courier.send(m, { type: 'drill_request', sessionId, to: m, body: challenge });
    }
    void life.progress(report());
    life.timer(courier.timeoutMs(members, ctx.drillTimeoutMs), () => {
      for (const m of members) if (!proved.has(m) && !failed.has(m)) failed.set(m, 'drill_no_answer');
      void settle();
    });
    await maybeDone();
  }

  function onMessage(from: string, msg: Message): void {
    if (msg.type !== 'drill_proof' || !members.includes(from) || proved.has(from) || failed.has(from) || life.settled) return;
    try {
      verifyShareDrill(pkg, { ...challenge, partyId: from }, msg.body);
      proved.add(from);
      ctx.metrics.drillProved(key.keyId, from, ctx.clock.now());
    } catch (e) {
      failed.set(from, isProtocolError(e) ? e.code : 'drill_invalid_proof');
    }
    void life.progress(report());
    void maybeDone();
  }

  async function maybeDone(): Promise<void> {
    if (proved.size + failed.size === members.length) await settle();
  }

  async function settle(): Promise<void> {
    if (life.settled) return;
    const r = report();
    // The last progress goes first: once settled, the operation's lease (and its fence) is gone.
    await life.progress({ ...r, phase: 'done' });
    const data = { operationId: op.operationId, keyId: key.keyId, generation: key.generation, proved: r.proved, failed: r.failed };
    if (failed.size === 0) {
      await life.complete({ type: 'drill_completed', data });
    } else {
      const names = r.failed.map((f) => `${f.partyId} (${f.code})`).join(', ');
      await life.fail(
        { code: 'drill_failed', message: `not proven: ${names}` },
        r.failed.map((f) => f.partyId),
      );
    }
  }

  return run;
}
