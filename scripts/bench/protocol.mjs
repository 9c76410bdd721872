/**
 * The protocol-vs-noble benchmark (the protocol section of `npm run bench`): per suite and
 * committee size, the CPU cost of DKG, commit, sign share, share verification and aggregation
 * through Glacis's protocol layer and through @noble/curves 2.4.0 directly; per suite, the
 * prime-order check (point halving vs noble's [L]P); and identity signatures (node:crypto vs
 * noble's Ed25519). Both sides run in the same process, interleaved round by round so they see the
 * same machine load. Each figure is a median; each ratio is ours / noble of the same run (< 1:
 * Glacis is faster). Imports @glacis/protocol (its built dist: run `npx tsc -b` first) and its
 * test-only `@glacis/protocol/internal` for the session-level share checks.
 *
 * DKG: "per party" is one participant's whole work — its round 1, then rounds 2 and 3 given every
 * other party's messages (generated once, outside the timed region; dkg-fixtures.mjs) — through
 * Glacis's participant state machine with every message sealed into and opened from a signed
 * envelope (as packages/protocol/test/sim.ts runs it), and through noble's DKG.round1/2/3. "Total"
 * is a whole DKG of all n parties in one process, measured up to `maxMeasuredTotalN` parties and
 * above that extrapolated as n × per party (labelled so: a 20-of-30 noble DKG is ~100 s of CPU).
 *
 *   node scripts/bench/protocol.mjs [--quick] [--suites ed25519,p256] [--sizes 2-3,20-30] [--dkg-only]
 *                                   [--baseline path/to/other/dist/index.js] [--[no-]profile] [--json]
 *
 * `--baseline` also runs the DKG per-party measurement through another build of @glacis/protocol
 * (e.g. the previous commit's dist) in the same run, for before/after ratios.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as glacis from '@glacis/protocol';
import { preparePublicKeyPackage, prepareSession } from '@glacis/protocol/internal';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  boxRun,
  certificateRun,
  committeeNames,
  glacisFullRun,
  glacisOnePartyRun,
  nobleFullRun,
  nobleOnePartyRun,
  oneParty,
} from './dkg-fixtures.mjs';
import { median, ratio, round, sampleRoundRobin, timed } from './stats.mjs';

const {
  createAggregator,
  createSigner,
  getSuite,
  identityFromSeed,
  makeKeyShare,
  parseNonceCommitment,
  SUITE_IDS,
  toFrostPublic,
  toHex,
  verifyIdentitySignature,
} = glacis;

const rng = (n = 32) => new Uint8Array(randomBytes(n));

export const SIZES = [
  [2, 3],
  [3, 5],
  [7, 10],
  [20, 30],
];
export const QUICK_SIZES = [
  [2, 3],
  [3, 5],
];

const sizeLabel = (t, n) => `${t}-of-${n}`;

/** DKG rows for one suite and size. */
function benchDkg(suiteId, t, n, { rounds, totalRounds, maxMeasuredTotalN, baseline }) {
  const f = oneParty(suiteId, t, n);
  // The last run's confirmation makes the certificate measured below.
  let finished;
  let envelopeMs = [];
  const measures = {
    ours: () => {
      finished = glacisOnePartyRun(f);
      envelopeMs.push(finished.envelopeMs);
      return finished.totalMs;
    },
    noble: () => nobleOnePartyRun(f).totalMs,
  };
  if (baseline) measures.baseline = () => glacisOnePartyRun(f, baseline).totalMs;
  const perParty = sampleRoundRobin(measures, { rounds, sampleMs: 0 });
  envelopeMs = median(envelopeMs);
  const certMeasures = { ours: () => certificateRun(f, finished).totalMs };
  if (baseline) certMeasures.baseline = () => certificateRun(f, finished, baseline).totalMs;
  const certificate = sampleRoundRobin(certMeasures, { rounds, sampleMs: 0 });
  const boxes = sampleRoundRobin({ ours: () => boxRun(f).totalMs }, { rounds, sampleMs: 0 }).ours.ms;
  // Glacis's own DKG work: per party minus what it spends on transport security (signed
  // envelopes, encrypted shares), which noble's DKG leaves to the caller.
  const coreMs = perParty.ours.ms - envelopeMs - boxes;
  let total;
  if (n <= maxMeasuredTotalN) {
    const m = sampleRoundRobin(
      { ours: () => glacisFullRun(suiteId, t, n).totalMs, noble: () => nobleFullRun(suiteId, t, n).totalMs },
      { rounds: totalRounds, sampleMs: 0 },
    );
    total = { ours: m.ours.ms, noble: m.noble.ms, method: 'measured', runs: totalRounds };
  } else {
    total = { ours: n * perParty.ours.ms, noble: n * perParty.noble.ms, method: 'extrapolated: n × per party', runs: 0 };
  }
  const row = {
    suite: suiteId,
    size: sizeLabel(t, n),
    oursPerPartyMs: round(perParty.ours.ms, 1),
    noblePerPartyMs: round(perParty.noble.ms, 1),
    perPartyRatio: ratio(perParty.ours.ms, perParty.noble.ms),
    oursEnvelopeMs: round(envelopeMs, 1),
    oursBoxMs: round(boxes, 1),
    coreRatio: ratio(coreMs, perParty.noble.ms),
    oursTotalMs: round(total.ours, 0),
    nobleTotalMs: round(total.noble, 0),
    totalRatio: ratio(total.ours, total.noble),
    total: total.method,
    oursCertificateMs: round(certificate.ours.ms, 1),
    runs: rounds,
    totalRuns: total.runs,
  };
  const baselineRow = baseline && {
    suite: suiteId,
    size: sizeLabel(t, n),
    beforePerPartyMs: round(perParty.baseline.ms, 1),
    afterPerPartyMs: round(perParty.ours.ms, 1),
    noblePerPartyMs: round(perParty.noble.ms, 1),
    afterVsBefore: ratio(perParty.ours.ms, perParty.baseline.ms),
    beforeVsNoble: ratio(perParty.baseline.ms, perParty.noble.ms),
    afterVsNoble: ratio(perParty.ours.ms, perParty.noble.ms),
    beforeCertificateMs: round(certificate.baseline.ms, 1),
    afterCertificateMs: round(certificate.ours.ms, 1),
    runs: rounds,
  };
  return { row, baselineRow };
}

