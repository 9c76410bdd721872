/**
 * Micro-benchmark of coordinator-side FROST aggregation: noble's `aggregate` / `verifyShare`
 * against Glacis's aggregator (packages/protocol/src/signing/aggregate-shares.ts and friends), per
 * suite and threshold, measured in the same process on the same inputs. Ratios are medians over
 * several runs (>1 = Glacis is faster). Imports the built dist: run `npx tsc -b` first.
 *
 *   node scripts/bench-aggregate.mjs [--suites ed25519,p256] [--t 3,30] [--budget-ms 4000] [--json]
 *
 * `benchAggregate(options)` returns the same numbers as JSON-able data for other tooling.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createAggregator, getSuite, SUITE_IDS, toFrostPublic, toHex } from '../packages/protocol/dist/index.js';
import { parseNonceCommitment } from '../packages/protocol/dist/signing/commitment-points.js';
import { PRECOMPUTE_AFTER, preparedKeyFor } from '../packages/protocol/dist/signing/key-cache.js';
import { batchVerifySignatureShares } from '../packages/protocol/dist/signing/share-verification.js';
import { createSigningContext } from '../packages/protocol/dist/signing/signing-context.js';

const rng = (n = 32) => new Uint8Array(randomBytes(n));

/**
 * Median per-call time (ms) of each measurement, sampled round-robin so that every ratio compares
 * runs made under the same machine load. Each measurement is a function returning the ms of the
 * part it wants timed; cheap ones are repeated within a round (~`sampleMs` per sample).
 */
function sampleRoundRobin(measures, { budgetMs, minRounds = 3, maxRounds = 15, sampleMs = 25 }) {
  const reps = measures.map(([, g]) => Math.min(50, Math.max(1, Math.ceil(sampleMs / Math.max(g(), 0.01)))));
  const samples = measures.map(() => []);
  const start = performance.now();
  for (let round = 0; round < maxRounds && (round < minRounds || performance.now() - start < budgetMs); round++) {
    measures.forEach(([, g], i) => {
      let total = 0;
      for (let k = 0; k < reps[i]; k++) total += g();
      samples[i].push(total / reps[i]);
    });
  }
  return Object.fromEntries(
    measures.map(([name], i) => {
      const xs = samples[i].sort((a, b) => a - b);
      return [name, { ms: xs[xs.length >> 1], calls: xs.length * reps[i] }];
    }),
  );
}

const timed = (g) => () => {
  const t0 = performance.now();
  g();
  return performance.now() - t0;
};

/** A dealer key over parties p001…, with t signers' commitments and shares on one message. */
function fixture(suiteId, t) {
  const suite = getSuite(suiteId);
  const names = Array.from({ length: t }, (_, i) => `p${String(i + 1).padStart(3, '0')}`);
  const ids = names.map((n) => suite.identifierFor(n));
  const deal = suite.frost.trustedDealer({ min: t, max: t }, ids, undefined, rng);
  const pkg = {
    keyId: `bench-${suiteId}-${t}`,
    suite: suiteId,
    threshold: t,
    committee: names,
    publicKey: toHex(suite.encodePublicKey(deal.public)),
    groupCommitment: deal.public.commitments.map(toHex),
    verifyingShares: Object.fromEntries(names.map((n, i) => [n, toHex(deal.public.verifyingShares[ids[i]])])),
  };
  const message = rng(32);
  const commits = ids.map((id) => suite.frost.commit(deal.secretShares[id], rng));
  const list = commits.map((c) => c.commitments);
  const pub = toFrostPublic(pkg);
  const shares = Object.fromEntries(
    ids.map((id, i) => [id, suite.frost.signShare(deal.secretShares[id], pub, commits[i].nonces, list, message)]),
  );
  const wire = names.map((n, i) => ({
    party: n,
    hiding: toHex(list[i].hiding),
    binding: toHex(list[i].binding),
    share: toHex(shares[ids[i]]),
  }));
  // One invalid share (the last signer's, +1) for the cheater path.
  const bad = suite.Fn.toBytes(suite.Fn.add(suite.Fn.fromBytes(shares[ids[t - 1]]), 1n));
  return { suite, ids, pkg, pub, message, list, shares, wire, badShares: { ...shares, [ids[t - 1]]: bad }, badHex: toHex(bad) };
}

/** The coordinator path up to (not including) finish: fresh wire objects, so every point is decoded. */
function loadedAggregator(f, { cheat = false } = {}) {
  const agg = createAggregator({ key: f.pkg, requestId: 'bench', message: f.message });
  for (const w of f.wire) agg.addCommitment(w.party, { hiding: w.hiding, binding: w.binding });
  agg.buildPackage();
  for (const [i, w] of f.wire.entries()) agg.addShare(w.party, cheat && i === f.wire.length - 1 ? f.badHex : w.share);
  return agg;
}

function expectThrow(g) {
  try {
    g();
  } catch {
    return;
  }
  throw new Error('expected the cheater path to throw');
}

