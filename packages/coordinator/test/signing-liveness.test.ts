/**
 * The liveness scenarios of docs/liveness.md as unit tests of the coordinator's signing machine,
 * through its driver, on a simulated network with a virtual clock (signing-sim.ts): absent, slow,
 * cheating, withdrawing and flapping parties, links cut mid-session, connections that come back.
 * `test/lan/` runs the same scenarios over real sockets as the integration check. The last block
 * drives the worker job path where the scenarios do not reach it: a worker that fails to run a job,
 * and a request whose work lease is lost while its verdict is out or before its packages leave.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MemorySignature } from '../../../test/support/memory-store.js';
import { keyFor, type SigningSim, startSigningSim } from './signing-sim.js';

const TIMEOUT = 10_000;
let sim: SigningSim | undefined;

beforeAll(() => {
  for (const [n, t] of [
    [5, 3],
    [4, 3],
    [3, 3],
    [3, 2],
  ] as const)
    keyFor('ed25519', n, t);
}, 30_000);

afterEach(() => {
  // Whatever happened: no commitment went into two sessions' packages, and nobody was excluded
  // who did not cheat or refuse.
  if (sim) {
    expect(sim.reusedCommitments()).toEqual([]);
    expect(sim.wrongfulExclusions()).toEqual([]);
  }
  sim = undefined;
});

// Every scenario runs twice: aggregating inline, and on a "worker" (the driver's `aggregate` port,
// answering 3 virtual ms later): ROAST must decide the same way and stay live either way.
let workerLatencyMs: number | undefined;

async function start(n: number, t: number, opts: Parameters<typeof startSigningSim>[0] extends infer O ? Partial<O> : never = {}) {
  sim = await startSigningSim({ n, t, requestTimeoutMs: TIMEOUT, ...(workerLatencyMs === undefined ? {} : { workerLatencyMs }), ...opts });
  return sim;
}

/** Sessions of a request that included `party`. */
const sessionsWith = (s: SigningSim, requestId: string, party: string) =>
  new Set(s.packages.filter((p) => p.requestId === requestId && p.to === party).map((p) => p.sessionId));

const MODES = [
  { aggregation: 'inline', latency: undefined },
  { aggregation: 'on a worker', latency: 3 },
];