/** A dealer key for t-of-n, the first t parties signing one message. */
function signingFixture(suiteId, t, n) {
  const suite = getSuite(suiteId);
  const names = committeeNames(n);
  const ids = names.map((p) => suite.identifierFor(p));
  const deal = suite.frost.trustedDealer({ min: t, max: n }, ids, undefined, rng);
  const pkg = {
    keyId: `bench-${suiteId}-${t}-${n}`,
    suite: suiteId,
    threshold: t,
    committee: names,
    publicKey: toHex(suite.encodePublicKey(deal.public)),
    groupCommitment: deal.public.commitments.map(toHex),
    verifyingShares: Object.fromEntries(names.map((p, i) => [p, toHex(deal.public.verifyingShares[ids[i]])])),
  };
  const pub = toFrostPublic(pkg);
  const signers = names.slice(0, t);
  const secrets = signers.map((_, i) => deal.secretShares[ids[i]]);
  const keyShares = signers.map((p, i) => makeKeyShare(pkg, p, secrets[i].signingShare));
  const message = rng(32);
  // One complete session: commitments and shares of every signer.
  const commits = secrets.map((s) => suite.frost.commit(s, rng));
  const list = commits.map((c) => c.commitments);
  const shares = Object.fromEntries(secrets.map((s, i) => [s.identifier, suite.frost.signShare(s, pub, commits[i].nonces, list, message)]));
  const wire = signers.map((p, i) => ({
    partyId: p,
    hiding: toHex(list[i].hiding),
    binding: toHex(list[i].binding),
    share: toHex(shares[secrets[i].identifier]),
  }));
  return { suite, names, ids, pkg, pub, signers, secrets, keyShares, message, list, shares, wire };
}

