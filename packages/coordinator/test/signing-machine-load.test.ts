/**
 * The session grace under load, on the virtual clock (signing-sim.ts): parties that sign one
 * package after another, so a package waits behind every package sent to that party before it.
 * Closed-loop clients as `npm run bench` runs them: a few at first, then 64 at once.
 *
 * With a grace that does not see the signers' queues (a fixed one, or one taken from the round
 * trips when a request starts), a request whose first signer answers while the other is still
 * working through other requests' packages starts a redundant session with the third party: the
 * parties sign more than once per signature, which lengthens every queue further (the bench's
 * collapse at concurrency 64). The grace that follows each signer's backlog (signer-queues.ts)
 * waits for a busy signer, and still gives way to another session when a signer is really silent.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { keyFor, type SigningSim, startSigningSim } from './signing-sim.js';

beforeAll(() => {
  keyFor('ed25519', 3, 2);
});

let sim: SigningSim;
afterEach(() => {
  expect(sim.reusedCommitments()).toEqual([]);
  expect(sim.wrongfulExclusions()).toEqual([]);
});

/** Nonce commitments the simulated parties made so far. */
const made = () => [...sim.parties.values()].reduce((sum, p) => sum + p.made, 0);

const settled = (id: string) => !['pending', 'signing'].includes(sim.store.signatures.get(id)?.status ?? 'pending');

/**
 * `total` requests from `concurrency` clients, each sending its next when its last settles; every
 * one must complete. Returns the longest a request took (virtual ms).
 */
async function closedLoop(concurrency: number, total: number): Promise<number> {
  const live = new Map<string, number>(); // request → when it was sent
  let issued = 0;
  let done = 0;
  let longest = 0;
  while (done < total) {
    while (live.size < concurrency && issued < total) live.set(sim.request(`load ${issued++}`), sim.clock.now());
    await sim.runUntil(() => [...live.keys()].some(settled));
    for (const [id, at] of [...live]) {
      if (!settled(id)) continue;
      live.delete(id);
      done++;
      longest = Math.max(longest, sim.clock.now() - at);
      const row = sim.store.signatures.get(id);
      if (row?.status !== 'completed') throw new Error(`${id} ${row?.status}: ${JSON.stringify(row?.error)}`);
    }
  }
  return longest;
}

/** ROAST sessions started (distinct sessions in the packages sent) per signature, over `run`. */
async function sessionsPerSignature(signatures: number, run: () => Promise<unknown>): Promise<number> {
  const before = new Set(sim.packages.map((p) => p.sessionId)).size;
  await run();
  return (new Set(sim.packages.map((p) => p.sessionId)).size - before) / signatures;
}

describe('the session grace when the signers are busy (2-of-3, each signer 10 ms per package)', () => {
  it('64 clients at once after 4: one session per signature, none redundant', async () => {
    sim = await startSigningSim({ n: 3, t: 2, poolTarget: 32, requestTimeoutMs: 60_000 });
    sim.serve(sim.key.names, 10);
    const quiet = await sessionsPerSignature(16, () => closedLoop(4, 16));
    const loaded = await sessionsPerSignature(192, () => closedLoop(64, 192));
    expect(quiet).toBe(1);
    // Each package waits behind up to 63 others (640 ms): every second session here is redundant.
    expect(loaded).toBe(1);
  }, 60_000);

  it('a signer that is silent under the same load is still routed around: every request completes', async () => {
    sim = await startSigningSim({ n: 3, t: 2, poolTarget: 32, requestTimeoutMs: 60_000 });
    sim.serve(sim.key.names, 10);
    await closedLoop(4, 8);
    sim.behave('p01', 'silent');
    const first = sim.store.signatures.size;
    const longest = await closedLoop(64, 128);
    const rows = [...sim.store.signatures.values()].slice(first);
    expect(rows.length).toBe(128);
    for (const s of rows) expect(s.signers).not.toContain('p01');
    // A request waits for the silent signer at most as long as the grace grows (5 s), then signs
    // without it behind the queues of the other two: far from its deadline.
    expect(longest).toBeLessThan(20_000);
  }, 60_000);
});

describe('bursts of requests (2-of-3, each signer 10 ms per package)', () => {
  it('the commitments a burst of 64 brings back are kept: the next burst makes only what it uses', async () => {
    // Each request draws a set from every member and gives back what it did not use; a pool that
    // dropped what came back beyond 2 × its target had the parties make them again at each burst.
    sim = await startSigningSim({ n: 3, t: 2, poolTarget: 32, requestTimeoutMs: 60_000 });
    sim.serve(sim.key.names, 10);
    await closedLoop(64, 64);
    const [madeBefore, packagesBefore] = [made(), sim.packages.length];
    await closedLoop(64, 64);
    const used = sim.packages.length - packagesBefore;
    expect(used).toBe(128);
    // Every package is answered with a share and the signer's next commitment: nothing else made.
    expect(made() - madeBefore).toBe(used);
  }, 60_000);
});

describe('commitments while an aggregate is out (a worker thread)', () => {
  it('the signer whose share completed a session is not given another commitment meanwhile: the parties make only what is used', async () => {
    // Its next commitment comes back with the verdict; one drawn for it from the pool while the
    // aggregate was out was overwritten by it and lost (about one per signature in the bench).
    sim = await startSigningSim({ n: 3, t: 2, poolTarget: 32, requestTimeoutMs: 60_000, workerLatencyMs: 3 });
    sim.serve(sim.key.names, 2);
    await closedLoop(1, 4);
    const [madeBefore, packagesBefore] = [made(), sim.packages.length];
    await closedLoop(1, 40);
    await closedLoop(8, 80);
    const used = sim.packages.length - packagesBefore;
    expect(used).toBe(240);
    expect(made() - madeBefore).toBe(used);
  }, 60_000);
});

describe('answers that come after their request ended', () => {
  it("a slow member's commitments, asked for by a request that signed without it, go to the pool: it is not asked again by every request", async () => {
    // No preprocessing: a request asks each idle member and signs with the first two that answer.
    // The third answers after the request ended; its commitments were discarded, so every request
    // found none of it and asked again: a commitment made (and decoded) per request, none used.
    sim = await startSigningSim({ n: 3, t: 2, poolTarget: 0, requestTimeoutMs: 60_000 });
    sim.shape(['p03'], { latencyMs: 10 });
    await closedLoop(1, 60);
    // Asked until its first answers came back (a round trip of 20 ms); then drawn from the pool.
    expect(sim.parties.get('p03')?.made).toBeLessThan(10);
    expect(sim.packages.filter((p) => p.to === 'p03')).toEqual([]);
  }, 60_000);
});