describe.each(MODES)('signing liveness on a simulated network, aggregation $aggregation', ({ latency }) => {
  beforeAll(() => {
    workerLatencyMs = latency;
  });

  it('3-of-5 with two parties cut off before the request: the first session stalls, a second signs; nobody is blamed', async () => {
    const s = await start(5, 3);
    await s.sign('warm-up'); // the pool now holds commitments of everyone
    s.cut('p01', 'p02');
    const id = s.request('two parties cut off');
    const sig = await s.settle(id);
    expect(sig.status).toBe('completed');
    expect(sig.signers).toEqual(['p03', 'p04', 'p05']);
    expect(sig.excluded, 'an unreachable party is never blamed').toEqual([]);
    expect(sessionsWith(s, id, 'p01').size, 'the cut parties were in the first session').toBe(1);
  });

  it('3-of-5 with a party returning invalid shares every time: signs with the others; that party, and only it, is excluded', async () => {
    const s = await start(5, 3);
    s.behave('p02', 'cheat');
    s.shape(['p04', 'p05'], { latencyMs: 50 }); // the cheater answers early and is in the first session
    const sigs: MemorySignature[] = [];
    for (let i = 0; i < 4 && !sigs.some((x) => x.excluded.length > 0); i++) {
      const sig = await s.sign(`with a cheater #${i}`);
      expect(sig.signers).not.toContain('p02');
      for (const e of sig.excluded) expect(e).toEqual({ partyId: 'p02', reason: expect.stringMatching(/^invalid_signature_share: /) });
      sigs.push(sig);
    }
    const caught = sigs.filter((x) => x.excluded.length > 0);
    expect(caught.length, 'the cheater took part and was caught').toBeGreaterThan(0);
    for (const x of caught) expect(x.excluded).toHaveLength(1);
    const events = s.audit('party_excluded');
    expect(events).toHaveLength(caught.length);
    for (const e of events) expect(e.data).toMatchObject({ partyId: 'p02', code: 'invalid_signature_share', keyId: s.keyId });
    expect(new Set(s.excludedMetric)).toEqual(new Set(['p02']));
  });

  it('a signer cut off mid-session (package received, share held by the cut): the request completes without it, unblamed', async () => {
    const s = await start(5, 3);
    await s.sign('warm-up');
    s.shape(['p04', 'p05'], { latencyMs: 50 });
    s.trip('p01');
    const id = s.request('cut mid-session');
    const sig = await s.settle(id);
    expect(sig.status).toBe('completed');
    expect(sig.signers).not.toContain('p01');
    expect(sig.excluded, 'a silent party is never blamed').toEqual([]);
    const [session] = sessionsWith(s, id, 'p01');
    expect(s.parties.get('p01')?.released, 'it did sign; the share never arrived').toContain(session);
  });

  it('80 ms ± 20 ms latency and 5 % loss on every link: 6 signatures in a row, nobody blamed', async () => {
    const s = await start(5, 3, { seed: 7 });
    s.shape(['p01', 'p02', 'p03', 'p04', 'p05'], { latencyMs: 80, jitterMs: 20, loss: 0.05 });
    for (let i = 0; i < 6; i++) expect((await s.sign(`slow and lossy #${i}`)).excluded).toEqual([]);
    expect(s.losses, 'the network really lost packets').toBeGreaterThan(0);
  });

  it('more than n − t parties down: fails with insufficient_parties at its deadline, not before; nobody is blamed', async () => {
    const s = await start(5, 3);
    s.cut('p03', 'p04');
    s.disconnect('p05');
    const t0 = s.clock.now();
    const sig = await s.settle(s.request('three of five down'));
    expect(sig.status).toBe('failed');
    expect(sig.error?.code).toBe('insufficient_parties');
    expect(sig.excluded).toEqual([]);
    expect(s.clock.now() - t0).toBeGreaterThanOrEqual(TIMEOUT);
    expect(s.clock.now() - t0).toBeLessThan(TIMEOUT + 50);
  });

  it('t-of-t: a request made while a party is cut off (the coordinator unaware) completes when it comes back', async () => {
    const s = await start(3, 3);
    await s.sign('warm-up');
    // Its connection is reset and the reset is lost: the coordinator keeps a half-open connection,
    // and the only session a 3-of-3 request may start goes down it.
    s.disconnect('p03', { coordinatorNotices: false });
    const id = s.request('requested during the cut');
    await s.advance(1_000);
    expect(s.store.signatures.get(id)?.status).toBe('signing');
    s.connect('p03');
    const sig = await s.settle(id);
    expect(sig.status, JSON.stringify(sig.error)).toBe('completed');
    expect(sig.signers).toEqual(['p01', 'p02', 'p03']);
    expect(sig.excluded).toEqual([]);
    expect(s.clock.now() - Date.parse(sig.deadline) + TIMEOUT).toBeLessThan(2_000);
  });

  it('t-of-t: a party the coordinator gave up on during a long cut dials again and signs, also the request made meanwhile', async () => {
    const s = await start(3, 3);
    await s.sign('warm-up');
    s.cut('p03');
    s.abandon('p03');
    const id = s.request('requested while abandoned');
    await s.advance(2_000);
    s.heal('p03');
    s.disconnect('p03'); // its own heartbeat finds the connection dead
    s.connect('p03');
    expect((await s.settle(id)).signers).toEqual(['p01', 'p02', 'p03']);
    expect((await s.sign('after a long cut')).signers).toEqual(['p01', 'p02', 'p03']);
  });

  it('a signer whose connection drops mid-session and comes back before the deadline signs that request', async () => {
    const s = await start(5, 3);
    await s.sign('warm-up');
    s.cut('p04', 'p05');
    s.trip('p03'); // gets the package, signs; the share is lost with the connection
    const id = s.request('mid-session drop, then back');
    await s.runUntil(() => (s.parties.get('p03')?.released.length ?? 0) > 1);
    s.disconnect('p03', { coordinatorNotices: false });
    await s.advance(1_000);
    s.heal('p03');
    s.connect('p03');
    const sig = await s.settle(id);
    expect(sig.status, JSON.stringify(sig.error)).toBe('completed');
    expect(sig.signers).toEqual(['p01', 'p02', 'p03']);
    expect(sig.excluded).toEqual([]);
  });

  it('t-of-t: a party that restarts mid-session (its nonce gone) withdraws, and the request still completes', async () => {
    const s = await start(3, 3);
    await s.sign('warm-up');
    s.behave('p02', 'restart');
    const sig = await s.settle(s.request('restart mid-session'));
    expect(sig.status, JSON.stringify(sig.error)).toBe('completed');
    expect(sig.excluded).toEqual([]);
  });
});

