/**
 * The coordinator alone, at 0 (inline), 1 and 2 aggregation workers: how far moving share
 * verification and aggregation off the event loop scales it. The parties are a replayed
 * transcript — every commitment and share made before the clock starts — fed to the coordinator's
 * signing machine (`@glacis/coordinator` createSigningMachine, the same sans-IO core the service
 * runs) with `concurrency` requests in flight. What is timed is the coordinator's protocol work:
 * parsing each signer's commitment where it enters (on the event loop), ROAST, and each session's
 * aggregation (inline, or through the worker pool). No HTTP, store or envelopes; the `next`
 * commitments a share brings in the service are left out (each would add two point decodes on
 * the event loop).
 *
 *   node scripts/bench/coordinator-only.mjs [--requests 300] [--concurrency 16] [--workers 0,1,2]
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createAggregationPool, createSigningMachine, parseSessionId } from '@glacis/coordinator';
import { createSigner, getSuite, makeKeyShare, toFrostPublic, toHex } from '@glacis/protocol';
import { round } from './stats.mjs';

const rng = (n = 32) => new Uint8Array(randomBytes(n));

/** A 2-of-3 dealer key of `suiteId`; the signers of parties 1 and 2. */
function dealerKey(suiteId) {
  const suite = getSuite(suiteId);
  const names = ['party-1', 'party-2', 'party-3'];
  const ids = names.map((p) => suite.identifierFor(p));
  const deal = suite.frost.trustedDealer({ min: 2, max: 3 }, ids, undefined, rng);
  const pkg = {
    keyId: `coordinator-only-${suiteId}`,
    suite: suiteId,
    threshold: 2,
    committee: names,
    publicKey: toHex(suite.encodePublicKey(deal.public)),
    groupCommitment: deal.public.commitments.map(toHex),
    verifyingShares: Object.fromEntries(names.map((p, i) => [p, toHex(deal.public.verifyingShares[ids[i]])])),
  };
  toFrostPublic(pkg);
  const signers = names.slice(0, 2).map((p, i) => [p, createSigner(makeKeyShare(pkg, p, deal.secretShares[ids[i]].signingShare), rng)]);
  return { pkg, signers };
}

/**
 * The transcript: per request, each signer's commitment and its share for the package the
 * machine will build (sorted commitments, the request's id and raw intent: as ROAST builds it).
 */
function transcript(key, requests) {
  return Array.from({ length: requests }, (_, r) => {
    const signatureId = `sig_${r}`;
    const message = rng(32);
    const intent = { type: 'raw', message: toHex(message) };
    const commitments = key.signers.map(([p, s]) => [p, s.commit()]);
    const pkg = {
      keyId: key.pkg.keyId,
      requestId: signatureId,
      intent,
      approvals: [],
      commitments: commitments.map(([partyId, c]) => ({ partyId, ...c })).sort((a, b) => (a.partyId < b.partyId ? -1 : 1)),
    };
    const shares = Object.fromEntries(key.signers.map(([p, s]) => [p, s.sign(pkg, [message]).shares.map((z) => toHex(z))]));
    return { signatureId, intent, commitments: Object.fromEntries(commitments), shares };
  });
}

/** Replays `script` through a machine with `workers` aggregation threads; signatures/s and CPU. */
async function replay(key, script, workers, concurrency) {
  const pool = workers > 0 ? createAggregationPool(workers) : null;
  // Threads start on demand: start one before the clock (the second starts as jobs queue).
  await pool?.warm();
  const machine = createSigningMachine({ epoch: 'be0c4', poolTarget: 0, sessionGraceMs: 250, deferAggregation: pool !== null });
  for (const [p] of key.signers) machine.handle({ type: 'connect', party: p }, 0);
  let completed = 0;
  let now = 0;

  /** Feeds `input`; follows the machine's actions for this request until it settles. */
  async function drive(step, input) {
    let queue = machine.handle(input, ++now);
    while (queue.length > 0) {
      const next = [];
      for (const a of queue) {
        if (a.type === 'settle') {
          if (a.outcome.status !== 'completed') throw new Error(`${a.requestId}: ${JSON.stringify(a.outcome)}`);
          completed++;
        } else if (a.type === 'send' && a.message.type === 'commit_request') {
          const commitments = [step.commitments[a.to]];
          next.push(
            ...machine.handle({ type: 'commitments', from: a.to, session: sessionOf(a), keyId: key.pkg.keyId, commitments }, ++now),
          );
        } else if (a.type === 'send' && a.message.type === 'signing_package') {
          next.push(...machine.handle({ type: 'share', from: a.to, session: sessionOf(a), shares: step.shares[a.to], next: null }, ++now));
        } else if (a.type === 'aggregate') {
          const verdict = await pool.run(a.job);
          next.push(...machine.handle({ type: 'aggregated', requestId: a.requestId, sessionId: a.sessionId, verdict }, ++now));
        }
      }
      queue = next;
    }
  }
  const sessionOf = (a) => parseSessionId(a.message.sessionId);
  const request = (step) => ({
    type: 'request',
    request: { signatureId: step.signatureId, keyId: key.pkg.keyId, key: key.pkg, intent: step.intent, approvals: [], deadline: 1e15 },
  });
  // Warm-up outside the clock: JIT, and the workers' threads and prepared keys.
  const warm = script.slice(0, 16);
  for (const step of warm) await drive(step, request(step));
  completed = 0;
  const rest = script.slice(16);
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < rest.length) {
        const step = rest[next++];
        await drive(step, request(step));
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await pool?.close();
  return {
    workers,
    signatures: completed,
    signaturesPerSecond: round(completed / seconds, 1),
    cpuMsPerSignature: round((cpu.user + cpu.system) / 1000 / completed, 2),
  };
}

/** Rows for each suite and worker count, all in one process, one after another. */
export async function benchCoordinatorOnly({
  suites = ['ed25519', 'secp256k1-tr'],
  workers = [0, 1, 2],
  requests = 300,
  concurrency = 16,
} = {}) {
  const rows = [];
  for (const suite of suites) {
    const key = dealerKey(suite);
    const script = transcript(key, requests + 16);
    const results = [];
    for (const w of workers) results.push(await replay(key, script, w, concurrency));
    const base = results[0]?.signaturesPerSecond ?? 1;
    for (const r of results) rows.push({ suite, ...r, speedup: round(r.signaturesPerSecond / base, 2) });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { requests: { type: 'string' }, concurrency: { type: 'string' }, workers: { type: 'string' } } });
  const rows = await benchCoordinatorOnly({
    ...(values.requests ? { requests: Number(values.requests) } : {}),
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    ...(values.workers ? { workers: values.workers.split(',').map(Number) } : {}),
  });
  console.table(rows);
}
