/**
 * The offline party in refresh, reshare, repair and drills, bundle by bundle, with the online
 * members run as protocol machines by the test, which also plays the coordinator (it relays each
 * envelope once, holds the offline party's messages back as docs/offline.md says, runs the
 * successor test and sends the certificate). Attacked and crashed: a crash at every crash point,
 * at every place it is reached, never makes two different messages for one slot leave and never
 * signs twice with one test nonce; a lost answer is made good by the next trip; a replayed bundle
 * or start is refused; a peer's two round-1 packages end the session with nothing changed; and the
 * seeded replay is deterministic, the machines taking all their randomness from the rng given.
 */

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BROADCAST,
  COORDINATOR,
  canonicalJson,
  createAggregator,
  createRefreshParticipant,
  createRepairParticipant,
  createReshareParticipant,
  createSigner,
  type Envelope,
  fromHex,
  getSuite,
  isBundleError,
  type KeyShare,
  keyPackageHash,
  type LifecycleMachine,
  type Message,
  type MessageBody,
  type NonceCommitmentWire,
  type Outgoing,
  openEnvelope,
  type PendingSuccessor,
  type PublicKeyPackage,
  parseNonceCommitment,
  type Rng,
  rawIntent,
  successorTestMessage,
  toHex,
  verifyShareDrill,
} from '@glacis/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CrashPoint } from '../src/crash-points.js';
import { readJsonLines } from '../src/fs-atomic.js';
import { openKeystore } from '../src/keystore/keystore.js';
import { OFFLINE_LIFECYCLE_DIR } from '../src/offline/lifecycle-state.js';
import type { LifecycleJoinView } from '../src/offline/offline-lifecycle.js';
import type { OfflineConfirm, OfflineResult } from '../src/offline/offline-party.js';
import { seededRng } from '../src/offline/seeded-rng.js';
import { rng, routeToPeers, startHarness } from './harness.js';
import { answerOf, outbox, runOffline } from './offline-vault.js';

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const KEY = 'k1';
const confirmAll: OfflineConfirm = { signing: async () => true, dkg: async () => true, lifecycle: async () => true };
type Machine = LifecycleMachine<unknown, string>;
const suite = getSuite('ed25519');

/** p1 holding active k1 (2-of-3 with p2, p3), its node stopped: the directory is the vault's. */
async function vault() {
  const h = await startHarness();
  const { sessionId, confirmations, peerShares } = await h.dkg(KEY);
  h.deliver({ type: 'dkg_complete', sessionId, to: 'p1', body: { keyId: KEY, confirmations } });
  await h.stopNode();
  cleanup.push(() => h.close());
  const pkg = openKeystore(h.dataDir, h.unlock).get(KEY)?.share.public as PublicKeyPackage;
  return { h, pkg, peerShares, now: { ms: Date.now() } };
}
type Vault = Awaited<ReturnType<typeof vault>>;

