/**
 * Where one party's DKG time goes: exact call counts of the expensive primitives (point decodes,
 * prime-order subgroup checks, scalar multiplications, multi-scalar multiplications) during one
 * party's DKG, per round, through noble's DKG directly and through Glacis's participant. Counts
 * come from V8's precise coverage (call counts per function), so nothing is patched or sampled.
 *
 *   node scripts/bench/dkg-profile.mjs [--suite ed25519] [--t 20] [--n 30] [--baseline DIST_INDEX_JS]
 */
import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { glacisOnePartyRun, oneParty } from './dkg-fixtures.mjs';

/** (file suffix, function name) → the label it is reported under. */
const COUNTED = [
  ['abstract/edwards.js', 'fromBytes', 'pointDecodes'],
  ['abstract/weierstrass.js', 'fromBytes', 'pointDecodes'],
  ['abstract/edwards.js', 'isTorsionFree', 'subgroupChecks'],
  ['abstract/curve.js', 'mulAddUnsafe', 'variableTimeMuls'],
  ['abstract/curve.js', 'wnafWalk', 'wnafWalks'],
  ['abstract/curve.js', 'pippenger', 'pippengerMsms'],
  ['abstract/curve.js', 'interleavedMSMUnsafe', 'interleavedTables'],
  ['abstract/curve.js', 'mulCT', 'constantTimeMuls'],
  ['abstract/curve.js', 'mulCTBlinded', 'constantTimeMuls'],
  ['abstract/frost.js', 'parsePoint', 'noble.parsePoint'],
  ['abstract/frost.js', 'msm', 'noble.vssMsm'],
  ['abstract/frost.js', 'validateSecretShare', 'noble.validateSecretShare'],
  ['abstract/frost.js', 'validate', 'noble.proofOfKnowledgeValidate'],
  ['src/suites.js', 'parseElement', 'glacis.parseElement'],
  ['dist/suites.js', 'parseElement', 'glacis.parseElement'],
];

function countsOf(coverage) {
  const out = {};
  for (const script of coverage.result) {
    for (const [suffix, fn, label] of COUNTED) {
      if (!script.url.endsWith(suffix)) continue;
      for (const f of script.functions) if (f.functionName === fn) out[label] = (out[label] ?? 0) + (f.ranges[0]?.count ?? 0);
    }
  }
  return out;
}

/** Runs `g` and returns what it returned plus the primitive counts of that run. */
async function counted(session, g) {
  await session.post('Profiler.takePreciseCoverage'); // resets the counters
  const value = g();
  const counts = countsOf(await session.post('Profiler.takePreciseCoverage'));
  return { value, counts };
}

/**
 * Primitive counts of one party's DKG (suite, t-of-n): noble's round 2 and round 3, and Glacis's
 * participant (whole party: round 1 to key share) for each `impls` entry ({ label: module }).
 */
export async function profileDkg({ suite = 'ed25519', t = 20, n = 30, impls = {} } = {}) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  try {
    const f = oneParty(suite, t, n);
    const { DKG } = f.suite.frost;
    const othersPublic = f.others.map((o) => o.r1.public);
    const me = DKG.round1(f.ids.get(f.measured), { min: t, max: n });
    const r2 = await counted(session, () => DKG.round2(me.secret, othersPublic));
    const received = f.others.map((o) => ({ identifier: f.ids.get(o.name), signingShare: o.shareToMeasured }));
    const r3 = await counted(session, () => DKG.round3(me.secret, othersPublic, received));
    const rows = [
      { impl: 'noble', part: 'round2', ...r2.counts },
      { impl: 'noble', part: 'round3', ...r3.counts },
    ];
    for (const [label, impl] of Object.entries(impls)) {
      const g = await counted(session, () => glacisOnePartyRun(f, impl));
      rows.push({ impl: label, part: 'whole party (incl. envelopes)', ...g.counts });
    }
    const labels = [...new Set(COUNTED.map((c) => c[2]))];
    return rows.map((r) => ({
      suite,
      t,
      n,
      ...Object.fromEntries([['impl', r.impl], ['part', r.part], ...labels.map((l) => [l, r[l] ?? 0])]),
    }));
  } finally {
    await session.post('Profiler.stopPreciseCoverage');
    session.disconnect();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { suite: { type: 'string' }, t: { type: 'string' }, n: { type: 'string' }, baseline: { type: 'string' } },
  });
  const impls = { glacis: await import('../../packages/protocol/dist/index.js') };
  if (values.baseline) impls.baseline = await import(pathToFileURL(values.baseline).href);
  const rows = await profileDkg({ suite: values.suite ?? 'ed25519', t: Number(values.t ?? 20), n: Number(values.n ?? 30), impls });
  console.table(rows);
}
