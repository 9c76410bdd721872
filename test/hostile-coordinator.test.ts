/**
 * DESIGN.md: "a compromised coordinator can stall, never steal" — nor destroy. Here the test holds
 * the coordinator's own identity key and replays, rewrites and forges signing packages and DKG
 * messages against real party nodes. No nonce is ever used twice, nothing unauthorised gets a
 * share, no share is replaced or deleted, and no honest party is blamed.
 */
import {
  createEnvelopeSealer,
  type Envelope,
  fromHex,
  generateIdentity,
  getSuite,
  type Message,
  type MessageBody,
  toHex,
  utf8,
} from '@glacis/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { readShareLog } from '../packages/party-node/src/share-log/share-log.js';
import { eventually } from './support/eventually.js';
import { type InProcessCluster, rng, startInProcessCluster } from './support/in-process-cluster.js';

let cluster: InProcessCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

type Seen = { partyId: string; msg: Message };

async function setup() {
  const seen: Seen[] = [];
  const packages = new Map<string, Envelope>(); // partyId → last signing package it was sent
  cluster = await startInProcessCluster(['p1', 'p2'], {
    faults: {
      outbound(partyId, env) {
        if (env.type === 'signing_package') packages.set(partyId, env);
        return [env];
      },
      inbound(partyId, msg) {
        seen.push({ partyId, msg });
        return true;
      },
    },
  });
  const c = cluster;
  c.store.addKey('k1', 'ed25519', 2, ['p1', 'p2']);
  c.orchestrator.onKeyCreated('k1');
  await c.store.until(() => c.store.keys.get('k1')?.status === 'active');
  c.store.addSignature('s1', 'k1', toHex(utf8('legit')));
  c.orchestrator.onSignatureRequested('s1');
  await c.store.until(() => c.store.signatures.get('s1')?.status === 'completed');
  // The hostile coordinator: same identity, its own envelope numbering (above the real one).
  const hostile = createEnvelopeSealer('coordinator', c.coordinatorIdentity, Date.now() * 1000 + 1e9);
  const reply = (sessionId: string, from = 'p1') =>
    eventually(() => seen.some((s) => s.partyId === from && s.msg.sessionId === sessionId), `a reply in ${sessionId}`, 5_000).then(() =>
      seen.filter((s) => s.partyId === from && s.msg.sessionId === sessionId).map((s) => s.msg),
    );
  return { c, seen, packages, hostile, reply };
}

const pkgOf = (env: Envelope) => env.body as MessageBody<'signing_package'>;

describe('a hostile coordinator', () => {
  it('replaying a signing package (re-signed, new session) gets nonce_reused and no second share', async () => {
    const { c, packages, hostile, reply } = await setup();
    const original = packages.get('p1')!;
    c.orchestrator.sendEnvelope('p1', hostile.seal({ type: 'signing_package', sessionId: 'evil-1', to: 'p1', body: pkgOf(original) }));
    const answers = await reply('evil-1');
    expect(answers).toEqual([expect.objectContaining({ type: 'sign_refused', body: expect.objectContaining({ code: 'nonce_reused' }) })]);
  });

  it('the same nonce with a different message is refused: nonces never sign two messages', async () => {
    const { c, packages, hostile, reply } = await setup();
    const body = {
      ...pkgOf(packages.get('p1')!),
      intent: { type: 'raw' as const, message: toHex(utf8('pay the attacker')) },
      requestId: 'evil',
    };
    c.orchestrator.sendEnvelope('p1', hostile.seal({ type: 'signing_package', sessionId: 'evil-2', to: 'p1', body }));
    expect((await reply('evil-2'))[0]).toMatchObject({ type: 'sign_refused', body: { code: 'nonce_reused' } });
    expect(readShareLog(c.parties.get('p1')!.dataDir).events).toHaveLength(1);
  });

  it('a commitment the party never issued gets unknown_commitment', async () => {
    const { c, packages, hostile, reply } = await setup();
    const body = pkgOf(packages.get('p1')!);
    const other = body.commitments.find((x) => x.partyId === 'p2')!;
    const forged = { ...body, commitments: body.commitments.map((x) => (x.partyId === 'p1' ? { ...other, partyId: 'p1' } : x)) };
    c.orchestrator.sendEnvelope('p1', hostile.seal({ type: 'signing_package', sessionId: 'evil-3', to: 'p1', body: forged }));
    expect((await reply('evil-3'))[0]).toMatchObject({ type: 'sign_refused', body: { code: 'unknown_commitment' } });
  });

  it('a package signed by anyone but the pinned coordinator key is ignored', async () => {
    const { c, packages, seen } = await setup();
    const impostor = createEnvelopeSealer('coordinator', generateIdentity(rng), Date.now() * 1000 + 2e9);
    const before = seen.length;
    c.orchestrator.sendEnvelope(
      'p1',
      impostor.seal({ type: 'signing_package', sessionId: 'evil-4', to: 'p1', body: pkgOf(packages.get('p1')!) }),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.slice(before).filter((s) => s.msg.sessionId === 'evil-4')).toEqual([]);
  });

  it('a package for a key the party does not hold gets wrong_key', async () => {
    const { c, hostile, reply } = await setup();
    // A package for a key the party does not hold.
    c.orchestrator.sendEnvelope(
      'p1',
      hostile.seal({
        type: 'signing_package',
        sessionId: 'evil-5',
        to: 'p1',
        body: { keyId: 'k-unknown', requestId: 'x', intent: { type: 'raw', message: '00' }, approvals: [], commitments: [] },
      }),
    );
    expect((await reply('evil-5'))[0]).toMatchObject({ type: 'sign_refused', body: { code: 'wrong_key' } });
    expect(readShareLog(c.parties.get('p1')!.dataDir).events).toHaveLength(1);
  });
});

