/**
 * Where one party's DKG time goes: exact call counts of the expensive primitives (point decodes,
 * prime-order subgroup checks, multi-scalar multiplications, other scalar multiplications) during
 * one party's DKG, per round, through noble's DKG directly and through Glacis's participant.
 * Counts come from V8's precise coverage (call counts per function): nothing is patched or sampled.
 * "msms" counts MSMs of any size (noble's VSS evaluations are t-point, Glacis's batch checks up to
 * 2(n−1)-point); envelope signatures go through OpenSSL (node:crypto) and are not counted.
 *
 *   node scripts/bench/dkg-profile.mjs [--suite ed25519] [--t 20] [--n 30] [--baseline DIST_INDEX_JS]
 */
import { Session } from 'node:inspector';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { primitiveCounts } from './coverage.mjs';
import { glacisOnePartyRun, oneParty } from './dkg-fixtures.mjs';

/** A synchronous inspector call (an in-process session answers before post returns). */
function post(session, method, params = {}) {
  let out;
  let error;
  session.post(method, params, (err, res) => {
    error = err;
    out = res;
  });
  if (error) throw error;
  return out;
}

const add = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, (a[k] ?? 0) + b[k]]));

/** A probe whose begin() / end() bracket the regions counted into `sink.counts`. */
function probeInto(session, sink) {
  return {
    begin: () => post(session, 'Profiler.takePreciseCoverage'), // resets the counters
    end: () => {
      sink.counts = add(sink.counts, primitiveCounts(post(session, 'Profiler.takePreciseCoverage')));
    },
  };
}

/** Counts of everything `g` runs. */
function counted(session, g) {
  const sink = { counts: {} };
  const probe = probeInto(session, sink);
  probe.begin();
  g();
  probe.end();
  return sink.counts;
}

/**
 * Primitive counts of one party's DKG (suite, t-of-n): noble's round 2 and round 3, and Glacis's
 * participant (its timed work only: round 1 to key share, envelopes included) for each `impls`
 * entry ({ label: module }).
 */
export function profileDkg({ suite = 'ed25519', t = 20, n = 30, impls = {} } = {}) {
  const session = new Session();
  session.connect();
  post(session, 'Profiler.enable');
  post(session, 'Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  try {
    const f = oneParty(suite, t, n);
    const { DKG } = f.suite.frost;
    const othersPublic = f.others.map((o) => o.r1.public);
    let me;
    const round1 = counted(session, () => {
      me = DKG.round1(f.ids.get(f.measured), { min: t, max: n });
    });
    const received = f.others.map((o) => ({ identifier: f.ids.get(o.name), signingShare: o.shareToMeasured }));
    const rows = [
      { impl: 'noble', part: 'round1', ...round1 },
      { impl: 'noble', part: 'round2', ...counted(session, () => DKG.round2(me.secret, othersPublic)) },
      { impl: 'noble', part: 'round3', ...counted(session, () => DKG.round3(me.secret, othersPublic, received)) },
    ];
    for (const [label, impl] of Object.entries(impls)) {
      // Only the timed regions count: the other parties' messages are made in between.
      const sink = { counts: {} };
      glacisOnePartyRun(f, impl, probeInto(session, sink));
      const counts = sink.counts;
      rows.push({ impl: label, part: 'whole party (round 1 to key share), envelopes included', ...counts });
    }
    return rows.map((r) => ({ suite, size: `${t}-of-${n}`, ...r }));
  } finally {
    post(session, 'Profiler.stopPreciseCoverage');
    session.disconnect();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { suite: { type: 'string' }, t: { type: 'string' }, n: { type: 'string' }, baseline: { type: 'string' } },
  });
  const impls = { glacis: await import('@glacis/protocol') };
  if (values.baseline) impls.baseline = await import(pathToFileURL(values.baseline).href);
  const rows = profileDkg({ suite: values.suite ?? 'ed25519', t: Number(values.t ?? 20), n: Number(values.n ?? 30), impls });
  console.table(rows);
}