describe.each(MODES)('one malicious party cannot stall every signature (issue 10, item 3), aggregation $aggregation', ({ latency }) => {
  beforeAll(() => {
    workerLatencyMs = latency;
  });

  // n = t + k: the k faulty parties are all the n − t ROAST tolerates, 1 ≤ k ≤ t − 1. They answer
  // at once, so they are ready first and in every session they can get into.
  for (const [t, k] of [
    [2, 1],
    [3, 1],
    [3, 2],
  ] as const) {
    for (const behaviour of ['withdraw', 'flap'] as const) {
      const what = behaviour === 'withdraw' ? 'withdrawing from' : 'dropping its link on';
      it(`${t}-of-${t + k}: ${k} part${k === 1 ? 'y' : 'ies'} ${what} every session forever cannot stop ${t} honest parties`, async () => {
        const s = await start(t + k, t);
        const names = [...s.parties.keys()];
        const faulty = names.slice(0, k);
        for (const p of faulty) s.behave(p, behaviour);
        s.shape(names.slice(k), { latencyMs: 20 });
        for (let i = 0; i < 2; i++) {
          const sig = await s.settle(s.request(`despite ${what} #${i}`));
          expect(sig.status, JSON.stringify(sig.error)).toBe('completed');
          for (const p of faulty) expect(sig.signers).not.toContain(p);
          expect(sig.excluded, 'neither is blame').toEqual([]);
        }
      });
    }
  }
});

describe.each(MODES)('refusals, blame and what the audit log says, aggregation $aggregation', ({ latency }) => {
  beforeAll(() => {
    workerLatencyMs = latency;
  });

  it('refusals by more than n − t parties reject the request; each is audited as policy_refusal, wrong_key included', async () => {
    const s = await start(3, 2);
    s.behave('p01', 'refuse');
    s.behave('p02', 'refuse', 'wrong_key');
    const sig = await s.settle(s.request('refused'));
    expect(sig.status).toBe('rejected');
    expect(sig.error?.code).toBe('rejected');
    expect(sig.excluded.map((e) => e.partyId).sort()).toEqual(['p01', 'p02']);
    expect(
      s
        .audit('policy_refusal')
        .map((e) => [e.data.partyId, e.data.code])
        .sort(),
    ).toEqual([
      ['p01', 'policy_approvals_missing'],
      ['p02', 'wrong_key'],
    ]);
    expect(s.audit('party_excluded'), 'a refusal is not blame').toEqual([]);
  });

  it('a store whose writes complete out of order still records a request’s exclusion before its completion', async () => {
    // A networked store: exclusions take long, settlements are quick.
    const s = await start(3, 2, { storeLatency: (m) => (m === 'addExcluded' ? 500 : 1) });
    s.behave('p01', 'cheat');
    s.shape(['p03'], { latencyMs: 50 });
    const sig = await s.settle(s.request('slow store'));
    expect(sig.status).toBe('completed');
    await s.advance(1_000); // every write has landed
    const order = s.store.audit.filter((e) => e.data.signatureId === sig.signatureId).map((e) => e.type);
    expect(order).toEqual(['party_excluded', 'signature_completed']);
  });

  it('concurrent requests share the pool and never the same commitment', async () => {
    const s = await start(5, 3);
    await s.sign('warm-up');
    const ids = Array.from({ length: 4 }, (_, i) => s.request(`concurrent #${i}`));
    for (const id of ids) expect((await s.settle(id)).status).toBe('completed');
    expect(new Set(s.packages.map((p) => p.requestId)).size).toBe(5);
  });

  it('round trips longer than the base session grace: once signers have answered, a request runs one session, not two', async () => {
    // 200 ms each way: a share comes back 400 ms after its package, past the 250 ms base grace.
    const s = await start(3, 2);
    s.shape(['p01', 'p02', 'p03'], { latencyMs: 200 });
    await s.sign('warm-up: the first answers set the round trip');
    const sessions = [];
    for (let i = 0; i < 4; i++) {
      const { signatureId } = await s.sign(`under load #${i}`);
      sessions.push(new Set(s.packages.filter((p) => p.requestId === signatureId).map((p) => p.sessionId)).size);
    }
    expect(sessions, 'no redundant session: each one costs every signer a nonce and a share').toEqual([1, 1, 1, 1]);
  });

  it('a store slow to write holds back no package: the first session leaves before the request is marked signing', async () => {
    const s = await start(3, 2, { storeLatency: (m) => (m === 'markSigning' ? 2_000 : 1) });
    await s.sign('warm-up: the pool holds everyone');
    const t0 = s.clock.now();
    const id = s.request('a slow disk');
    await s.runUntil(() => s.packages.some((p) => p.requestId === id));
    expect(s.clock.now() - t0, 'the package did not wait for the write').toBeLessThan(2_000);
    expect((await s.settle(id)).status).toBe('completed');
  });
});

