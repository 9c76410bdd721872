/**
 * Refresh, repair, reshare and drills with an offline (air-gapped) participant, through the
 * lifecycle driver, its outbox and the inbox check (lifecycle-world.ts: online parties answer at
 * once, the offline one is carried its outbox in trips and answers with bundles, re-sending
 * everything it sent before). What is checked is the bundle contract's coordinator side: parking,
 * acknowledgements, last words, the offline deadline, duplicates, the test round, who takes part.
 */
import { createEnvelopeSealer, keyPackageHash, type Outgoing } from '@glacis/protocol';
import { describe, expect, it } from 'vitest';
import { cluster } from '../../protocol/test/harness.js';
import { widenWorld } from '../../protocol/test/lifecycle-harness.js';
import { publicPackageOf } from '../src/orchestrator/store-port.js';
import { type LifecycleWorld, lifecycleWorld, OFFLINE_DEADLINE_MS, ONLINE_TIMEOUT_MS, type ScriptedParty } from './lifecycle-world.js';

const c = cluster('ed25519', 3, 2);
const [p1, p2, p3] = c.names as [string, string, string];
const p4 = 'p04';
const world = widenWorld(c, [p4]);

const keyOf = (w: LifecycleWorld) => {
  const k = w.store.keys.get(w.keyId);
  if (!k) throw new Error('no key');
  return k;
};
const held = (w: LifecycleWorld, partyId: string) => [...w.outbox(partyId)].sort();
const shareHash = (p: ScriptedParty) => (p.share ? keyPackageHash(p.share.public) : undefined);