/** Commit, sign share, share verification and aggregation rows for one suite and size. */
function benchSigning(suiteId, t, n, { rounds }) {
  const f = signingFixture(suiteId, t, n);
  const { suite, pub, message, list, shares, wire, secrets, keyShares } = f;
  const ids = secrets.map((s) => s.identifier);

  // commit: a Glacis signer (nonce pool) vs noble's commit.
  const signer = createSigner(keyShares[0], rng);
  const commitRuns = sampleRoundRobin(
    {
      ours: timed(() => signer.commit()),
      noble: timed(() => suite.frost.commit(secrets[0], rng)),
    },
    { rounds },
  );
  signer.discardAll();

  // sign share: the first signer's share for a package whose other commitments are fixed. Ours is
  // the whole of createSigner().sign: package checks, each commitment decoded once, the share.
  const others = wire.slice(1).map((w) => ({ partyId: w.partyId, hiding: w.hiding, binding: w.binding }));
  const oursSign = () => {
    const own = signer.commit();
    const pkg = {
      keyId: f.pkg.keyId,
      requestId: 'bench',
      intent: { type: 'raw', message: toHex(message) },
      approvals: [],
      commitments: [{ partyId: f.signers[0], ...own }, ...others],
    };
    const t0 = performance.now();
    signer.sign(pkg, [message]);
    return performance.now() - t0;
  };
  const nobleSign = () => {
    const c = suite.frost.commit(secrets[0], rng);
    const l = [c.commitments, ...list.slice(1)];
    const t0 = performance.now();
    suite.frost.signShare(secrets[0], pub, c.nonces, l, message);
    return performance.now() - t0;
  };
  const signRuns = sampleRoundRobin({ ours: oursSign, noble: nobleSign }, { rounds });

  // Share verification: every share of a session checked from wire bytes (every commitment decoded
  // once, as where it enters the coordinator), the key in its steady state (prepared once).
  const key = preparePublicKeyPackage(f.pkg);
  const session = () =>
    prepareSession(
      key,
      wire.map((w, i) => ({
        identifier: ids[i],
        commitment: parseNonceCommitment(suite, { hiding: w.hiding, binding: w.binding }, w.partyId),
      })),
      message,
    );
  const scalars = () => new Map(ids.map((id) => [id, suite.Fn.fromBytes(shares[id])]));
  let nextId = 0;
  const verifyRuns = sampleRoundRobin(
    {
      oursBatch: timed(() => {
        if (!session().verifyShares(scalars(), rng)) throw new Error('batch verification failed');
      }),
      oursExact: timed(() => {
        if (session().findInvalidShares(scalars()).length > 0) throw new Error('exact verification failed');
      }),
      // noble checks one share per call, each call costing the same (it rebuilds the whole session):
      // one call is timed, rotating over the signers, and counted t times.
      noble: () => {
        const id = ids[nextId++ % ids.length];
        const t0 = performance.now();
        if (!suite.frost.verifyShare(pub, list, message, id, shares[id])) throw new Error('share');
        return ids.length * (performance.now() - t0);
      },
    },
    { rounds },
  );

  // Aggregation: Glacis's aggregator end to end (commitments parsed as they enter, package, shares
  // in, finish) vs noble's aggregate on the same session; both must produce the same bytes.
  const aggregator = () => {
    const agg = createAggregator({ key: f.pkg, requestId: 'bench', intent: { type: 'raw', message: toHex(message) }, messages: [message] });
    for (const w of wire) agg.addCommitment(w.partyId, [parseNonceCommitment(suite, { hiding: w.hiding, binding: w.binding }, w.partyId)]);
    agg.buildPackage();
    for (const w of wire) agg.addShare(w.partyId, [w.share]);
    return agg.finish()[0];
  };
  if (toHex(aggregator()) !== toHex(suite.frost.aggregate(pub, list, message, shares))) {
    throw new Error(`${suiteId} ${sizeLabel(t, n)}: aggregate signatures differ`);
  }
  const aggRuns = sampleRoundRobin(
    { ours: timed(aggregator), noble: timed(() => suite.frost.aggregate(pub, list, message, shares)) },
    { rounds },
  );

  const base = { suite: suiteId, size: sizeLabel(t, n) };
  const simple = (m) => ({
    ...base,
    oursMs: round(m.ours.ms),
    nobleMs: round(m.noble.ms),
    ratio: ratio(m.ours.ms, m.noble.ms),
    runs: rounds,
  });
  return {
    commit: simple(commitRuns),
    signShare: simple(signRuns),
    shareVerification: {
      ...base,
      shares: t,
      oursBatchMs: round(verifyRuns.oursBatch.ms),
      oursExactMs: round(verifyRuns.oursExact.ms),
      nobleMs: round(verifyRuns.noble.ms),
      ratio: ratio(verifyRuns.oursBatch.ms, verifyRuns.noble.ms),
      exactRatio: ratio(verifyRuns.oursExact.ms, verifyRuns.noble.ms),
      runs: rounds,
    },
    aggregation: simple(aggRuns),
  };
}

/**
 * The prime-order subgroup check of a decoded point, for the suites that need one (ed25519,
 * ed448): Glacis's point halving (`Suite.isPrimeOrder`) vs noble's `isTorsionFree` ([L]P == O),
 * on the same points; and `parseElement` whole (decode, checks, canonical re-encoding).
 */