const packagesFor = (s: SigningSim, id: string) => s.packages.filter((p) => p.requestId === id);

describe('the worker job path', () => {
  it('a worker that fails to run a job blames nobody: that session ends, the request completes in another', async () => {
    const s = await start(3, 2, { workerLatencyMs: 3, workerFails: (job) => job === 0 });
    const row = await s.sign('the first job is lost with its worker');
    expect(s.jobs).toMatchObject({ failed: 1, answered: 1 });
    expect(row.excluded, 'a failed worker is nobody’s fault').toEqual([]);
    expect(new Set(packagesFor(s, row.signatureId).map((p) => p.sessionId)).size, 'a second session signed it').toBe(2);
    expect(s.excludedMetric).toEqual([]);
  });

  it('a lease lost while the verdict is out on a worker: the verdict settles nothing here, and no more packages leave for the request', async () => {
    const s = await start(3, 2, { workerLatencyMs: 50, leases: true });
    await s.sign('warm-up: every member has commitments in the pool');
    const before = s.jobs.asked;
    const id = s.request('taken over by another instance');
    await s.runUntil(() => s.jobs.asked === before + 1);
    const sent = packagesFor(s, id).length;
    s.loseLease(id);
    // The driver learns of it at its next look at the lease: here, the settlement the verdict brings.
    await s.advance(5_000);
    expect(s.jobs.answered, 'the verdict did come back').toBe(before + 1);
    const row = s.store.signatures.get(id);
    expect(row?.status, 'not settled by this instance: the one holding the lease settles it').not.toBe('completed');
    expect(row?.signature ?? null).toBeNull();
    expect(packagesFor(s, id)).toHaveLength(sent);
    expect(s.driver.inFlight).toBe(0);
    // The instance goes on signing what it does hold.
    await s.sign('a request this instance holds');
  });

  it('a lease lost before a request’s packages leave: none is sent, nothing is written for it, and the instance goes on', async () => {
    // No pool: the request first asks for commitments; the lease goes while the answers travel.
    const s = await start(3, 2, { workerLatencyMs: 3, leases: true, poolTarget: 0 });
    s.shape(s.key.names, { latencyMs: 50 });
    const id = s.request('lost before its first package');
    await s.runUntil(() => s.store.signatures.get(id)?.status === 'signing');
    s.loseLease(id);
    await s.advance(1_000);
    expect(packagesFor(s, id), 'no signing package for a request this instance no longer holds').toEqual([]);
    expect(s.store.signatures.get(id)?.status).not.toBe('completed');
    expect(s.driver.inFlight).toBe(0);
    await s.sign('a request this instance holds');
  });
});