/** A copy of the vault's directory: every crash run starts from the same party. */
function copyOf(v: Vault): string {
  const dir = mkdtempSync(join(tmpdir(), 'glacis-offline-lc-'));
  cpSync(v.h.dataDir, dir, { recursive: true });
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** One run of `glacis-party offline process` (a fresh process: everything reopened from disk). */
const run = (v: Vault, dir: string, crash?: (p: CrashPoint) => void) =>
  runOffline(v.h, { dir, now: v.now, ...(crash ? { crash } : {}), onClose: (close) => cleanup.push(close) });

const killed = (e: unknown) => e instanceof Error && e.message.startsWith('killed at ');
const lifecycleResults = (rs: OfflineResult[]) => rs.filter((r) => r.kind === 'lifecycle');
const statesOf = (dir: string) => (existsSync(join(dir, OFFLINE_LIFECYCLE_DIR)) ? readdirSync(join(dir, OFFLINE_LIFECYCLE_DIR)) : []);

/**
 * The test as coordinator and online members: relays every envelope once (a re-sent one is a
 * duplicate), queues what is addressed to p1 until the test puts it in a bundle, and drives p1
 * trip by trip. `crashAt` kills the n-th crash point reached in the whole scenario; the killed
 * trip is fetched again (a new bundle, the same messages), as the desk would.
 */
function desk(v: Vault, dir: string, machines: Map<string, Machine>, participants: string[], crashAt?: number) {
  const forP1: Envelope[] = [];
  const toCoordinator: Envelope[] = [];
  const results = new Map<string, unknown>();
  /** How an online member's session ended with an error (an abort it received, say). */
  const errors = new Map<string, string>();
  const left: Envelope[] = [];
  const relayed = new Set<string>();
  const trips = { in: 0, out: 0 };
  const hits: CrashPoint[] = [];
  const crash = (point: CrashPoint) => {
    hits.push(point);
    if (hits.length === crashAt) throw new Error(`killed at ${point}`);
  };
  const post = (from: string, outs: Outgoing[]) => {
    for (const out of outs) route(v.h.seal(from, out));
  };
  function route(env: Envelope): void {
    if (relayed.has(env.signature)) return;
    relayed.add(env.signature);
    if (env.to === COORDINATOR) {
      toCoordinator.push(env);
      return;
    }
    routeToPeers(env, {
      participants,
      node: 'p1',
      toNode: (e) => forP1.push(e),
      machines,
      open: (to, e) => v.h.open(to, e),
      onStep(to, step) {
        if (step.error) errors.set(to, step.error.code);
        if (step.result !== undefined) results.set(to, step.result);
        post(to, step.outgoing);
      },
    });
  }
  async function trip(envelopes: Envelope[], confirm: OfflineConfirm = confirmAll) {
    trips.in++;
    for (;;) {
      const party = await run(v, dir, crash);
      let out: Awaited<ReturnType<typeof party.process>>;
      try {
        out = await party.process(outbox(v.h, envelopes), confirm);
      } catch (e) {
        if (killed(e)) continue;
        throw e;
      }
      const answer = answerOf(v.h, out.response);
      if (out.response) trips.out++;
      left.push(...answer.map((a) => a.env));
      try {
        out.commit();
      } catch (e) {
        if (!killed(e)) throw e; // killed after the answer was written: it left
      }
      const fresh = answer.filter((a) => !relayed.has(a.env.signature));
      for (const { env } of answer) route(env);
      return { results: out.results, answer: answer.map((a) => a.msg), fresh: fresh.map((a) => a.msg) };
    }
  }
  return {
    forP1,
    take: () => forP1.splice(0),
    toCoordinator,
    fromP1: (type: string) => toCoordinator.filter((e) => e.from === 'p1' && e.type === type),
    confirmations: (committee: string[]) =>
      committee.map((m) => toCoordinator.find((e) => e.from === m && e.type === 'lifecycle_confirm') as Envelope),
    results,
    errors,
    left,
    trips,
    hits,
    trip,
    start: () => {
      for (const [p, m] of machines) post(p, m.start().outgoing);
    },
  };
}
type Desk = ReturnType<typeof desk>;

const seal = (v: Vault, out: Outgoing) => v.h.seal(COORDINATOR, out);

/**
 * The successor test signature as the coordinator runs it: every new holder signs, p1 with the
 * commitment it sent unasked with its confirmation; an answer with a fresh commitment instead (its
 * nonce was used, or lost in a crash) restarts the round with it. Returns the signature, verified.
 */
async function successorTest(v: Vault, d: Desk, sessionId: string, successor: PublicKeyPackage, holders: Map<string, KeyShare>) {
  const message = successorTestMessage(sessionId, successor);
  const used = new Map<string, Set<string>>();
  let mine = (d.fromP1('lifecycle_test_commitment').at(-1) as Envelope).body as MessageBody<'lifecycle_test_commitment'>;
  for (let round = 0; round < 4; round++) {
    const agg = createAggregator({ key: successor, requestId: sessionId, intent: rawIntent(toHex(message)), messages: [message] });
    agg.addCommitment('p1', [parseNonceCommitment(suite, mine.commitment, 'p1')]);
    const signers = new Map([...holders].map(([p, share]) => [p, createSigner(share, rng)]));
    for (const [p, s] of signers) agg.addCommitment(p, [parseNonceCommitment(suite, s.commit(), p)]);
    const pkg = agg.buildPackage(['p1', ...holders.keys()].sort());
    for (const [p, s] of signers) agg.addShare(p, [toHex(s.sign(pkg, [message]).shares[0] as Uint8Array)]);
    const { fresh } = await d.trip([
      seal(v, { type: 'lifecycle_test_package', sessionId, to: 'p1', body: { keyId: KEY, commitments: pkg.commitments } }),
    ]);
    const share = fresh.find((m) => m.type === 'lifecycle_test_share') as Extract<Message, { type: 'lifecycle_test_share' }> | undefined;
    if (share) {
      // One commitment signs once: a second, different share for it would be a nonce reused.
      const key = canonicalJson(mine.commitment);
      used.set(key, new Set([...(used.get(key) ?? []), share.body.share]));
      expect(used.get(key)?.size).toBe(1);
      agg.addShare('p1', [share.body.share]);
      const [signature] = agg.finish();
      expect(suite.verify(signature as Uint8Array, message, fromHex(successor.publicKey))).toBe(true);
      return signature as Uint8Array;
    }
    const again = fresh.find((m) => m.type === 'lifecycle_test_commitment') as Extract<Message, { type: 'lifecycle_test_commitment' }>;
    expect(again, 'a test package without its nonce is answered with a fresh commitment').toBeDefined();
    mine = again.body;
  }
  throw new Error('the successor test never finished');
}

/** No two different messages from p1 for one slot ever left (which the online members would also see as equivocation). */
function expectOneMessagePerSlot(left: Envelope[]): void {
  const slots = new Map<string, string>();
  for (const env of left) {
    if (['lifecycle_test_commitment', 'lifecycle_test_share', 'drill_proof'].includes(env.type)) continue;
    const slot = `${env.sessionId} ${env.type} → ${env.to}`;
    const body = canonicalJson(env.body);
    expect(slots.get(slot) ?? body, `two different ${slot}`).toBe(body);
    slots.set(slot, body);
  }
}

/** Every test nonce signed once: its commitment is recorded once in lifecycle.log, and no two test shares left for it. */
async function expectTestNoncesUsedOnce(dir: string, left: Envelope[]): Promise<void> {
  const signed = (readJsonLines(join(dir, 'lifecycle.log')).lines as { type: string; data: { commitment?: NonceCommitmentWire } }[])
    .filter((e) => e.type === 'successor_test_signed')
    .map((e) => canonicalJson(e.data.commitment));
  expect(new Set(signed).size).toBe(signed.length);
  const shares = new Set(left.filter((e) => e.type === 'lifecycle_test_share').map((e) => canonicalJson(e.body)));
  expect(shares.size).toBeLessThanOrEqual(signed.length);
}

const refreshMachines = (v: Vault, sessionId: string) =>
  new Map<string, Machine>(
    ['p2', 'p3'].map((p) => [
      p,
      createRefreshParticipant({
        share: v.peerShares.get(p) as KeyShare,
        sessionId,
        identity: v.h.identity(p),
        peerKey: v.h.keyOf,
        rng,
      }) as Machine,
    ]),
  );
const refreshStart = (v: Vault, sessionId: string) =>
  seal(v, {
    type: 'refresh_start',
    sessionId,
    to: 'p1',
    body: { keyId: KEY, suite: 'ed25519', predecessor: keyPackageHash(v.pkg), threshold: 2, committee: ['p1', 'p2', 'p3'] },
  });
const complete = (v: Vault, sessionId: string, operation: 'refresh' | 'reshare', confirmations: Envelope[]) =>
  seal(v, { type: 'lifecycle_complete', sessionId, to: 'p1', body: { keyId: KEY, operation, confirmations } });

/** A whole refresh with p1 offline: 4 trips in, 3 out. */
async function refresh(v: Vault, dir: string, crashAt?: number) {
  const sessionId = 'refresh-op_1';
  const d = desk(v, dir, refreshMachines(v, sessionId), ['p1', 'p2', 'p3'], crashAt);
  d.start();
  // The coordinator parks p1's messages until every online round 1 is in: trip 1 carries all of it.
  const t1 = await d.trip([refreshStart(v, sessionId), ...d.take()]);
  const t2 = await d.trip(d.take());
  const successor = (d.results.get('p2') as PendingSuccessor).public;
  const holders = new Map(['p2', 'p3'].map((p) => [p, (d.results.get(p) as PendingSuccessor).share]));
  await successorTest(v, d, sessionId, successor, holders);
  const t4 = await d.trip([complete(v, sessionId, 'refresh', d.confirmations(['p1', 'p2', 'p3']))]);
  return { d, sessionId, successor, t1, t2, t4 };
}

const reshareBody = (v: Vault, committee: string[], threshold: number, dealers: string[]) => ({
  keyId: KEY,
  suite: 'ed25519' as const,
  predecessor: keyPackageHash(v.pkg),
  threshold,
  committee,
  dealers,
  key: v.pkg,
  generation: 0,
});
const reshareMachines = (v: Vault, sessionId: string, body: ReturnType<typeof reshareBody>) =>
  new Map<string, Machine>(
    ['p2', 'p3']
      .filter((p) => body.dealers.includes(p) || body.committee.includes(p))
      .map((p) => [
        p,
        createReshareParticipant({
          key: v.pkg,
          ...(body.dealers.includes(p) ? { share: v.peerShares.get(p) as KeyShare } : {}),
          self: p,
          dealers: body.dealers,
          committee: body.committee,
          threshold: body.threshold,
          sessionId,
          identity: v.h.identity(p),
          peerKey: v.h.keyOf,
          rng,
        }) as Machine,
      ]),
  );

/** 2-of-3 → 3-of-3, p1 offline dealing (with p2) and receiving: 3 trips in, 2 out. */
async function reshareAsDealerAndMember(v: Vault, dir: string, crashAt?: number) {
  const sessionId = 'reshare-op_1';
  const body = reshareBody(v, ['p1', 'p2', 'p3'], 3, ['p1', 'p2']);
  const d = desk(v, dir, reshareMachines(v, sessionId, body), ['p1', 'p2', 'p3'], crashAt);
  d.start();
  // Parked until the online dealer's round 1 and its round 2 to p1 are in.
  const t1 = await d.trip([seal(v, { type: 'reshare_start', sessionId, to: 'p1', body }), ...d.take()]);
  const successorOf = (p: string) => (d.results.get(p) as { successor: PendingSuccessor }).successor;
  const holders = new Map(['p2', 'p3'].map((p) => [p, successorOf(p).share]));
  await successorTest(v, d, sessionId, successorOf('p2').public, holders);
  const t3 = await d.trip([complete(v, sessionId, 'reshare', d.confirmations(['p1', 'p2', 'p3']))]);
  return { d, sessionId, successor: successorOf('p2').public, t1, t3 };
}

/** 2-of-3 → 2-of-2 without p1, p1 offline dealing only: 2 trips in, 1 out; the certificate destroys its share. */
async function reshareAway(v: Vault, dir: string, crashAt?: number) {
  const sessionId = 'reshare-op_2';
  const body = reshareBody(v, ['p2', 'p3'], 2, ['p1', 'p2']);
  const d = desk(v, dir, reshareMachines(v, sessionId, body), ['p1', 'p2', 'p3'], crashAt);
  d.start();
  const t1 = await d.trip([seal(v, { type: 'reshare_start', sessionId, to: 'p1', body }), ...d.take()]);
  const t2 = await d.trip([complete(v, sessionId, 'reshare', d.confirmations(['p2', 'p3']))]);
  return { d, sessionId, t1, t2 };
}

const repairStart = (v: Vault, sessionId: string, target: string, helpers: string[]) =>
  seal(v, {
    type: 'repair_start',
    sessionId,
    to: 'p1',
    body: { keyId: KEY, suite: 'ed25519', predecessor: keyPackageHash(v.pkg), target, helpers, key: v.pkg, generation: 0 },
  });

/** p1 lost its share and is repaired offline by p2 and p3: 1 trip. */
async function repairTarget(v: Vault, dir: string, crashAt?: number) {
  const sessionId = 'repair-op_1';
  const machines = new Map<string, Machine>(
    ['p2', 'p3'].map((p) => [
      p,
      createRepairParticipant({
        key: v.pkg,
        share: v.peerShares.get(p) as KeyShare,
        self: p,
        target: 'p1',
        helpers: ['p2', 'p3'],
        sessionId,
        identity: v.h.identity(p),
        peerKey: v.h.keyOf,
        rng,
      }) as Machine,
    ]),
  );
  const d = desk(v, dir, machines, ['p1', 'p2', 'p3'], crashAt);
  d.start();
  // Parked until every helper's sigma is in (with their commitments).
  const t1 = await d.trip([repairStart(v, sessionId, 'p1', ['p2', 'p3']), ...d.take()]);
  return { d, sessionId, t1 };
}

/** A vault whose share of k1 was lost (its key file gone). */
function withoutShare(dir: string): void {
  rmSync(join(dir, 'keys', `${KEY}.json`));
}

describe('refresh with the offline party, through bundles', () => {
  it('four trips in and three out: the successor is committed, the public key unchanged, nothing left at rest', async () => {
    const v = await vault();
    const dir = copyOf(v);
    const before = openKeystore(dir, v.h.unlock).get(KEY)?.share.frostSecret.signingShare.slice();
    const { d, successor, t1, t2, t4 } = await refresh(v, dir);
    expect(d.trips).toEqual({ in: 4, out: 3 });
    expect(lifecycleResults(t1.results)).toEqual([expect.objectContaining({ operation: 'refresh', status: 'joined' })]);
    expect(t1.answer.map((m) => `${m.type}:${m.to}`)).toEqual(['refresh_round1:*', 'refresh_round2:p2', 'refresh_round2:p3']);
    // Trip 2: what it sent before, again, then the confirmation and the test commitment (unasked).
    expect(t2.answer.map((m) => m.type)).toEqual([
      'refresh_round1',
      'refresh_round2',
      'refresh_round2',
      'lifecycle_confirm',
      'lifecycle_test_commitment',
    ]);
    expect(lifecycleResults(t2.results)).toEqual([expect.objectContaining({ status: 'confirmed', generation: 1 })]);
    expect(lifecycleResults(t4.results)).toEqual([
      expect.objectContaining({ status: 'switched', generation: 1, publicKey: v.pkg.publicKey }),
    ]);
    const stored = openKeystore(dir, v.h.unlock);
    expect(keyPackageHash(stored.get(KEY)?.share.public as PublicKeyPackage)).toBe(keyPackageHash(successor));
    expect(stored.get(KEY)?.share.public.publicKey).toBe(v.pkg.publicKey);
    expect(stored.get(KEY)?.generation).toBe(1);
    expect(stored.get(KEY)?.share.frostSecret.signingShare).not.toEqual(before);
    expect(stored.successions.staged(KEY)).toBeUndefined();
    expect(statesOf(dir)).toEqual([]);
    expectOneMessagePerSlot(d.left);
    await expectTestNoncesUsedOnce(dir, d.left);
  });

  it('the operator is shown what this party read (operation, key, generation, committee) before anything is made', async () => {
    const v = await vault();
    const dir = copyOf(v);
    const d = desk(v, dir, refreshMachines(v, 'refresh-op_5'), ['p1', 'p2', 'p3']);
    d.start();
    const seen: LifecycleJoinView[] = [];
    const t1 = await d.trip([refreshStart(v, 'refresh-op_5'), ...d.take()], {
      ...confirmAll,
      lifecycle: async (view) => {
        seen.push(view);
        return false;
      },
    });
    expect(seen).toEqual([
      expect.objectContaining({
        operation: 'refresh',
        keyId: KEY,
        publicKey: v.pkg.publicKey,
        generation: { from: 0, to: 1 },
        role: 'member',
        current: { threshold: 2, committee: ['p1', 'p2', 'p3'].map((p) => expect.objectContaining({ partyId: p, self: p === 'p1' })) },
        next: null,
      }),
    ]);
    expect(t1.answer).toEqual([
      expect.objectContaining({ type: 'lifecycle_abort', to: COORDINATOR, body: expect.objectContaining({ code: 'lifecycle_declined' }) }),
    ]);
    expect(statesOf(dir)).toEqual([]);
    // Declining records nothing: asked again, the operator may join.
    const again = await d.trip([refreshStart(v, 'refresh-op_5')]);
    expect(lifecycleResults(again.results)).toEqual([expect.objectContaining({ status: 'joined' })]);
  });

  it('a lost answer bundle costs nothing: the next trip sends the same envelopes again, byte for byte', async () => {
    const v = await vault();
    const dir = copyOf(v);
    const sessionId = 'refresh-op_6';
    const d = desk(v, dir, refreshMachines(v, sessionId), ['p1', 'p2', 'p3']);
    d.start();
    const parked = d.take();
    // The answer to trip 1 never reaches the coordinator: it still holds (and sends) the same messages.
    const lost = answerOf(
      v.h,
      (await (await run(v, dir)).process(outbox(v.h, [refreshStart(v, sessionId), ...parked]), confirmAll)).response,
    );
    const again = await d.trip([refreshStart(v, sessionId), ...parked]);
    expect(lifecycleResults(again.results)).toEqual([expect.objectContaining({ status: 'waiting' })]);
    expect(d.left).toEqual(lost.map((a) => a.env));
    // And the protocol goes on from the re-sent envelopes.
    const t2 = await d.trip(d.take());
    expect(lifecycleResults(t2.results)).toEqual([expect.objectContaining({ status: 'confirmed' })]);
  });

  it('a replayed request bundle is refused (bundle_replayed), and a replayed start after the session is refused (replayed_message)', async () => {
    const v = await vault();
    const dir = copyOf(v);
    const sessionId = 'refresh-op_7';
    const d = desk(v, dir, refreshMachines(v, sessionId), ['p1', 'p2', 'p3']);
    d.start();
    const bundle = outbox(v.h, [refreshStart(v, sessionId), ...d.take()]);
    const party = await run(v, dir);
    (await party.process(bundle, confirmAll)).commit();
    const kept = () => statesOf(dir).map((f) => readJsonLines(join(dir, OFFLINE_LIFECYCLE_DIR, f)).lines);
    const before = kept();
    await expect((await run(v, dir)).process(bundle, confirmAll)).rejects.toSatisfy((e: unknown) => isBundleError(e, 'bundle_replayed'));
    expect(kept()).toEqual(before);
    // The coordinator aborts; the same start later is never joined again.
    const abort = seal(v, {
      type: 'lifecycle_abort',
      sessionId,
      to: 'p1',
      body: { keyId: KEY, operation: 'refresh', code: 'lifecycle_timeout', message: 'gave up', culprits: [] },
    });
    const ended = await d.trip([abort]);
    expect(ended.answer).toEqual([expect.objectContaining({ type: 'lifecycle_abort', to: BROADCAST })]);
    expect(statesOf(dir)).toEqual([]);
    const replayed = await d.trip([refreshStart(v, sessionId)]);
    expect(lifecycleResults(replayed.results)).toEqual([expect.objectContaining({ status: 'refused', code: 'replayed_message' })]);
    expect(replayed.answer).toEqual([
      expect.objectContaining({ type: 'lifecycle_abort', to: COORDINATOR, body: expect.objectContaining({ code: 'replayed_message' }) }),
    ]);
    expect(statesOf(dir)).toEqual([]);
  });

  it('a hostile coordinator feeding a second, different round 1 of a peer: equivocation refused, the session abandoned, nothing changed', async () => {
    const v = await vault();
    const dir = copyOf(v);
    const sessionId = 'refresh-op_8';
    const d = desk(v, dir, refreshMachines(v, sessionId), ['p1', 'p2', 'p3']);
    d.start();
    await d.trip([refreshStart(v, sessionId), ...d.take()]);
    // p2 (or whoever holds its key) signed another round 1; the coordinator slips it in before the round 2s.
    const other = v.h.seal('p2', {
      type: 'refresh_round1',
      sessionId,
      to: BROADCAST,
      body: { keyId: KEY, commitment: [toHex(suite.Point.BASE.multiply(7n).toBytes())] },
    });
    const t2 = await d.trip([other, ...d.take()]);
    expect(lifecycleResults(t2.results)).toEqual([expect.objectContaining({ status: 'failed', code: 'lifecycle_equivocation' })]);
    expect(t2.answer).toEqual([
      expect.objectContaining({
        type: 'lifecycle_abort',
        to: BROADCAST,
        body: expect.objectContaining({ code: 'lifecycle_equivocation', culprits: ['p2'] }),
      }),
    ]);
    const stored = openKeystore(dir, v.h.unlock);
    expect(keyPackageHash(stored.get(KEY)?.share.public as PublicKeyPackage)).toBe(keyPackageHash(v.pkg));
    expect(stored.successions.staged(KEY)).toBeUndefined();
    expect(d.fromP1('lifecycle_confirm')).toEqual([]);
  });

  it('a test package reusing the commitment of one already signed (another package) gets a fresh commitment, never a second share', async () => {
    const v = await vault();
    const dir = copyOf(v);
    const sessionId = 'refresh-op_9';
    const d = desk(v, dir, refreshMachines(v, sessionId), ['p1', 'p2', 'p3']);
    d.start();
    await d.trip([refreshStart(v, sessionId), ...d.take()]);
    await d.trip(d.take());
    const successor = (d.results.get('p2') as PendingSuccessor).public;
    const mine = (d.fromP1('lifecycle_test_commitment')[0] as Envelope).body as MessageBody<'lifecycle_test_commitment'>;
    const packageWith = (peer: string) => {
      const c = createSigner((d.results.get(peer) as PendingSuccessor).share, rng).commit();
      return seal(v, {
        type: 'lifecycle_test_package',
        sessionId,
        to: 'p1',
        body: {
          keyId: KEY,
          commitments: [
            { partyId: 'p1', ...mine.commitment },
            { partyId: peer, ...c },
          ].sort((a, b) => a.partyId.localeCompare(b.partyId)),
        },
      });
    };
    const first = await d.trip([packageWith('p2')]);
    expect(first.fresh.map((m) => m.type)).toEqual(['lifecycle_test_share']);
    const second = await d.trip([packageWith('p3')]);
    expect(second.fresh.map((m) => m.type)).toEqual(['lifecycle_test_commitment']);
    expect(second.answer.filter((m) => m.type === 'lifecycle_test_share')).toEqual([]);
    expect(d.fromP1('lifecycle_test_share')).toHaveLength(1);
    await expectTestNoncesUsedOnce(dir, d.left);
    expect(successor.publicKey).toBe(v.pkg.publicKey);
  });

  it('killed after staging, then fed a different round 2 of a peer: it confirms the successor derived from the inputs on disk, and no other', async () => {
    const v = await vault();
    const dir = copyOf(v);
    const sessionId = 'refresh-op_11';
    const d = desk(v, dir, refreshMachines(v, sessionId), ['p1', 'p2', 'p3']);
    d.start();
    await d.trip([refreshStart(v, sessionId), ...d.take()]);
    const round2 = d.take();
    const kill = (point: CrashPoint) => {
      if (point === 'lifecycle-staged') throw new Error(`killed at ${point}`);
    };
    await expect((await run(v, dir, kill)).process(outbox(v.h, round2), confirmAll)).rejects.toThrow('killed');
    const staged = openKeystore(dir, v.h.unlock).successions.staged(KEY);
    expect(staged?.sessionId).toBe(sessionId);
    // p2 (or its key) signs a second round 2 for p1, which the coordinator sends instead of the first.
    const first = round2.find((e) => e.from === 'p2') as Envelope;
    const body = first.body as MessageBody<'refresh_round2'>;
    const box = { ...body.box, ciphertext: toHex(rng(body.box.ciphertext.length / 2)) };
    const forged = v.h.seal('p2', { type: 'refresh_round2', sessionId, to: 'p1', body: { ...body, box } });
    const again = await d.trip([forged, ...round2.filter((e) => e.from !== 'p2')]);
    expect(lifecycleResults(again.results)).toEqual([expect.objectContaining({ status: 'confirmed' })]);
    const confirm = again.answer.find((m) => m.type === 'lifecycle_confirm') as Message;
    expect(confirm).toEqual(openEnvelope(staged?.confirm, { self: COORDINATOR, keyOf: v.h.keyOf }));
    expect(canonicalJson((confirm.body as MessageBody<'lifecycle_confirm'>).verifyingShares)).toBe(
      canonicalJson(openKeystore(dir, v.h.unlock).successions.staged(KEY)?.share.public.verifyingShares),
    );
  });

  it("past this party's own offline deadline a running session is abandoned (lifecycle_timeout) and its state deleted", async () => {
    const v = await vault();
    const dir = copyOf(v);
    const sessionId = 'refresh-op_10';
    const d = desk(v, dir, refreshMachines(v, sessionId), ['p1', 'p2', 'p3']);
    d.start();
    await d.trip([refreshStart(v, sessionId), ...d.take()]);
    expect(statesOf(dir)).toEqual([`${sessionId}.json`]);
    v.now.ms += v.h.config.dkg.offlineDeadlineMs + 1;
    const late = await d.trip(d.take());
    expect(lifecycleResults(late.results)).toEqual([expect.objectContaining({ status: 'failed', code: 'lifecycle_timeout' })]);
    expect(late.answer).toEqual([
      expect.objectContaining({ type: 'lifecycle_abort', to: BROADCAST, body: expect.objectContaining({ code: 'lifecycle_timeout' }) }),
    ]);
    expect(statesOf(dir)).toEqual([]);
    expect(openKeystore(dir, v.h.unlock).successions.staged(KEY)).toBeUndefined();
  });

  it('killed at every crash point, wherever reached: never two different messages for one slot, never a test nonce used twice, and the refresh completes', async () => {
    const v = await vault();
    const dry = await refresh(v, copyOf(v));
    const points = new Set(dry.d.hits);
    for (const p of [
      'lifecycle-offline-joined',
      'lifecycle-started',
      'lifecycle-offline-inputs-saved',
      'lifecycle-staged',
      'lifecycle-confirmed',
      'lifecycle-offline-test-nonce-saved',
      'lifecycle-offline-test-nonce-deleted',
      'lifecycle-offline-state-saved',
      'lifecycle-decided',
      'lifecycle-switched',
      'lifecycle-offline-ended',
      'offline-ledger-saved',
    ] as const)
      expect(points).toContain(p);
    for (let at = 1; at <= dry.d.hits.length; at++) {
      const dir = copyOf(v);
      const { d, successor } = await refresh(v, dir, at);
      expectOneMessagePerSlot(d.left);
      await expectTestNoncesUsedOnce(dir, d.left);
      const stored = openKeystore(dir, v.h.unlock).get(KEY);
      expect(keyPackageHash(stored?.share.public as PublicKeyPackage), `killed at ${dry.d.hits[at - 1]} (#${at})`).toBe(
        keyPackageHash(successor),
      );
      expect(statesOf(dir)).toEqual([]);
    }
  }, 240_000);
});

describe('reshare with the offline party, through bundles', () => {
  it('as a dealer and new member: three trips in and two out; the successor (3 of 3) is committed, the public key unchanged', async () => {
    const v = await vault();
    const dir = copyOf(v);
    const { d, successor, t1, t3 } = await reshareAsDealerAndMember(v, dir);
    expect(d.trips).toEqual({ in: 3, out: 2 });
    expect(t1.answer.map((m) => `${m.type}:${m.to}`)).toEqual([
      'reshare_round1:*',
      'reshare_round2:p2',
      'reshare_round2:p3',
      'lifecycle_confirm:coordinator',
      'lifecycle_test_commitment:coordinator',
    ]);
    expect(lifecycleResults(t3.results)).toEqual([expect.objectContaining({ status: 'switched', publicKey: v.pkg.publicKey })]);
    const stored = openKeystore(dir, v.h.unlock).get(KEY);
    expect(stored?.share.public.threshold).toBe(3);
    expect(keyPackageHash(stored?.share.public as PublicKeyPackage)).toBe(keyPackageHash(successor));
    expect(statesOf(dir)).toEqual([]);
    expectOneMessagePerSlot(d.left);
  });

  it('as a dealer the key is reshared away from: two trips in and one out; the certificate destroys its share', async () => {
    const v = await vault();
    const dir = copyOf(v);
    const { d, t1, t2 } = await reshareAway(v, dir);
    expect(d.trips).toEqual({ in: 2, out: 1 });
    expect(lifecycleResults(t1.results)).toEqual([expect.objectContaining({ status: 'dealt' })]);
    expect(t1.answer.map((m) => `${m.type}:${m.to}`)).toEqual(['reshare_round1:*', 'reshare_round2:p2', 'reshare_round2:p3']);
    expect(lifecycleResults(t2.results)).toEqual([expect.objectContaining({ status: 'retired' })]);
    const stored = openKeystore(dir, v.h.unlock);
    expect(stored.get(KEY)).toBeUndefined();
    expect(stored.successions.retired(KEY)).toMatchObject({ sessionId: 'reshare-op_2' });
    expect(statesOf(dir)).toEqual([]);
  });

  it.each([
    ['dealer and new member', reshareAsDealerAndMember],
    ['dealer reshared away', reshareAway],
  ] as const)(
    'as a %s, killed at every crash point: one message per slot, and the reshare completes',
    async (_, scenario) => {
      const v = await vault();
      const dry = await scenario(v, copyOf(v));
      for (let at = 1; at <= dry.d.hits.length; at++) {
        const dir = copyOf(v);
        const { d } = await scenario(v, dir, at);
        expectOneMessagePerSlot(d.left);
        await expectTestNoncesUsedOnce(dir, d.left);
        expect(statesOf(dir), `killed at ${dry.d.hits[at - 1]} (#${at})`).toEqual([]);
      }
    },
    240_000,
  );
});

describe('repair with the offline party, through bundles', () => {
  it('as the target: one trip; the rebuilt share is the one it lost, and its proof verifies', async () => {
    const v = await vault();
    const dir = copyOf(v);
    const lost = openKeystore(dir, v.h.unlock).get(KEY)?.share.frostSecret.signingShare.slice();
    withoutShare(dir);
    const { d, sessionId, t1 } = await repairTarget(v, dir);
    expect(d.trips).toEqual({ in: 1, out: 1 });
    expect(lifecycleResults(t1.results)).toEqual([expect.objectContaining({ operation: 'repair', status: 'repaired', generation: 0 })]);
    const confirm = d.fromP1('repair_confirm')[0] as Envelope;
    const body = confirm.body as MessageBody<'repair_confirm'>;
    verifyShareDrill(
      v.pkg,
      { keyId: KEY, partyId: 'p1', drillId: sessionId, nonce: keyPackageHash(v.pkg) },
      { ...body, drillId: sessionId },
    );
    expect(openKeystore(dir, v.h.unlock).get(KEY)?.share.frostSecret.signingShare).toEqual(lost);
  });

  it('as the target, killed at every crash point: one repair_confirm, and the share is rebuilt', async () => {
    const v = await vault();
    const base = copyOf(v);
    withoutShare(base);
    const fresh = () => {
      const dir = mkdtempSync(join(tmpdir(), 'glacis-offline-lc-'));
      cpSync(base, dir, { recursive: true });
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    };
    const dry = await repairTarget(v, fresh());
    expect(new Set(dry.d.hits)).toContain('lifecycle-repaired');
    for (let at = 1; at <= dry.d.hits.length; at++) {
      const dir = fresh();
      const { d } = await repairTarget(v, dir, at);
      expectOneMessagePerSlot(d.left);
      expect(d.fromP1('repair_confirm'), `killed at ${dry.d.hits[at - 1]} (#${at})`).toHaveLength(1);
      expect(openKeystore(dir, v.h.unlock).get(KEY)?.share.public).toEqual(v.pkg);
    }
  }, 120_000);

  it('as a helper: two trips in and two out; the online target is repaired', async () => {
    const v = await vault();
    const dir = copyOf(v);
    const sessionId = 'repair-op_2';
    const machines = new Map<string, Machine>([
      [
        'p2',
        createRepairParticipant({
          key: v.pkg,
          share: v.peerShares.get('p2') as KeyShare,
          self: 'p2',
          target: 'p3',
          helpers: ['p1', 'p2'],
          sessionId,
          identity: v.h.identity('p2'),
          peerKey: v.h.keyOf,
          rng,
        }) as Machine,
      ],
      [
        'p3',
        createRepairParticipant({
          key: v.pkg,
          self: 'p3',
          target: 'p3',
          helpers: ['p1', 'p2'],
          sessionId,
          identity: v.h.identity('p3'),
          peerKey: v.h.keyOf,
          rng,
        }) as Machine,
      ],
    ]);
    const d = desk(v, dir, machines, ['p1', 'p2', 'p3']);
    d.start();
    // Parked until every online helper's commitment is in.
    const t1 = await d.trip([repairStart(v, sessionId, 'p3', ['p1', 'p2']), ...d.take()]);
    expect(t1.answer.map((m) => `${m.type}:${m.to}`)).toEqual(['repair_commit:*', 'repair_delta:p2']);
    const t2 = await d.trip(d.take());
    expect(lifecycleResults(t2.results)).toEqual([expect.objectContaining({ status: 'helped' })]);
    expect(t2.fresh.map((m) => `${m.type}:${m.to}`)).toEqual(['repair_sigma:p3']);
    expect(d.trips).toEqual({ in: 2, out: 2 });
    const repaired = d.results.get('p3') as { kind: 'repaired'; share: KeyShare };
    expect(repaired.share.frostSecret.signingShare).toEqual(v.peerShares.get('p3')?.frostSecret.signingShare);
    expectOneMessagePerSlot(d.left);
  });
});

describe('drills with the offline party', () => {
  it('one trip: the proof verifies against its certified verifying share', async () => {
    const v = await vault();
    const dir = copyOf(v);
    const d = desk(v, dir, new Map(), ['p1']);
    const nonce = 'cd'.repeat(32);
    const t = await d.trip([
      seal(v, { type: 'drill_request', sessionId: 'drill-op_1', to: 'p1', body: { keyId: KEY, drillId: 'op_1', nonce } }),
    ]);
    expect(d.trips).toEqual({ in: 1, out: 1 });
    expect(lifecycleResults(t.results)).toEqual([expect.objectContaining({ operation: 'drill', status: 'proved' })]);
    const proof = (d.fromP1('drill_proof')[0] as Envelope).body as MessageBody<'drill_proof'>;
    expect(() => verifyShareDrill(v.pkg, { keyId: KEY, partyId: 'p1', drillId: 'op_1', nonce }, proof)).not.toThrow();
  });
});

describe('the seeded replay', () => {
  /** Runs `make(rng)` on `inputs` and returns the canonical JSON of every outgoing body, in order. */
  function transcript(make: (r: Rng) => Machine, inputs: Message[], r: Rng): string[] {
    const m = make(r);
    const outs = [...m.start().outgoing];
    for (const msg of inputs) outs.push(...m.receive(msg).outgoing);
    return outs.map((o) => canonicalJson({ type: o.type, to: o.to, body: o.body }));
  }

  it('same seed and inputs give byte-identical outgoing bodies: every byte that reaches a message comes from the rng given', async () => {
    const v = await vault();
    const seed = rng(32);
    const sessionId = 'refresh-op_20';
    // Real peer input: p2's and p3's round 1, and their round 2 to p1 (made once, fed to every run).
    const peers = refreshMachines(v, sessionId);
    const round1 = [...peers].map(([p, m]) => v.h.open('p1', v.h.seal(p, m.start().outgoing[0] as Outgoing)));
    const share = openKeystore(v.h.dataDir, v.h.unlock).get(KEY)?.share as KeyShare;
    const refreshOf = (r: Rng) =>
      createRefreshParticipant({ share, sessionId, identity: v.h.identity('p1'), peerKey: v.h.keyOf, rng: r }) as Machine;
    const ours = refreshOf(seededRng(seed, sessionId));
    const mine = ours.start().outgoing[0] as Outgoing;
    const round2: Message[] = [];
    for (const [p, m] of peers) {
      for (const r1 of [round1.find((x) => x.from !== p) as Message, v.h.open(p, v.h.seal('p1', mine))]) {
        if (r1.from === p) continue;
        for (const out of m.receive({ ...r1, to: BROADCAST }).outgoing) if (out.to === 'p1') round2.push(v.h.open('p1', v.h.seal(p, out)));
      }
    }
    const inputs = [...round1, ...round2];
    const reshareOf = (r: Rng) =>
      createReshareParticipant({
        key: v.pkg,
        share,
        self: 'p1',
        dealers: ['p1', 'p2'],
        committee: ['p1', 'p2', 'p3'],
        threshold: 3,
        sessionId: 'reshare-op_20',
        identity: v.h.identity('p1'),
        peerKey: v.h.keyOf,
        rng: r,
      }) as Machine;
    const repairOf = (r: Rng) =>
      createRepairParticipant({
        key: v.pkg,
        share,
        self: 'p1',
        target: 'p3',
        helpers: ['p1', 'p2'],
        sessionId: 'repair-op_20',
        identity: v.h.identity('p1'),
        peerKey: v.h.keyOf,
        rng: r,
      }) as Machine;
    // The one ambient randomness the machines read is noble's blinding of a secret scalar
    // multiplication (crypto.getRandomValues), which cannot change its result: forced to two
    // different streams, the same seed still gives the same bytes. Every byte that reaches a
    // message comes from the rng given.
    let stream = 0;
    const ambient = vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation((a) => {
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (stream * 31 + i * 7 + 1) & 0xff;
      return a;
    });
    try {
      for (const [make, feed, label] of [
        [refreshOf, inputs, sessionId],
        [reshareOf, [], 'reshare-op_20'],
        [repairOf, [], 'repair-op_20'],
      ] as const) {
        stream = 1;
        const a = transcript(make, [...feed], seededRng(seed, label));
        stream = 2;
        const b = transcript(make, [...feed], seededRng(seed, label));
        expect(a.length).toBeGreaterThan(0);
        expect(b).toEqual(a);
        expect(transcript(make, [...feed], seededRng(rng(32), label))).not.toEqual(a);
      }
      expect(ambient).toHaveBeenCalled();
      // The refresh made its confirmation from these inputs (round 2 included), deterministically.
      expect(transcript(refreshOf, inputs, seededRng(seed, sessionId)).some((t) => t.includes('lifecycle_confirm'))).toBe(true);
    } finally {
      ambient.mockRestore();
    }
  });

  it('the stream is a function of seed and label only, and differs between them', () => {
    const seed = rng(32);
    const a = seededRng(seed, 's1');
    const b = seededRng(seed, 's1');
    expect([a(7), a(32), a(100)].map(toHex)).toEqual([b(7), b(32), b(100)].map(toHex));
    expect(toHex(seededRng(seed, 's2')(32))).not.toBe(toHex(seededRng(seed, 's1')(32)));
  });
});

describe('glacis-party offline process, a lifecycle bundle on the command line', () => {
  const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');

  it('joins a refresh and answers a drill with --yes, and prints each result', async () => {
    const v = await vault();
    const dir = copyOf(v);
    writeFileSync(join(dir, 'party.json'), JSON.stringify({ ...v.h.config, policy: { ...v.h.config.policy, unattendedOffline: true } }));
    writeFileSync(join(dir, 'kek'), toHex(v.h.unlock.kek));
    const d = desk(v, dir, refreshMachines(v, 'refresh-op_30'), ['p1', 'p2', 'p3']);
    d.start();
    const drill = seal(v, {
      type: 'drill_request',
      sessionId: 'drill-op_30',
      to: 'p1',
      body: { keyId: KEY, drillId: 'op_30', nonce: 'ab'.repeat(32) },
    });
    writeFileSync(join(dir, 'in.glacis-bundle'), outbox(v.h, [drill, refreshStart(v, 'refresh-op_30'), ...d.take()]));
    const out = spawnSync(
      process.execPath,
      [
        CLI,
        'offline',
        'process',
        '--data-dir',
        dir,
        '--kek-file',
        join(dir, 'kek'),
        '--in',
        join(dir, 'in.glacis-bundle'),
        '--out',
        join(dir, 'out.glacis-bundle'),
        '--yes',
        '--i-know-this-machine-is-online',
      ],
      { encoding: 'utf8' },
    );
    expect(out.status, out.stderr).toBe(0);
    expect(out.stderr).toContain('key refresh k1');
    const summary = JSON.parse(out.stdout) as { results: OfflineResult[] };
    expect(summary.results).toEqual([
      expect.objectContaining({ kind: 'lifecycle', operation: 'drill', status: 'proved' }),
      expect.objectContaining({ kind: 'lifecycle', operation: 'refresh', sessionId: 'refresh-op_30', status: 'joined' }),
    ]);
    expect(statesOf(dir)).toEqual(['refresh-op_30.json']);
  }, 60_000);
});
