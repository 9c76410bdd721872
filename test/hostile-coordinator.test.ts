/**
 * DESIGN.md: "a compromised coordinator can stall, never steal". Here the test holds the
 * coordinator's own identity key and replays, rewrites and forges signing packages against real
 * party nodes. No nonce is ever used twice, and nothing unauthorised gets a share.
 */
import { createEnvelopeSealer, type Envelope, generateIdentity, type Message, type MessageBody, toHex, utf8 } from '@glacis/protocol';
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
    const body = { ...pkgOf(packages.get('p1')!), message: toHex(utf8('pay the attacker')), requestId: 'evil' };
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
        body: { keyId: 'k-unknown', requestId: 'x', message: '00', approvals: [], commitments: [] },
      }),
    );
    expect((await reply('evil-5'))[0]).toMatchObject({ type: 'sign_refused', body: { code: 'wrong_key' } });
    expect(readShareLog(c.parties.get('p1')!.dataDir).events).toHaveLength(1);
  });
});