/**
 * Issue 10, item 1: the review's proof of concept. While the real DKG of `k1` runs, the hostile
 * coordinator opens a second DKG for the same key id under a session of its own, holds that
 * session's traffic, and releases it once the real key is active and has signed.
 */
describe('a hostile coordinator against the shares of a key', () => {
  const evilSession = 'evil-dkg';

  async function clusterWithHeldSession() {
    const held: { partyId: string; env: Envelope; msg: Message }[] = [];
    let hostile: ReturnType<typeof createEnvelopeSealer> | undefined;
    cluster = await startInProcessCluster(['p1', 'p2'], {
      faults: {
        outbound(partyId, env) {
          // Right behind the real dkg_start, on the same link: a second DKG for the same key.
          if (env.type !== 'dkg_start' || !hostile) return [env];
          const body = env.body as MessageBody<'dkg_start'>;
          return [env, hostile.seal({ type: 'dkg_start', sessionId: evilSession, to: partyId, body })];
        },
        inbound(partyId, msg, env) {
          if (msg.sessionId !== evilSession) return true;
          held.push({ partyId, env, msg });
          return false;
        },
      },
    });
    hostile = createEnvelopeSealer('coordinator', cluster.coordinatorIdentity, Date.now() * 1000 + 1e9);
    return { c: cluster, held };
  }

  it('a second DKG for a live key id, released after the key is active, replaces no share (dkg_key_reserved)', async () => {
    const { c, held } = await clusterWithHeldSession();
    c.store.addKey('k1', 'ed25519', 2, ['p1', 'p2']);
    c.orchestrator.onKeyCreated('k1');
    await c.store.until(() => c.store.keys.get('k1')?.status !== 'pending');
    const key = c.store.keys.get('k1')!;
    expect(key.status).toBe('active');
    c.store.addSignature('s1', 'k1', toHex(utf8('before')));
    c.orchestrator.onSignatureRequested('s1');
    await c.store.until(() => c.store.signatures.get('s1')?.status === 'completed');

    // Release the held session: relay round 1, then round 2, as an honest relay would.
    const ended = (p: string) => held.some((h) => h.partyId === p && (h.msg.type === 'dkg_confirm' || h.msg.type === 'dkg_abort'));
    const relay = (type: string, sent: Set<Envelope>) => {
      for (const h of held.filter((x) => x.msg.type === type && !sent.has(x.env))) {
        sent.add(h.env);
        for (const p of ['p1', 'p2']) if (p !== h.partyId && (h.msg.to === '*' || h.msg.to === p)) c.orchestrator.sendEnvelope(p, h.env);
      }
    };
    const sent = new Set<Envelope>();
    await eventually(
      () => (ended('p1') && ended('p2')) || held.filter((h) => h.msg.type === 'dkg_round1').length === 2,
      'round 1 of the held session',
    );
    relay('dkg_round1', sent);
    await eventually(() => (ended('p1') && ended('p2')) || held.filter((h) => h.msg.type === 'dkg_round2').length === 2, 'round 2');
    relay('dkg_round2', sent);
    await eventually(() => ended('p1') && ended('p2'), 'the held session to end at both parties', 10_000);

    for (const p of ['p1', 'p2']) {
      const abort = held.find((h) => h.partyId === p && h.msg.type === 'dkg_abort');
      expect(abort?.msg.body, `${p} refuses the second session`).toMatchObject({ keyId: 'k1', code: 'dkg_key_reserved' });
      const stored = c.parties.get(p)!.keystore.get('k1');
      expect(stored?.status).toBe('active');
      expect(stored?.share.public.publicKey).toBe(key.publicKey);
    }
    // And after a restart (shares read back from disk), the key still signs.
    for (const p of ['p1', 'p2']) {
      await c.stopParty(p);
      await c.startParty(p);
    }
    c.store.addSignature('s2', 'k1', toHex(utf8('after')));
    c.orchestrator.onSignatureRequested('s2');
    await c.store.until(() => ['completed', 'failed'].includes(c.store.signatures.get('s2')!.status));
    const s2 = c.store.signatures.get('s2')!;
    expect(s2.status).toBe('completed');
    expect(getSuite('ed25519').verify(fromHex(s2.signature!), utf8('after'), fromHex(key.publicKey!))).toBe(true);
  });

  it('a dkg_start replayed after a party restart deletes no pending share', async () => {
    let start: Envelope | undefined;
    let completeToP1 = false;
    const aborts: Message[] = [];
    cluster = await startInProcessCluster(['p1', 'p2'], {
      faults: {
        outbound(partyId, env) {
          if (env.type === 'dkg_start' && partyId === 'p1') start = env;
          // p1 never hears that the key is active: its share stays pending.
          if (env.type === 'dkg_complete' && partyId === 'p1') return completeToP1 ? [env] : [];
          return [env];
        },
        inbound(partyId, msg) {
          if (partyId === 'p1' && msg.type === 'dkg_abort') aborts.push(msg);
          return true;
        },
      },
    });
    const c = cluster;
    c.store.addKey('k1', 'ed25519', 2, ['p1', 'p2']);
    c.orchestrator.onKeyCreated('k1');
    await c.store.until(() => c.store.keys.get('k1')?.status !== 'pending');
    expect(c.store.keys.get('k1')?.status).toBe('active');
    await eventually(() => c.parties.get('p1')!.keystore.get('k1')?.status === 'pending', 'p1 to hold a pending share');
    await c.stopParty('p1');
    await c.startParty('p1');
    // The restarted party's replay window is empty: the coordinator's old dkg_start opens again.
    c.orchestrator.sendEnvelope('p1', start!);
    await eventually(() => aborts.length > 0, "p1's answer to the replayed dkg_start");
    expect(aborts[0]?.body).toMatchObject({ keyId: 'k1', code: 'replayed_message' });
    expect(c.parties.get('p1')!.keystore.get('k1')?.status).toBe('pending');
    // The certificate still activates it (key_sync on reconnect), and the key signs with p1 (2-of-2).
    completeToP1 = true;
    await c.stopParty('p1');
    await c.startParty('p1');
    await eventually(() => c.parties.get('p1')!.keystore.get('k1')?.status === 'active', 'p1 to activate its share');
    c.store.addSignature('s1', 'k1', toHex(utf8('after the replay')));
    c.orchestrator.onSignatureRequested('s1');
    await c.store.until(() => ['completed', 'failed'].includes(c.store.signatures.get('s1')!.status));
    const s1 = c.store.signatures.get('s1')!;
    expect(s1.status).toBe('completed');
    const publicKey = c.store.keys.get('k1')!.publicKey!;
    expect(getSuite('ed25519').verify(fromHex(s1.signature!), utf8('after the replay'), fromHex(publicKey))).toBe(true);
  });
});