describe('refresh with an offline member', () => {
  it('parks its start until every online round 1 is in, takes out what the vault answered, holds the certificate to the deadline: three trips out, four in; the key switches everywhere', async () => {
    const w = lifecycleWorld(c, world, { online: [p1, p2], offline: [p3] });
    const before = publicPackageOf(keyOf(w));
    const op = await w.begin('refresh');
    // Parked: nothing for the vault before the online members answered.
    expect(w.outbox(p3)).toEqual([]);
    await w.pump();
    expect(held(w, p3)).toEqual(['refresh_round1:p01', 'refresh_round1:p02', 'refresh_start:coordinator']);
    // The operation runs to the offline deadline, not the online timeout.
    expect(w.timers).toEqual([OFFLINE_DEADLINE_MS]);
    await w.advance(ONLINE_TIMEOUT_MS + 1);
    expect(w.status(op)).toBe('pending');

    const t1 = await w.trip(p3);
    expect(t1.out).toEqual(['refresh_round1:p03', 'refresh_round2:p03→p01', 'refresh_round2:p03→p02']);
    // What the vault's round 1 and 2 show it had (the start, the round 1s) is gone; the online round 2s wait.
    expect(held(w, p3)).toEqual(['refresh_round2:p01→p03', 'refresh_round2:p02→p03']);

    const t2 = await w.trip(p3);
    expect(t2.out).toEqual(['lifecycle_confirm:p03', 'lifecycle_test_commitment:p03']);
    // The commitment that came with the confirmation is used: the vault is not asked for one.
    expect(w.sealed.filter((s) => s.startsWith('lifecycle_test_request')).sort()).toEqual([
      'lifecycle_test_request→p01',
      'lifecycle_test_request→p02',
    ]);
    expect(w.outbox(p3)).toEqual(['lifecycle_test_package:coordinator']);

    const t3 = await w.trip(p3);
    expect(t3.out).toEqual(['lifecycle_test_share:p03']);
    expect(w.status(op)).toBe('completed');
    const after = publicPackageOf(keyOf(w));
    expect(after.publicKey).toBe(before.publicKey);
    expect(after.verifyingShares).not.toEqual(before.verifyingShares);
    expect(keyOf(w).generation).toBe(1);
    for (const p of [p1, p2]) expect(shareHash(w.parties.get(p) as ScriptedParty)).toBe(keyPackageHash(after));

    // The certificate rides in the next bundle, switches the vault's share, and stays to the deadline.
    expect(w.outbox(p3)).toEqual(['lifecycle_complete:coordinator']);
    const t4 = await w.trip(p3);
    expect([t4.in, t4.out]).toEqual([['lifecycle_complete:coordinator'], []]);
    expect(shareHash(w.parties.get(p3) as ScriptedParty)).toBe(keyPackageHash(after));
    expect(w.outbox(p3)).toEqual(['lifecycle_complete:coordinator']);
    await w.advance(OFFLINE_DEADLINE_MS);
    expect(w.outbox(p3)).toEqual([]);

    // Every answer carried everything the vault sent before: each of its messages was relayed once.
    expect(t4.answered).toBe(6);
    expect(w.forwarded.filter((f) => f.includes(':p03')).sort()).toEqual([
      'refresh_round1:p03→p01',
      'refresh_round1:p03→p02',
      'refresh_round2:p03→p01',
      'refresh_round2:p03→p02',
    ]);
  });

  it('a vault with no nonce for the test package answers a fresh commitment: the round starts over with it, the online holders are asked again, the vault is not', async () => {
    const w = lifecycleWorld(c, world, { online: [p1, p2], offline: [p3], quirks: { [p3]: { loseTestNonce: true } } });
    const op = await w.begin('refresh');
    await w.pump();
    await w.trip(p3);
    await w.trip(p3);
    const t3 = await w.trip(p3);
    expect(t3.out).toEqual(['lifecycle_test_commitment:p03']);
    expect(w.status(op)).toBe('pending');
    expect(w.sealed.filter((s) => s.startsWith('lifecycle_test_request')).sort()).toEqual([
      'lifecycle_test_request→p01',
      'lifecycle_test_request→p01',
      'lifecycle_test_request→p02',
      'lifecycle_test_request→p02',
    ]);
    expect(w.outbox(p3)).toEqual(['lifecycle_test_package:coordinator']);
    const t4 = await w.trip(p3);
    expect(t4.out).toEqual(['lifecycle_test_share:p03']);
    expect(w.status(op)).toBe('completed');
  });

  it('an online holder back during the test restarts the round while the vault’s answer to the old package is on its way: its re-sent commitment leaves the new request in the outbox, its stale share is ignored', async () => {
    const w = lifecycleWorld(c, world, { online: [p1, p2], offline: [p3] });
    const op = await w.begin('refresh');
    await w.pump();
    await w.trip(p3);
    await w.trip(p3);
    // The desk carries the package in; meanwhile p01 reconnects (it may have lost its nonce).
    const late = w.visit(p3);
    expect(late.trip.out).toEqual(['lifecycle_test_share:p03']);
    w.driver.onConnected(p1);
    await w.pump();
    // The vault's commitment went out in a package: it is asked again, the old package taken back.
    expect(w.outbox(p3)).toEqual(['lifecycle_test_request:coordinator']);
    await w.post(p3, w.answerBundle(p3, late.answer));
    await w.pump();
    expect(w.outbox(p3)).toEqual(['lifecycle_test_request:coordinator']);
    expect(w.status(op)).toBe('pending');
    expect((await w.trip(p3)).out).toEqual(['lifecycle_test_commitment:p03']);
    expect((await w.trip(p3)).out).toEqual(['lifecycle_test_share:p03']);
    expect(w.store.operations.get(op)?.error).toBeNull();
    expect(w.status(op)).toBe('completed');
  });

  it('a vault that sends a peer a second, different round 2 is named (lifecycle_equivocation); the key is unchanged', async () => {
    const w = lifecycleWorld(c, world, { online: [p1, p2], offline: [p3] });
    const before = publicPackageOf(keyOf(w));
    const op = await w.begin('refresh');
    await w.pump();
    await w.trip(p3);
    const vault = w.parties.get(p3) as ScriptedParty;
    const toP2 = vault.sent.find((e) => e.type === 'refresh_round2' && e.to === p2);
    const sealer = world.parties.get(p3)?.sealer;
    if (!toP2 || !sealer) throw new Error('no round 2');
    const other = sealer.seal({ type: 'refresh_round2', sessionId: toP2.sessionId, to: p1, body: toP2.body } as Outgoing);
    await w.post(p3, w.answerBundle(p3, [...vault.sent, other]));
    await w.pump();
    expect(w.store.operations.get(op)).toMatchObject({
      status: 'failed',
      error: { code: 'lifecycle_equivocation', message: expect.stringContaining('culprits: p03') },
    });
    expect(publicPackageOf(keyOf(w))).toEqual(before);
  });
});

