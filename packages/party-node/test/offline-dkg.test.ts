/**
 * The offline party in a DKG: three trips through bundles (start and the others' round 1 in, its
 * rounds 1 and 2 out; their round 2 in, its confirmation out; the certificate in), its state sealed
 * at rest between trips and deleted at the end. Attacked and crashed: a crash between trips resumes
 * (the same envelopes again, byte for byte) or aborts cleanly, never two keys; a replayed bundle or
 * start is refused; a second session for the key is refused; its own deadline ends the session.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  COORDINATOR,
  createDkgParticipant,
  type DkgParticipant,
  type Envelope,
  getSuite,
  isBundleError,
  type KeyShare,
  type Message,
  type Outgoing,
  openEnvelope,
} from '@glacis/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { CrashPoint } from '../src/crash-points.js';
import { openKeystore } from '../src/keystore/keystore.js';
import { OFFLINE_DKG_DIR } from '../src/offline/offline-dkg.js';
import type { OfflineConfirm } from '../src/offline/offline-party.js';
import { type Harness, rng, startHarness } from './harness.js';
import { answerOf, outbox, runOffline } from './offline-vault.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const KEY = 'k1';
const SESSION = `dkg-${KEY}`;
const committee = ['p1', 'p2', 'p3'];
const confirmAll: OfflineConfirm = { signing: async () => true, dkg: async () => true, lifecycle: async () => true };

/** p1's directory with its node stopped (the vault), and p2, p3 as protocol participants the test relays for. */
async function vault() {
  const h = await startHarness();
  await h.stopNode();
  cleanup.push(() => h.close());
  writeFileSync(join(h.dataDir, 'party.json'), JSON.stringify(h.config));
  const peers = new Map<string, DkgParticipant>(
    ['p2', 'p3'].map((p) => [
      p,
      createDkgParticipant({
        suite: getSuite('ed25519'),
        keyId: KEY,
        sessionId: SESSION,
        self: p,
        committee,
        threshold: 2,
        identity: h.identity(p),
        peerKey: (n) => h.identity(n)?.publicKey,
        rng,
      }),
    ]),
  );
  return { h, peers, now: { ms: Date.now() } };
}
type Vault = Awaited<ReturnType<typeof vault>>;

/** One run of `glacis-party offline process` on the vault (a fresh process: reopened from disk). */
const run = (v: Vault, o: { crashAt?: CrashPoint } = {}) =>
  runOffline(v.h, {
    dir: v.h.dataDir,
    now: v.now,
    crash: (point) => {
      if (point === o.crashAt) throw new Error(`killed at ${point}`);
    },
    onClose: (close) => cleanup.push(close),
  });
const startEnvelope = (h: Harness, keyId = KEY, sessionId = SESSION) =>
  h.seal(COORDINATOR, { type: 'dkg_start', sessionId, to: 'p1', body: { keyId, suite: 'ed25519', threshold: 2, committee } });

/** The test relays among p2, p3 (online) and collects what is addressed to p1 and every confirmation. */
function relay(v: Vault) {
  const forP1: Envelope[] = [];
  const confirmations = new Map<string, Envelope>();
  const shares = new Map<string, KeyShare>();
  const post = (from: string, outs: Outgoing[]) => {
    for (const out of outs) {
      const env = v.h.seal(from, out);
      if (out.type === 'dkg_confirm') confirmations.set(from, env);
      else deliver(env);
    }
  };
  const deliver = (env: Envelope) => {
    for (const to of committee.filter((m) => m !== env.from && (env.to === '*' || env.to === m))) {
      if (to === 'p1') forP1.push(env);
      else {
        const step = (v.peers.get(to) as DkgParticipant).receive(
          openEnvelope(JSON.parse(JSON.stringify(env)), { self: to, keyOf: (n) => v.h.identity(n)?.publicKey }),
        );
        if (step.share) shares.set(to, step.share);
        post(to, step.outgoing);
      }
    }
  };
  for (const [p, m] of v.peers) post(p, m.start().outgoing);
  return { forP1, confirmations, shares, deliver, take: () => forP1.splice(0) };
}