/** Issue 10, item 6: a coordinator that tells members different thresholds gets no honest member blamed. */
describe('a hostile coordinator that equivocates on session parameters', () => {
  it('one member told another threshold: every member that aborts names nobody (dkg_parameter_mismatch)', async () => {
    const aborts: { partyId: string; body: MessageBody<'dkg_abort'> }[] = [];
    let hostile: ReturnType<typeof createEnvelopeSealer> | undefined;
    cluster = await startInProcessCluster(['p1', 'p2', 'p3'], {
      faults: {
        outbound(partyId, env) {
          if (env.type !== 'dkg_start' || partyId !== 'p2' || !hostile) return [env];
          const body = { ...(env.body as MessageBody<'dkg_start'>), threshold: 3 };
          return [hostile.seal({ type: 'dkg_start', sessionId: env.sessionId, to: partyId, body })];
        },
        inbound(partyId, msg) {
          if (msg.type === 'dkg_abort') aborts.push({ partyId, body: msg.body });
          return true;
        },
      },
    });
    hostile = createEnvelopeSealer('coordinator', cluster.coordinatorIdentity, Date.now() * 1000 + 1e9);
    const c = cluster;
    c.store.addKey('k1', 'ed25519', 2, ['p1', 'p2', 'p3']);
    c.orchestrator.onKeyCreated('k1');
    await c.store.until(() => c.store.keys.get('k1')?.status !== 'pending');
    expect(c.store.keys.get('k1')?.status).toBe('failed');
    await eventually(() => aborts.some((a) => a.partyId === 'p2'), "p2's abort");
    expect(aborts.find((a) => a.partyId === 'p2')?.body).toMatchObject({ code: 'dkg_parameter_mismatch' });
    for (const a of aborts) expect(a.body.culprits, `${a.partyId} blames`).toEqual([]);
    for (const p of ['p1', 'p2', 'p3']) expect(c.parties.get(p)!.keystore.get('k1')).toBeUndefined();
  });
});