describe('repair with an offline participant', () => {
  it('an offline target gets its start, the commitments and every sum in one trip and answers its proof: repaired', async () => {
    const w = lifecycleWorld(c, world, { online: [p1, p2], offline: [p3], lost: [p3] });
    const op = await w.begin('repair', { partyId: p3 });
    expect(w.outbox(p3)).toEqual([]);
    await w.pump();
    expect(held(w, p3)).toEqual([
      'repair_commit:p01',
      'repair_commit:p02',
      'repair_sigma:p01→p03',
      'repair_sigma:p02→p03',
      'repair_start:coordinator',
    ]);
    expect(w.timers).toEqual([OFFLINE_DEADLINE_MS]);
    const t1 = await w.trip(p3);
    expect(t1.out).toEqual(['repair_confirm:p03']);
    expect(w.status(op)).toBe('completed');
    expect(w.parties.get(p3)?.share?.public.verifyingShares[p3]).toBe(c.pub.verifyingShares[p3]);
    expect(w.outbox(p3)).toEqual([]);
    expect(keyOf(w).lineage.map((l) => l.operation)).toEqual(['repair']);
  });

  it('an offline helper, only to make up the number: its messages wait for every online helper’s commitment; two trips', async () => {
    const w = lifecycleWorld(c, world, { online: [p1, p2], offline: [p3], lost: [p2] });
    const op = await w.begin('repair', { partyId: p2 });
    await w.pump();
    expect(held(w, p3)).toEqual(['repair_commit:p01', 'repair_start:coordinator']);
    expect((await w.trip(p3)).out).toEqual(['repair_commit:p03', 'repair_delta:p03→p01']);
    expect(held(w, p3)).toEqual(['repair_delta:p01→p03']);
    expect((await w.trip(p3)).out).toEqual(['repair_sigma:p03→p02']);
    expect(w.status(op)).toBe('completed');
    expect(w.parties.get(p2)?.share?.public.verifyingShares[p2]).toBe(c.pub.verifyingShares[p2]);
  });
});

describe('reshare with an offline participant', () => {
  it('an offline member that must deal (one online old member) deals, derives, confirms and commits in one trip; the test in the second; the certificate in the third', async () => {
    const w = lifecycleWorld(c, world, { online: [p1, p4], offline: [p3], extra: [p4] });
    const op = await w.begin('reshare', { threshold: 2, parties: [p1, p3, p4] });
    expect(w.outbox(p3)).toEqual([]);
    await w.pump();
    expect(w.store.operations.get(op)?.progress).toMatchObject({ dealers: [p1, p3] });
    expect(held(w, p3)).toEqual(['reshare_round1:p01', 'reshare_round2:p01→p03', 'reshare_start:coordinator']);
    const t1 = await w.trip(p3);
    expect(t1.out).toEqual([
      'reshare_round1:p03',
      'reshare_round2:p03→p01',
      'reshare_round2:p03→p04',
      'lifecycle_confirm:p03',
      'lifecycle_test_commitment:p03',
    ]);
    expect(w.outbox(p3)).toEqual(['lifecycle_test_package:coordinator']);
    expect((await w.trip(p3)).out).toEqual(['lifecycle_test_share:p03']);
    expect(w.status(op)).toBe('completed');
    expect(keyOf(w)).toMatchObject({ parties: [p1, p3, p4], threshold: 2, publicKey: c.pub.publicKey, generation: 1 });
    expect((await w.trip(p3)).in).toEqual(['lifecycle_complete:coordinator']);
    expect(shareHash(w.parties.get(p3) as ScriptedParty)).toBe(keyPackageHash(publicPackageOf(keyOf(w))));
  });

  it('an offline new member that stays while online old members can deal: they deal, and its start waits for their round 1s and round 2s to it; one trip, then the test', async () => {
    const w = lifecycleWorld(c, world, { online: [p1, p2, p4], offline: [p3], extra: [p4] });
    const op = await w.begin('reshare', { threshold: 2, parties: [p1, p3, p4] });
    expect(w.outbox(p3)).toEqual([]);
    await w.pump();
    expect(w.store.operations.get(op)?.progress).toMatchObject({ dealers: [p1, p2] });
    expect(held(w, p3)).toEqual([
      'reshare_round1:p01',
      'reshare_round1:p02',
      'reshare_round2:p01→p03',
      'reshare_round2:p02→p03',
      'reshare_start:coordinator',
    ]);
    expect((await w.trip(p3)).out).toEqual(['lifecycle_confirm:p03', 'lifecycle_test_commitment:p03']);
    expect((await w.trip(p3)).out).toEqual(['lifecycle_test_share:p03']);
    expect(w.status(op)).toBe('completed');
    expect(keyOf(w).parties).toEqual([p1, p3, p4]);
  });

  it('dealers are the online members; an offline member reshared away takes no part and gets the certificate, which retires its share', async () => {
    const w = lifecycleWorld(c, world, { online: [p1, p2, p4], offline: [p3], extra: [p4] });
    const op = await w.begin('reshare', { threshold: 2, parties: [p1, p2, p4] });
    await w.pump();
    expect(w.status(op)).toBe('completed');
    expect(w.store.operations.get(op)?.progress).toMatchObject({ participants: [p1, p2, p4] });
    // No offline participant: the online timeout.
    expect(w.timers).toEqual([ONLINE_TIMEOUT_MS]);
    expect(w.outbox(p3)).toEqual(['lifecycle_complete:coordinator']);
    const t = await w.trip(p3);
    expect([t.in, t.out]).toEqual([['lifecycle_complete:coordinator'], []]);
    expect(w.parties.get(p3)?.share).toBeUndefined();
  });
});