const stateFiles = (dir: string) => (existsSync(join(dir, OFFLINE_DKG_DIR)) ? readdirSync(join(dir, OFFLINE_DKG_DIR)) : []);
const keyFiles = (v: Vault) => openKeystore(v.h.dataDir, v.h.unlock).list();
const types = (a: { msg: Message }[]) => a.map(({ msg }) => `${msg.type}:${msg.to}`);

describe('the offline party in a DKG, through bundles', () => {
  it('three trips make the key: state sealed at rest between trips and deleted at the end; the key is the peers’ key, active', async () => {
    const v = await vault();
    const net = relay(v);
    // Trip 1: the start and both round-1 packages in; round 1 and both round-2 shares out.
    const t1 = await (await run(v)).process(outbox(v.h, [startEnvelope(v.h), ...net.take()]), confirmAll);
    t1.commit();
    expect(t1.results).toEqual([{ kind: 'dkg', keyId: KEY, sessionId: SESSION, status: 'joined' }]);
    const a1 = answerOf(v.h, t1.response);
    expect(types(a1)).toEqual(['dkg_round1:*', 'dkg_round2:p2', 'dkg_round2:p3']);
    const [file] = stateFiles(v.h.dataDir);
    expect(JSON.parse(readFileSync(join(v.h.dataDir, OFFLINE_DKG_DIR, file as string), 'utf8'))).toMatchObject({ format: 'glacis-sealed' });
    for (const { env } of a1) net.deliver(env);
    expect(net.confirmations.size).toBe(2);

    // Trip 2: their round 2 in; the confirmation out (after what it sent before, again).
    const t2 = await (await run(v)).process(outbox(v.h, net.take()), confirmAll);
    t2.commit();
    expect(t2.results).toEqual([{ kind: 'dkg', keyId: KEY, sessionId: SESSION, status: 'confirmed' }]);
    const a2 = answerOf(v.h, t2.response);
    expect(types(a2)).toEqual(['dkg_round1:*', 'dkg_round2:p2', 'dkg_round2:p3', 'dkg_confirm:coordinator']);
    expect(a2.slice(0, 3).map((a) => a.env)).toEqual(a1.map((a) => a.env));
    expect(keyFiles(v).map((s) => s.status)).toEqual(['pending']);

    // Trip 3 (in only): the certificate.
    const certificate = committee.map((m) => (m === 'p1' ? (a2[3] as { env: Envelope }).env : (net.confirmations.get(m) as Envelope)));
    const complete = v.h.seal(COORDINATOR, {
      type: 'dkg_complete',
      sessionId: SESSION,
      to: 'p1',
      body: { keyId: KEY, confirmations: certificate },
    });
    const t3 = await (await run(v)).process(outbox(v.h, [complete]), confirmAll);
    t3.commit();
    expect(t3.results).toEqual([
      expect.objectContaining({ kind: 'dkg', status: 'active', publicKey: net.shares.get('p2')?.public.publicKey }),
    ]);
    expect(t3.response).toBeNull();
    expect(stateFiles(v.h.dataDir)).toEqual([]);
    expect(keyFiles(v).map((s) => [s.share.keyId, s.status])).toEqual([[KEY, 'active']]);
  });

  it('killed after its state was saved, before the answer left: the same bundle again gives the same envelopes, byte for byte', async () => {
    const v = await vault();
    const net = relay(v);
    const bundle = outbox(v.h, [startEnvelope(v.h), ...net.take()]);
    await expect((await run(v, { crashAt: 'dkg-state-saved' })).process(bundle, confirmAll)).rejects.toThrow('killed');
    const first = readdirSync(join(v.h.dataDir, OFFLINE_DKG_DIR));
    const again = await (await run(v)).process(bundle, confirmAll);
    expect(again.results).toEqual([expect.objectContaining({ status: 'waiting' })]);
    const a = answerOf(v.h, again.response);
    expect(types(a)).toEqual(['dkg_round1:*', 'dkg_round2:p2', 'dkg_round2:p3']);
    expect(stateFiles(v.h.dataDir)).toEqual(first);
  });

  it('killed after the share was stored, before its state said so: the next run derives the same share, confirms, and holds one key', async () => {
    const v = await vault();
    const net = relay(v);
    const t1 = await (await run(v)).process(outbox(v.h, [startEnvelope(v.h), ...net.take()]), confirmAll);
    t1.commit();
    for (const { env } of answerOf(v.h, t1.response)) net.deliver(env);
    const trip2 = outbox(v.h, net.take());
    await expect((await run(v, { crashAt: 'dkg-share-saved' })).process(trip2, confirmAll)).rejects.toThrow('killed');
    const stored = keyFiles(v);
    expect(stored).toHaveLength(1);
    const again = await (await run(v)).process(trip2, confirmAll);
    expect(again.results).toEqual([expect.objectContaining({ status: 'confirmed' })]);
    expect(types(answerOf(v.h, again.response)).at(-1)).toBe('dkg_confirm:coordinator');
    expect(keyFiles(v).map((s) => s.share.toJSON())).toEqual(stored.map((s) => s.share.toJSON()));
  });

  it('killed after its start was recorded, before any state: the same start again is refused (replayed_message) and the DKG aborts; no share, no state', async () => {
    const v = await vault();
    const net = relay(v);
    const bundle = outbox(v.h, [startEnvelope(v.h), ...net.take()]);
    await expect((await run(v, { crashAt: 'dkg-start-recorded' })).process(bundle, confirmAll)).rejects.toThrow('killed');
    const again = await (await run(v)).process(bundle, confirmAll);
    expect(again.results).toEqual([expect.objectContaining({ status: 'refused', code: 'replayed_message' })]);
    expect(answerOf(v.h, again.response).map(({ msg }) => [msg.type, (msg.body as { code?: string }).code])).toEqual([
      ['dkg_abort', 'replayed_message'],
    ]);
    expect(stateFiles(v.h.dataDir)).toEqual([]);
    expect(keyFiles(v)).toEqual([]);
  });

  it('a replayed bundle is refused (bundle_replayed) and changes nothing; a second session for the key is refused (dkg_key_reserved)', async () => {
    const v = await vault();
    const net = relay(v);
    const bundle = outbox(v.h, [startEnvelope(v.h), ...net.take()]);
    const party = await run(v);
    (await party.process(bundle, confirmAll)).commit();
    const dir = join(v.h.dataDir, OFFLINE_DKG_DIR);
    const before = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'));
    await expect(party.process(bundle, confirmAll)).rejects.toSatisfy((e: unknown) => isBundleError(e, 'bundle_replayed'));
    expect(readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'))).toEqual(before);
    const other = await party.process(outbox(v.h, [startEnvelope(v.h, KEY, 'dkg-k1-again')]), confirmAll);
    expect(other.results).toEqual([expect.objectContaining({ sessionId: 'dkg-k1-again', status: 'refused', code: 'dkg_key_reserved' })]);
    expect(readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'))).toEqual(before);
  });

  it('the operator declines: a dkg_declined abort, nothing recorded; past its own deadline a session aborts (dkg_timeout) and its state is deleted', async () => {
    const v = await vault();
    const net = relay(v);
    const round1s = net.take();
    const declined = await (await run(v)).process(outbox(v.h, [startEnvelope(v.h), ...round1s]), { ...confirmAll, dkg: async () => false });
    expect(declined.results).toEqual([expect.objectContaining({ status: 'declined', code: 'dkg_declined' })]);
    expect(stateFiles(v.h.dataDir)).toEqual([]);
    // Not recorded as started: asked again, it may join.
    const joined = await (await run(v)).process(outbox(v.h, [startEnvelope(v.h), ...round1s]), confirmAll);
    expect(joined.results).toEqual([expect.objectContaining({ status: 'joined' })]);
    for (const { env } of answerOf(v.h, joined.response)) net.deliver(env);
    v.now.ms += v.h.config.dkg.offlineDeadlineMs + 1;
    const late = await (await run(v)).process(outbox(v.h, net.take()), confirmAll);
    expect(late.results).toEqual([expect.objectContaining({ status: 'failed', code: 'dkg_timeout' })]);
    expect(stateFiles(v.h.dataDir)).toEqual([]);
    expect(keyFiles(v)).toEqual([]);
  });
});