function benchPrimeOrder(suiteId, { rounds }) {
  const suite = getSuite(suiteId);
  const points = Array.from({ length: 16 }, () => {
    const k = suite.Fn.create(BigInt(`0x${toHex(rng(64))}`)) || 1n;
    return suite.Point.fromBytes(suite.Point.BASE.multiply(k).toBytes());
  });
  const encoded = points.map((p) => p.toBytes());
  let i = 0;
  const m = sampleRoundRobin(
    {
      ours: timed(() => {
        if (!suite.isPrimeOrder(points[i++ % points.length])) throw new Error('halving refused a prime-order point');
      }),
      noble: timed(() => {
        if (!points[i++ % points.length].isTorsionFree()) throw new Error('[L]P refused a prime-order point');
      }),
      parse: timed(() => suite.parseElement(encoded[i++ % encoded.length], 'point')),
    },
    { rounds },
  );
  return {
    suite: suiteId,
    oursHalvingMs: round(m.ours.ms),
    nobleLPMs: round(m.noble.ms),
    ratio: ratio(m.ours.ms, m.noble.ms),
    oursParseElementMs: round(m.parse.ms),
    runs: rounds,
  };
}

/** Identity (envelope) signatures: node:crypto through Glacis vs noble's Ed25519, 256-byte messages. */
function benchIdentity({ rounds }) {
  const seed = rng(32);
  const id = identityFromSeed(seed);
  const message = rng(256);
  const signature = id.sign(message);
  const m = sampleRoundRobin(
    {
      oursSign: timed(() => id.sign(message)),
      nobleSign: timed(() => ed25519.sign(message, seed)),
      oursVerify: timed(() => {
        if (!verifyIdentitySignature(signature, message, id.publicKey)) throw new Error('verify');
      }),
      nobleVerify: timed(() => {
        if (!ed25519.verify(signature, message, id.publicKey, { zip215: false })) throw new Error('verify');
      }),
    },
    { rounds },
  );
  const row = (op, ours, noble) => ({
    op,
    oursMs: round(ours.ms, 4),
    nobleMs: round(noble.ms, 4),
    ratio: ratio(ours.ms, noble.ms),
    runs: rounds,
  });
  return [row('sign', m.oursSign, m.nobleSign), row('verify', m.oursVerify, m.nobleVerify)];
}

const NOTE = [
  'Milliseconds of CPU in one process, medians; **ratio = Glacis / noble** measured in the same run, interleaved (below 1: Glacis is faster).',
  'DKG per party: one participant from its round 1 to its key share given the other parties’ messages, through the Glacis state machine',
  'with every message sealed into and opened from a signed envelope (`oursEnvelopeMs` of it) and every share encrypted to its',
  'recipient (`oursBoxMs`, measured apart), and through noble’s DKG.round1/2/3, which does neither;',
  '`coreRatio` = (ours − envelopes − boxes) / noble.',
  'DKG total: all n parties in one process — measured where `total` says so, otherwise **extrapolated as n × per party**.',
  '`oursCertificateMs`: checking the DKG certificate (n signed confirmations, verifying shares against the group commitment),',
  'which the coordinator and every party do once a DKG completes (noble has no counterpart).',
  'Commit / sign share: one party; sign share is the whole of a Glacis signer’s `sign` (package checks, each commitment decoded once,',
  'the share through the fast path) vs noble’s signShare. Share verification: all t shares of a session from wire bytes (Glacis: decode',
  'once, one session, one random-linear-combination MSM — `oursExactMs` checks each share exactly instead; noble: t × verifyShare, one call timed).',
  'Aggregation: Glacis’s aggregator end to end vs noble’s aggregate, same signature bytes.',
  '`primeOrder`: the prime-order subgroup check of one decoded point — point halving vs noble’s [L]P — and Glacis’s whole `parseElement`.',
  '`identity`: envelope signatures, Glacis through node:crypto (noble confirming a refusal) vs noble’s Ed25519, 256-byte messages.',
  '`dkgProfile`: exact call counts (V8 precise coverage) in one party’s DKG — point decodes, prime-order subgroup checks',
  '(noble’s [L]P or Glacis’s halving), variable-time multiplications (MSMs included), constant-time multiplications.',
].join(' ');