/** Benchmarks one suite at one threshold (n = t). */
export function benchOne(suiteId, t, { budgetMs = 4000 } = {}) {
  const f = fixture(suiteId, t);
  const { suite, pub, list, message, shares, badShares, ids } = f;
  // Same bytes out, or the timings mean nothing.
  const nobleSig = toHex(suite.frost.aggregate(pub, list, message, shares));
  const oursSig = toHex(loadedAggregator(f).finish());
  if (nobleSig !== oursSig) throw new Error(`${suiteId} t=${t}: signatures differ`);
  // Steady state: key cached and its group-key table built (as for any key in regular use).
  for (let i = 0; i <= PRECOMPUTE_AFTER; i++) loadedAggregator(f).finish();

  const finishOnly = (cheat) => () => {
    const agg = loadedAggregator(f, { cheat });
    const t0 = performance.now();
    if (cheat) expectThrow(() => agg.finish());
    else agg.finish();
    return performance.now() - t0;
  };
  const measured = sampleRoundRobin(
    [
      // noble: what a coordinator on noble alone pays.
      ['nobleAggregate', timed(() => suite.frost.aggregate(pub, list, message, shares))],
      [
        'nobleVerifyEachThenAggregate',
        timed(() => {
          for (const id of ids) if (!suite.frost.verifyShare(pub, list, message, id, shares[id])) throw new Error('share');
          suite.frost.aggregate(pub, list, message, shares);
        }),
      ],
      ['nobleAggregateWithCheater', timed(() => expectThrow(() => suite.frost.aggregate(pub, list, message, badShares)))],
      [
        'nobleVerifyEachShare',
        timed(() => {
          for (const id of ids) suite.frost.verifyShare(pub, list, message, id, shares[id]);
        }),
      ],
      // Glacis: the aggregator end to end (every commitment and share decoded and validated once).
      ['oursEndToEnd', timed(() => loadedAggregator(f).finish())],
      ['oursEndToEndWithCheater', timed(() => expectThrow(() => loadedAggregator(f, { cheat: true }).finish()))],
      // finish() alone: the latency after the last share, commitments validated on arrival.
      ['oursFinish', finishOnly(false)],
      ['oursFinishWithCheater', finishOnly(true)],
      // Every share checked from wire bytes: decode commitments, build the context, one batch MSM.
      [
        'oursBatchVerifyShares',
        timed(() => {
          const commitments = f.wire.map((w, i) => ({
            identifier: ids[i],
            commitment: parseNonceCommitment(suite, { hiding: w.hiding, binding: w.binding }, ''),
          }));
          const ctx = createSigningContext(preparedKeyFor(f.pkg), commitments, message);
          const scalars = new Map(ids.map((id) => [id, suite.Fn.fromBytes(shares[id])]));
          if (!batchVerifySignatureShares(ctx, scalars, rng)) throw new Error('batch');
        }),
      ],
    ],
    { budgetMs },
  );
  const ms = Object.fromEntries(Object.entries(measured).map(([k, v]) => [k, v.ms]));
  const calls = Object.fromEntries(Object.entries(measured).map(([k, v]) => [k, v.calls]));

  const ratio = (a, b) => Math.round((ms[a] / ms[b]) * 100) / 100;
  return {
    suite: suiteId,
    t,
    n: t,
    ms: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, Math.round(v * 1000) / 1000])),
    calls,
    ratios: {
      endToEndVsNobleAggregate: ratio('nobleAggregate', 'oursEndToEnd'),
      endToEndVsNobleVerifyEachThenAggregate: ratio('nobleVerifyEachThenAggregate', 'oursEndToEnd'),
      finishVsNobleAggregate: ratio('nobleAggregate', 'oursFinish'),
      cheaterEndToEndVsNoble: ratio('nobleAggregateWithCheater', 'oursEndToEndWithCheater'),
      cheaterFinishVsNoble: ratio('nobleAggregateWithCheater', 'oursFinishWithCheater'),
      batchVerifyVsNobleVerifyEach: ratio('nobleVerifyEachShare', 'oursBatchVerifyShares'),
    },
  };
}

/** Runs the benchmark; returns one result per (suite, t). */
export function benchAggregate({ suites = SUITE_IDS, thresholds = [3, 30], budgetMs = 4000, log = () => {} } = {}) {
  const results = [];
  for (const s of suites) {
    for (const t of thresholds) {
      const r = benchOne(s, t, { budgetMs });
      log(r);
      results.push(r);
    }
  }
  return { node: process.version, noble: '@noble/curves 2.4.0', date: new Date().toISOString(), results };
}

function formatRow(r) {
  const x = r.ratios;
  const m = r.ms;
  return [
    r.suite.padEnd(13),
    String(r.t).padStart(3),
    `${m.nobleAggregate.toFixed(1)}`.padStart(9),
    `${m.nobleVerifyEachThenAggregate.toFixed(1)}`.padStart(10),
    `${m.oursEndToEnd.toFixed(1)}`.padStart(8),
    `${m.oursFinish.toFixed(2)}`.padStart(8),
    `${x.endToEndVsNobleAggregate}×`.padStart(8),
    `${x.endToEndVsNobleVerifyEachThenAggregate}×`.padStart(9),
    `${x.finishVsNobleAggregate}×`.padStart(8),
    `${x.cheaterEndToEndVsNoble}×`.padStart(8),
    `${x.batchVerifyVsNobleVerifyEach}×`.padStart(8),
  ].join(' ');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i < 0 ? undefined : process.argv[i + 1];
  };
  const json = process.argv.includes('--json');
  const suites = arg('--suites')?.split(',') ?? SUITE_IDS;
  const thresholds = (arg('--t') ?? '3,30').split(',').map(Number);
  const budgetMs = Number(arg('--budget-ms') ?? 4000);
  if (!json) {
    console.log('ms: medians. ratios: noble time / Glacis time (same run, same inputs).');
    console.log('suite           t  noble agg  noble t×vs   ours e2e  finish  e2e/agg  e2e/t×vs fin/agg  cheater  batch/t×vs');
  }
  const out = benchAggregate({ suites, thresholds, budgetMs, log: json ? () => {} : (r) => console.log(formatRow(r)) });
  if (json) console.log(JSON.stringify(out, null, 2));
}
