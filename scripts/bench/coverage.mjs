/**
 * Exact call counts of the expensive primitives, from V8's precise coverage (call counts per
 * function): nothing is patched or sampled. `primitiveCounts` reads one coverage snapshot (taken
 * in this process by dkg-profile.mjs, or in a service process over its inspector by
 * `startCallCounts`), so "nothing on the signing path decodes the same bytes twice" is a count per
 * signature, not a guess.
 */
import { connectInspector } from './profiler.mjs';

/** (file suffix, function name) → the raw counter it adds to. */
const COUNTED = [
  ['abstract/edwards.js', 'fromBytes', 'decodes'],
  ['abstract/weierstrass.js', 'fromBytes', 'decodes'],
  ['fast/secp256k1-arith.js', 'decodeCompressed', 'decodes'],
  ['abstract/edwards.js', 'isTorsionFree', 'torsion'],
  ['fast/prime-order.js', 'isInPrimeOrderSubgroup', 'halving'],
  ['abstract/curve.js', 'mulAddUnsafe', 'mulAdd'],
  ['abstract/curve.js', 'wnafWalk', 'walks'],
  ['abstract/curve.js', 'mulCT', 'ct'],
  ['abstract/curve.js', 'mulCTBlinded', 'ct'],
  // secp256k1's own MSM is reached through fast/group.js msm (glacisMsm) without mulAddUnsafe.
  ['fast/secp256k1-msm.js', 'secp256k1Msm', 'ownMsm'],
  ['fast/secp256k1-fixed.js', 'mulFixedPublic', 'tableMul'],
  ['fast/secp256k1-fixed.js', 'secp256k1MulBase', 'ct'],
  ['abstract/frost.js', 'msm', 'nobleMsm'],
  ['fast/group.js', 'msm', 'glacisMsm'],
  // Builds from before the fast/ folder (a --baseline dist).
  ['dist/group-ops.js', 'msmPublic', 'glacisMsm'],
  ['wire/envelope.js', 'openEnvelope', 'opened'],
  ['wire/envelope.js', 'seal', 'sealed'],
  ['dist/identity.js', 'opensslAcceptsIdentitySignature', 'verifyFast'],
  ['abstract/edwards.js', 'verify', 'verifyNoble'],
];

function rawCounts(coverage) {
  const out = Object.fromEntries(COUNTED.map(([, , key]) => [key, 0]));
  for (const script of coverage.result) {
    for (const [suffix, fn, key] of COUNTED) {
      if (!script.url.endsWith(suffix)) continue;
      for (const f of script.functions) if (f.functionName === fn) out[key] += f.ranges[0]?.count ?? 0;
    }
  }
  return out;
}

/**
 * The reported columns. mulAddUnsafe serves noble's subgroup checks (a multiplication by the group
 * order), single variable-time multiplications and MSMs alike; MSMs over shared tables walk
 * without it. Glacis's halving check multiplies nothing. Envelope signatures are made and checked
 * by OpenSSL (node:crypto): counted as envelopes, with `nobleVerifies` the refusals noble confirmed.
 */
export function primitiveCounts(coverage, { envelopes = false } = {}) {
  const c = rawCounts(coverage);
  const tableMsms = c.walks - c.mulAdd;
  const counts = {
    pointDecodes: c.decodes,
    subgroupChecks: c.torsion + c.halving,
    msms: c.nobleMsm + c.glacisMsm + tableMsms,
    otherVariableTimeMuls: c.mulAdd - c.torsion - c.nobleMsm - (c.glacisMsm - c.ownMsm) + c.tableMul,
    constantTimeMuls: c.ct,
  };
  if (envelopes) Object.assign(counts, { envelopesOpened: c.opened, envelopesSealed: c.sealed, nobleVerifies: c.verifyNoble });
  return counts;
}

/**
 * Starts call counting in every process of `urls` (`{ role: inspectorUrl }`). `stop()` resolves
 * with `{ role: coverage }`. Coverage keeps functions from being optimised away: count in a window
 * of its own, never in a timed one.
 */
export async function startCallCounts(urls) {
  const sessions = {};
  for (const [role, url] of Object.entries(urls)) {
    const s = await connectInspector(url);
    await s.call('Profiler.enable');
    await s.call('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
    await s.call('Profiler.takePreciseCoverage'); // resets the counters
    sessions[role] = s;
  }
  return {
    async stop() {
      const out = {};
      for (const [role, s] of Object.entries(sessions)) {
        out[role] = await s.call('Profiler.takePreciseCoverage');
        await s.call('Profiler.stopPreciseCoverage');
        await s.call('Profiler.disable');
        s.close();
      }
      return out;
    },
  };
}

/** `{ role: coverage }` → `{ role: primitive counts per signature }`. */
export function countCalls(coverages, signatures) {
  return Object.fromEntries(
    Object.entries(coverages).map(([role, cov]) => [
      role,
      Object.fromEntries(Object.entries(primitiveCounts(cov, { envelopes: true })).map(([k, v]) => [k, v / Math.max(1, signatures)])),
    ]),
  );
}