describe('drill with an offline holder', () => {
  it('its challenge goes to the outbox at once; the drill waits to the offline deadline and completes with its proof', async () => {
    const w = lifecycleWorld(c, world, { online: [p1, p2], offline: [p3] });
    const op = await w.begin('drill');
    expect(w.outbox(p3)).toEqual(['drill_request:coordinator']);
    await w.pump();
    expect(w.timers).toEqual([OFFLINE_DEADLINE_MS]);
    await w.advance(ONLINE_TIMEOUT_MS + 1);
    expect(w.status(op)).toBe('pending');
    expect((await w.trip(p3)).out).toEqual(['drill_proof:p03']);
    expect(w.store.operations.get(op)).toMatchObject({ status: 'completed', progress: { proved: [p1, p2, p3], failed: [] } });
    expect(w.outbox(p3)).toEqual([]);
  });
});

describe('the inbox of an offline participant, attacked', () => {
  it('a lifecycle message for an operation the party takes no part in: inbox_unexpected_message, nothing fed', async () => {
    const w = lifecycleWorld(c, world, { online: [p1, p2, p4], offline: [p3], extra: [p4] });
    // p03 is reshared away: dealers p01 and p02.
    const op = await w.begin('reshare', { threshold: 2, parties: [p1, p2, p4] });
    const sessionId = `reshare-${op}`;
    const sealer = world.parties.get(p3)?.sealer;
    if (!sealer) throw new Error('no sealer');
    const round1 = sealer.seal({
      type: 'reshare_round1',
      sessionId,
      to: '*',
      body: { keyId: w.keyId, commitment: [c.pub.publicKey, c.pub.publicKey] },
    });
    await expect(w.post(p3, w.answerBundle(p3, [round1]))).rejects.toMatchObject({ code: 'inbox_unexpected_message' });
    await w.pump();
    expect(w.forwarded.filter((f) => f.includes(':p03'))).toEqual([]);
    expect(w.status(op)).toBe('completed');
  });

  it('a forged sender (another party’s envelope, or one claiming to be another party’s): inbox_envelope_invalid, nothing fed, and the refresh then completes', async () => {
    const w = lifecycleWorld(c, world, { online: [p1, p2], offline: [p3] });
    const op = await w.begin('refresh');
    await w.pump();
    const sessionId = `refresh-${op}`;
    const own: Outgoing = { type: 'refresh_round1', sessionId, to: '*', body: { keyId: w.keyId, commitment: [c.pub.publicKey] } };
    const mine = world.parties.get(p3)?.sealer.seal(own);
    const p1s = world.parties.get(p1)?.sealer.seal(own);
    const claimed = createEnvelopeSealer(p1, world.parties.get(p3)?.identity as never, 1).seal(own);
    if (!mine || !p1s) throw new Error('no sealer');
    const forwarded = w.forwarded.length;
    const before = w.outbox(p3);
    for (const forged of [p1s, claimed]) {
      await expect(w.post(p3, w.answerBundle(p3, [mine, forged]))).rejects.toMatchObject({ code: 'inbox_envelope_invalid' });
    }
    await w.pump();
    expect(w.forwarded.length).toBe(forwarded);
    expect(w.outbox(p3)).toEqual(before);
    for (let i = 0; i < 4; i++) await w.trip(p3);
    expect(w.status(op)).toBe('completed');
    expect(keyOf(w).lineage.map((l) => [l.operation, l.confirmations.length])).toEqual([['refresh', 3]]);
  });
});
