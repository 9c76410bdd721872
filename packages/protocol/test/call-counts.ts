/**
 * Exact call counts of named functions while `run` runs, from V8's precise coverage through an
 * in-process inspector session: nothing is patched (noble's classes are frozen) and nothing is
 * sampled. Used to show that a code path decodes each point once.
 */
import { Session } from 'node:inspector';

/** A function to count: the end of its script's URL and its name. */
export type CountedFunction = readonly [urlSuffix: string, functionName: string];

type Coverage = { result: { url: string; functions: { functionName: string; ranges: { count: number }[] }[] }[] };

function post<T>(session: Session, method: string, params: object = {}): T {
  let out: T | undefined;
  let error: Error | null = null;
  // An in-process session answers before post() returns.
  session.post(method, params, (err, res) => {
    error = err;
    out = res as T;
  });
  if (error) throw error;
  return out as T;
}

/** How often each of `targets` was called during `run` (summed over every script that matches), in their order. */
export function countCalls<const T extends readonly CountedFunction[]>(targets: T, run: () => void): { [K in keyof T]: number } {
  const session = new Session();
  session.connect();
  try {
    post(session, 'Profiler.enable');
    post(session, 'Profiler.startPreciseCoverage', { callCount: true, detailed: false });
    post(session, 'Profiler.takePreciseCoverage'); // resets the counters
    run();
    const coverage = post<Coverage>(session, 'Profiler.takePreciseCoverage');
    const counts = targets.map(([suffix, name]) =>
      coverage.result
        .filter((s) => s.url.endsWith(suffix) || s.url.endsWith(`${suffix}.ts`) || s.url.endsWith(`${suffix}.js`))
        .flatMap((s) => s.functions.filter((f) => f.functionName === name))
        .reduce((n, f) => n + (f.ranges[0]?.count ?? 0), 0),
    );
    // map keeps the tuple's length, which Array.prototype.map's type does not say.
    return counts as { [K in keyof T]: number };
  } finally {
    post(session, 'Profiler.stopPreciseCoverage');
    session.disconnect();
  }
}

/** noble's Edwards point decoder (ed25519, ed448; ristretto255 decodes through it too). */
export const EDWARDS_DECODE: CountedFunction = ['abstract/edwards.js', 'fromBytes'];
/** Every point decoder: noble's `fromBytes` of an Edwards or Weierstrass point, Glacis's secp256k1 one. */
export const POINT_DECODES: readonly [CountedFunction, CountedFunction, CountedFunction] = [
  EDWARDS_DECODE,
  ['abstract/weierstrass.js', 'fromBytes'],
  ['secp256k1-arith', 'decodeCompressed'],
];
/** Glacis's halving subgroup check (its script is the TS source under vitest, the JS in dist). */
export const PRIME_ORDER_CHECK: CountedFunction = ['prime-order', 'isInPrimeOrderSubgroup'];
