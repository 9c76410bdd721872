/**
 * The party's lifecycle handler with a fake coordinator link and a virtual clock: refresh, repair
 * and reshare against peers run as protocol machines by the test (which relays like the
 * coordinator, holding its identity key), and what a hostile coordinator can and cannot make a
 * party do with them — stall, never steal or destroy.
 */
import {
  BROADCAST,
  COORDINATOR,
  createAggregator,
  createRefreshParticipant,
  createRepairParticipant,
  createReshareParticipant,
  createSigner,
  type Envelope,
  fromHex,
  getSuite,
  type KeyShare,
  keyPackageHash,
  type LifecycleMachine,
  type Message,
  type MessageBody,
  type Outgoing,
  type PublicKeyPackage,
  parseNonceCommitment,
  rawIntent,
  successorTestMessage,
  toHex,
  verifyShareDrill,
} from '@glacis/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { planStart, type StartMessage } from '../src/lifecycle/start-checks.js';
import { type Harness, nextSent, only, rng, routeToPeers, startHarness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type Machine = LifecycleMachine<unknown, string>;

/** A party holding active key k1 (2-of-3 with p2, p3), and the peers' shares. */
async function withKey(o: Parameters<typeof startHarness>[0] = {}) {
  const hh = await startHarness(o);
  const { sessionId, confirmations, peerShares } = await hh.dkg('k1');
  hh.deliver({ type: 'dkg_complete', sessionId, to: 'p1', body: { keyId: 'k1', confirmations } });
  hh.take();
  h = hh;
  const pkg = hh.keystore().get('k1')?.share.public as PublicKeyPackage;
  return { h: hh, pkg, peerShares };
}

/**
 * Relays a session between the node (p1) and the peers' machines, as the coordinator would, until
 * nothing moves. Returns every message sent to the coordinator, and the peers' results.
 */
function relay(hh: Harness, machines: Map<string, Machine>, participants: string[], start: () => void) {
  const toCoordinator: Envelope[] = [];
  const results = new Map<string, unknown>();
  const queue: Envelope[] = [];
  let seen = hh.raw.length;
  start();
  for (const [name, m] of machines) for (const out of m.start().outgoing) queue.push(hh.seal(name, out));
  for (let round = 0; round < 20; round++) {
    queue.push(...hh.raw.slice(seen));
    seen = hh.raw.length;
    if (queue.length === 0) break;
    for (const env of queue.splice(0)) {
      if (env.to === COORDINATOR) {
        toCoordinator.push(env);
        continue;
      }
      routeToPeers(env, {
        participants,
        node: 'p1',
        toNode: (e) => hh.deliverEnvelope(e),
        machines,
        open: (to, e) => hh.open(to, e),
        onStep(to, step) {
          if (step.result !== undefined) results.set(to, step.result);
          for (const out of step.outgoing) queue.push(hh.seal(to, out));
        },
      });
    }
  }
  hh.take();
  return { toCoordinator, results };
}

const confirmsOf = (envs: Envelope[]) => envs.filter((e) => e.type === 'lifecycle_confirm');
const complete = (sessionId: string, operation: 'refresh' | 'reshare', confirmations: Envelope[]) =>
  ({ type: 'lifecycle_complete', sessionId, to: 'p1', body: { keyId: 'k1', operation, confirmations } }) as const;
const hashOf = (hh: Harness) => keyPackageHash(hh.keystore().get('k1')?.share.public as PublicKeyPackage);

/** The coordinator's refresh_start of k1 (committee p1, p2, p3) to the node. */
const refreshStart = (pkg: PublicKeyPackage, sessionId: string): Outgoing => ({
  type: 'refresh_start',
  sessionId,
  to: 'p1',
  body: { keyId: 'k1', suite: 'ed25519', predecessor: keyPackageHash(pkg), threshold: 2, committee: ['p1', 'p2', 'p3'] },
});

/** Runs a refresh of k1 among p1 (the node), p2, p3 up to every confirmation. */
function refresh(hh: Harness, pkg: PublicKeyPackage, peerShares: Map<string, KeyShare>, sessionId = 'refresh-op_1') {
  const machines = new Map<string, Machine>(
    ['p2', 'p3'].map((p) => [
      p,
      createRefreshParticipant({
        share: peerShares.get(p) as KeyShare,
        sessionId,
        identity: hh.identity(p),
        peerKey: hh.keyOf,
        rng,
      }) as Machine,
    ]),
  );
  const run = relay(hh, machines, ['p1', 'p2', 'p3'], () => hh.deliver(refreshStart(pkg, sessionId)));
  return { ...run, confirmations: confirmsOf(run.toCoordinator), machines };
}

/**
 * The coordinator's side of refresh-op_1's successor test signature, over `message` (the test
 * message, or one it chose): the node's staged commitment and p2's (from its successor share in
 * `results`), the package, p2's share, then the node's. Returns the aggregator holding both shares.
 */
async function testSignature(hh: Harness, results: Map<string, unknown>, message: Uint8Array) {
  const successor = results.get('p2') as { public: PublicKeyPackage; share: KeyShare };
  hh.deliver({ type: 'lifecycle_test_request', sessionId: 'refresh-op_1', to: 'p1', body: { keyId: 'k1' } });
  const { commitment } = only(hh.take(), 'lifecycle_test_commitment');
  const agg = createAggregator({
    key: successor.public,
    requestId: 'refresh-op_1',
    intent: rawIntent(toHex(message)),
    messages: [message],
  });
  agg.addCommitment('p1', [parseNonceCommitment(getSuite('ed25519'), commitment, 'p1')]);
  const peerSigner = createSigner(successor.share, rng);
  agg.addCommitment('p2', [parseNonceCommitment(getSuite('ed25519'), peerSigner.commit(), 'p2')]);
  const testPkg = agg.buildPackage(['p1', 'p2']);
  agg.addShare('p2', [toHex(peerSigner.sign(testPkg, [message]).shares[0] as Uint8Array)]);
  hh.deliver({
    type: 'lifecycle_test_package',
    sessionId: 'refresh-op_1',
    to: 'p1',
    body: { keyId: 'k1', commitments: testPkg.commitments },
  });
  const { share } = only(await nextSent(hh), 'lifecycle_test_share');
  agg.addShare('p1', [share]);
  return agg;
}

describe('refresh on a party', () => {
  it('stages its successor, proves it signs the test message only, and switches on a checked certificate', async () => {
    const { h, pkg, peerShares } = await withKey();
    const { confirmations, results } = refresh(h, pkg, peerShares);
    expect(confirmations.map((e) => e.from).sort()).toEqual(['p1', 'p2', 'p3']);
    // Staged, not live: the old share still signs.
    expect(hashOf(h)).toBe(keyPackageHash(pkg));
    expect(h.keystore().successions.staged('k1')?.sessionId).toBe('refresh-op_1');

    // The test signature: the node signs successorTestMessage with its staged share.
    const successor = (results.get('p2') as { public: PublicKeyPackage }).public;
    const message = successorTestMessage('refresh-op_1', successor);
    const [signature] = (await testSignature(h, results, message)).finish();
    expect(getSuite('ed25519').verify(signature as Uint8Array, message, fromHex(pkg.publicKey))).toBe(true);

    h.deliver(complete('refresh-op_1', 'refresh', confirmations));
    expect(hashOf(h)).toBe(keyPackageHash(successor));
    expect(h.keystore().get('k1')?.generation).toBe(1);
    expect(h.keystore().successions.staged('k1')).toBeUndefined();
  });

  it('a coordinator cannot have a staged share sign a message of its choice: the share it gets is for the test message only', async () => {
    const { h, pkg, peerShares } = await withKey();
    const { results } = refresh(h, pkg, peerShares);
    // The coordinator builds a package for a transaction of its own with the staged share's commitment.
    const chosen = new TextEncoder().encode('pay 100 BTC to the coordinator');
    const agg = await testSignature(h, results, chosen);
    expect(() => agg.finish()).toThrowError(expect.objectContaining({ code: 'invalid_signature_share', culprits: ['p1'] }));
    // And a test request for a session that staged nothing here gets no commitment at all.
    h.deliver({ type: 'lifecycle_test_request', sessionId: 'refresh-op_9', to: 'p1', body: { keyId: 'k1' } });
    expect(h.take()).toEqual([]);
  });

  it('a certificate missing a member, or of another session, switches nothing: the old share stays live, the successor staged', async () => {
    const { h, pkg, peerShares } = await withKey();
    const { confirmations } = refresh(h, pkg, peerShares);
    h.deliver(complete('refresh-op_1', 'refresh', confirmations.slice(1)));
    h.deliver(complete('refresh-op_2', 'refresh', confirmations));
    expect(hashOf(h)).toBe(keyPackageHash(pkg));
    expect(h.keystore().successions.staged('k1')?.sessionId).toBe('refresh-op_1');
  });

  it('a refresh replayed to a restarted party is refused (replayed_message), to the coordinator only', async () => {
    const { h, pkg, peerShares } = await withKey();
    refresh(h, pkg, peerShares);
    h.deliver(complete('refresh-op_1', 'refresh', []));
    await h.restart();
    h.take();
    h.deliver(refreshStart(pkg, 'refresh-op_1'));
    expect(h.take()).toEqual([
      expect.objectContaining({ type: 'lifecycle_abort', to: COORDINATOR, body: expect.objectContaining({ code: 'replayed_message' }) }),
    ]);
    expect(h.liveSessions()).toEqual([]);
  });

  it('while a confirmed successor waits for its certificate, a second refresh is refused (lifecycle_busy): no second successor of one generation', async () => {
    const { h, pkg, peerShares } = await withKey();
    refresh(h, pkg, peerShares);
    h.deliver(refreshStart(pkg, 'refresh-op_2'));
    expect(only(h.take(), 'lifecycle_abort')).toMatchObject({ code: 'lifecycle_busy' });
    expect(h.keystore().successions.staged('k1')?.sessionId).toBe('refresh-op_1');
  });

  it("the coordinator's abort after this party confirmed destroys nothing and signs no abandonment; a new member's signed abandonment releases the successor", async () => {
    const { h, pkg, peerShares } = await withKey();
    refresh(h, pkg, peerShares);
    h.deliver({
      type: 'lifecycle_abort',
      sessionId: 'refresh-op_1',
      to: 'p1',
      body: { keyId: 'k1', operation: 'refresh', code: 'lifecycle_timeout', message: 'gave up', culprits: [] },
    });
    expect(h.take()).toEqual([]);
    expect(h.keystore().successions.staged('k1')?.sessionId).toBe('refresh-op_1');
    // A relayed abort the coordinator addressed to itself (a refused start) is no abandonment.
    const refusal = h.seal('p2', {
      type: 'lifecycle_abort',
      sessionId: 'refresh-op_1',
      to: COORDINATOR,
      body: { keyId: 'k1', operation: 'refresh', code: 'lifecycle_busy', message: 'm', culprits: [] },
    });
    h.deliverEnvelope(refusal);
    expect(h.keystore().successions.staged('k1')?.sessionId).toBe('refresh-op_1');
    h.deliver(
      {
        type: 'lifecycle_abort',
        sessionId: 'refresh-op_1',
        to: BROADCAST,
        body: { keyId: 'k1', operation: 'refresh', code: 'lifecycle_timeout', message: 'abandoned', culprits: [] },
      },
      'p3',
    );
    expect(h.keystore().successions.staged('k1')).toBeUndefined();
    expect(hashOf(h)).toBe(keyPackageHash(pkg));
  });

  it('a refresh of another generation than the one held is refused (lifecycle_wrong_generation)', async () => {
    const { h } = await withKey();
    h.deliver({
      type: 'refresh_start',
      sessionId: 'refresh-op_3',
      to: 'p1',
      body: { keyId: 'k1', suite: 'ed25519', predecessor: 'ab'.repeat(32), threshold: 2, committee: ['p1', 'p2', 'p3'] },
    });
    expect(only(h.take(), 'lifecycle_abort')).toMatchObject({ code: 'lifecycle_wrong_generation' });
  });

  it('a party that fails before confirming signs its abandonment, broadcast, for the members that did', async () => {
    const { h, pkg } = await withKey();
    h.deliver(refreshStart(pkg, 'refresh-op_4'));
    expect(only(h.take(), 'refresh_round1')).toBeDefined();
    h.clock.advance(60_000);
    const abort = h.sent.at(-1) as Message;
    expect(abort).toMatchObject({ type: 'lifecycle_abort', to: BROADCAST, body: { code: 'lifecycle_timeout' } });
  });
});

/** The coordinator's repair_start of `target` (two helpers: p1 and p2, or p2 and p3 for p1). */
const repairStart = (pkg: PublicKeyPackage, target: string, sessionId = 'repair-op_1', extra: Partial<MessageBody<'repair_start'>> = {}) =>
  ({
    type: 'repair_start',
    sessionId,
    to: 'p1',
    body: {
      keyId: 'k1',
      suite: 'ed25519',
      predecessor: keyPackageHash(pkg),
      target,
      helpers: ['p1', 'p2']
        .filter((p) => p !== target)
        .concat(target === 'p1' ? ['p3'] : [])
        .sort(),
      ...extra,
    },
  }) as const;

/**
 * Repairs p1 (the node, which lost its share) with helpers p2 and p3 run as machines on their
 * shares, from the coordinator's repair_start to the end. Returns what reached the coordinator.
 */
function repairP1(hh: Harness, pkg: PublicKeyPackage, peerShares: Map<string, KeyShare>, sessionId: string) {
  const helpers = ['p2', 'p3'];
  const machines = new Map<string, Machine>(
    helpers.map((p) => {
      const share = peerShares.get(p);
      if (share === undefined) throw new Error(`no share of ${p}`);
      const m = createRepairParticipant({
        key: pkg,
        share,
        self: p,
        target: 'p1',
        helpers,
        sessionId,
        identity: hh.identity(p),
        peerKey: hh.keyOf,
        rng,
      });
      return [p, m as Machine];
    }),
  );
  return relay(hh, machines, ['p1', ...helpers], () => hh.deliver(repairStart(pkg, 'p1', sessionId, { key: pkg, generation: 0 })));
}

describe('repair on a party', () => {
  it('a helper refuses to help a party whose identity it has not pinned (lifecycle_refused), by default', async () => {
    // p3 was re-created with a new identity that this party's operator has not pinned yet.
    const { h, pkg } = await withKey();
    const msg = h.open('p1', h.seal(COORDINATOR, repairStart(pkg, 'p3')));
    const ctx = {
      self: 'p1',
      identity: h.identity('p1'),
      keystore: h.keystore(),
      keyOf: (p: string) => (p === 'p3' ? undefined : h.keyOf(p)),
      policy: { repairHelp: 'pinned' as const, reshare: 'pinned' as const, deadlineMs: 60_000 },
      rng,
    };
    expect(() => planStart(msg as StartMessage, ctx)).toThrowError(expect.objectContaining({ code: 'lifecycle_refused' }));
    expect(() => planStart(msg as StartMessage, { ...ctx, keyOf: h.keyOf })).not.toThrow();
  });

  it('with repairHelp set to never, a helper refuses every repair', async () => {
    const { h, pkg } = await withKey({ lifecycle: { repairHelp: 'never' } });
    h.deliver(repairStart(pkg, 'p3'));
    expect(only(h.take(), 'lifecycle_abort')).toMatchObject({ code: 'lifecycle_refused' });
  });

  it('a party that holds an intact share refuses to be repaired (its share is never replaced)', async () => {
    const { h, pkg } = await withKey();
    const before = hashOf(h);
    h.deliver(repairStart(pkg, 'p1', 'repair-op_2', { key: pkg, generation: 0 }));
    expect(only(h.take(), 'lifecycle_abort')).toMatchObject({ code: 'lifecycle_refused' });
    expect(hashOf(h)).toBe(before);
  });

  it('a party whose share was lost is repaired by two helpers: the share matches its verifying share, and signs', async () => {
    const { h, pkg, peerShares } = await withKey();
    const before = h.keystore().get('k1')?.share.frostSecret.signingShare.slice();
    const { rmSync } = await import('node:fs');
    rmSync(`${h.dataDir}/keys/k1.json`);
    const sessionId = 'repair-op_3';
    const { toCoordinator } = repairP1(h, pkg, peerShares, sessionId);
    const confirm = toCoordinator.find((e) => e.type === 'repair_confirm') as Envelope;
    const body = confirm.body as MessageBody<'repair_confirm'>;
    verifyShareDrill(pkg, { keyId: 'k1', partyId: 'p1', drillId: sessionId, nonce: keyPackageHash(pkg) }, { ...body, drillId: sessionId });
    expect(h.keystore().get('k1')?.share.frostSecret.signingShare).toEqual(before);
    expect(h.keystore().get('k1')?.status).toBe('active');
  });
});

describe('a damaged share', () => {
  it('the node runs on without it, reports it missing, and a repair replaces it', async () => {
    const { h, pkg, peerShares } = await withKey();
    const before = h.keystore().get('k1')?.share.frostSecret.signingShare.slice();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${h.dataDir}/keys/k1.json`, '{"format":"glacis-sealed","v":1,"purpose":"key:k1","nonce":"00","ciphertext":"00"}');
    await h.restart();
    expect(only(h.take(), 'key_sync')).toMatchObject({ holdings: [] });
    repairP1(h, pkg, peerShares, 'repair-op_9');
    expect(h.keystore().get('k1')?.share.frostSecret.signingShare).toEqual(before);
  });
});

describe('reshare on a party', () => {
  it('a dealer the key is reshared away from destroys its share, but only on the new committee certificate it checked itself', async () => {
    const { h, pkg, peerShares } = await withKey();
    const sessionId = 'reshare-op_1';
    const body = {
      keyId: 'k1',
      suite: 'ed25519' as const,
      predecessor: keyPackageHash(pkg),
      threshold: 2,
      committee: ['p2', 'p3'],
      dealers: ['p1', 'p2'],
    };
    // p2 deals and receives, p3 only receives.
    const dealing = peerShares.get('p2');
    if (dealing === undefined) throw new Error('no share of p2');
    const machines = new Map<string, Machine>(
      ['p2', 'p3'].map((p) => [
        p,
        createReshareParticipant({
          key: pkg,
          ...(p === 'p2' ? { share: dealing } : {}),
          self: p,
          dealers: body.dealers,
          committee: body.committee,
          threshold: 2,
          sessionId,
          identity: h.identity(p),
          peerKey: h.keyOf,
          rng,
        }) as Machine,
      ]),
    );
    const { toCoordinator } = relay(h, machines, ['p1', 'p2', 'p3'], () => h.deliver({ type: 'reshare_start', sessionId, to: 'p1', body }));
    const confirmations = confirmsOf(toCoordinator);
    expect(confirmations.map((e) => e.from).sort()).toEqual(['p2', 'p3']);
    expect(h.keystore().get('k1')?.status).toBe('active');
    h.deliver(complete(sessionId, 'reshare', confirmations.slice(1)));
    expect(h.keystore().get('k1')?.status).toBe('active');
    h.deliver(complete(sessionId, 'reshare', confirmations));
    expect(h.keystore().get('k1')).toBeUndefined();
    expect(h.keystore().successions.retired('k1')).toMatchObject({ sessionId });
  });
});

describe('drills on a party', () => {
  it('answers a drill with a proof that verifies against its certified verifying share', async () => {
    const { h, pkg } = await withKey();
    const nonce = 'cd'.repeat(32);
    h.deliver({ type: 'drill_request', sessionId: 'drill-op_1', to: 'p1', body: { keyId: 'k1', drillId: 'op_1', nonce } });
    const proof = only(h.take(), 'drill_proof');
    expect(() => verifyShareDrill(pkg, { keyId: 'k1', partyId: 'p1', drillId: 'op_1', nonce }, proof)).not.toThrow();
  });
});