/**
 * The protocol benchmark. `quick` (tests, `npm run bench -- --quick`): sizes 2-of-3 and 3-of-5, 1–2
 * rounds. Full: 2-of-3, 3-of-5, 7-of-10, 20-of-30, 3 rounds (20-of-30 DKG: per party, 2 rounds).
 * Returns JSON-able data: `note`, `meta`, and one array of flat rows per table.
 */
export async function benchProtocol({
  quick = false,
  suites = SUITE_IDS,
  sizes = quick ? QUICK_SIZES : SIZES,
  baseline,
  signing = true,
  profile = !quick,
  log = () => {},
} = {}) {
  const started = performance.now();
  const rounds = quick ? 1 : 3;
  const out = {
    note: NOTE,
    meta: {},
    dkg: [],
    commit: [],
    signShare: [],
    shareVerification: [],
    aggregation: [],
    primeOrder: [],
    identity: [],
  };
  if (baseline) out.dkgBeforeAfter = [];
  for (const suiteId of suites) {
    // JIT warm-up of this suite's curve code on both sides (a 2-of-3 DKG is ~0.1 s).
    const warm = oneParty(suiteId, 2, 3);
    glacisOnePartyRun(warm);
    nobleOnePartyRun(warm);
    if (suiteId === 'ed25519' || suiteId === 'ed448') out.primeOrder.push(benchPrimeOrder(suiteId, { rounds: quick ? 3 : 7 }));
    for (const [t, n] of sizes) {
      const big = n > 10;
      const { row, baselineRow } = benchDkg(suiteId, t, n, {
        // A 20-of-30 noble party is seconds of CPU: fewer rounds there keep the section short.
        rounds: quick ? 2 : big ? 2 : 3,
        // A measured 7-of-10 total is itself the work of ten parties: one run of each side.
        totalRounds: quick ? 1 : n >= 7 ? 1 : 3,
        maxMeasuredTotalN: 10,
        baseline,
      });
      out.dkg.push(row);
      if (baselineRow) out.dkgBeforeAfter.push(baselineRow);
      if (signing) {
        const s = benchSigning(suiteId, t, n, { rounds: quick ? 2 : big ? 2 : rounds });
        out.commit.push(s.commit);
        out.signShare.push(s.signShare);
        out.shareVerification.push(s.shareVerification);
        out.aggregation.push(s.aggregation);
      }
      log(`[protocol] ${suiteId} ${sizeLabel(t, n)}: DKG per party ${row.oursPerPartyMs} ms vs noble ${row.noblePerPartyMs} ms`);
    }
  }
  out.identity = benchIdentity({ rounds: quick ? 3 : 7 });
  if (profile) {
    const { profileDkg } = await import('./dkg-profile.mjs');
    const impls = { glacis };
    if (baseline) impls.before = baseline;
    // Where one party's time goes, for the first suite at the largest size (ed25519 20-of-30 by
    // default): exact counts of decodes, subgroup checks and multiplications per round.
    const [t, n] = sizes.reduce((a, b) => (b[1] > a[1] ? b : a));
    out.dkgProfile = profileDkg({ suite: suites[0], t, n, impls });
  }
  out.meta = {
    node: process.version,
    noble: '@noble/curves 2.4.0',
    date: new Date().toISOString(),
    quick,
    cpus: cpus().length,
    loadAverage1m: round(loadavg()[0], 2),
    suites: [...suites],
    sizes: sizes.map(([t, n]) => sizeLabel(t, n)),
    elapsedS: round((performance.now() - started) / 1000, 1),
  };
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      suites: { type: 'string' },
      sizes: { type: 'string' },
      baseline: { type: 'string' },
      'dkg-only': { type: 'boolean' },
      profile: { type: 'boolean' },
      'no-profile': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const opts = {
    quick: values.quick ?? false,
    signing: !values['dkg-only'],
    profile: values['no-profile'] ? false : (values.profile ?? !values.quick),
    log: values.json ? () => {} : console.log,
  };
  if (values.suites) opts.suites = values.suites.split(',');
  if (values.sizes) opts.sizes = values.sizes.split(',').map((s) => s.split('-').map(Number));
  if (values.baseline) opts.baseline = await import(pathToFileURL(values.baseline).href);
  const result = await benchProtocol(opts);
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(result.note);
    for (const [name, rows] of Object.entries(result)) {
      if (!Array.isArray(rows)) continue;
      console.log(`\n${name}`);
      console.table(rows);
    }
    console.log(result.meta);
  }
}
