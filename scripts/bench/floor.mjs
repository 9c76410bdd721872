/**
 * The crypto floor, measured in the same run as the service: what @noble/curves alone needs per
 * signature (t × (commit + signShare) + aggregate), with no Glacis code, no transport, no storage.
 * Throughput floor = cores / CPU per signature; the latency floor is the critical path with
 * preprocessed commitments: one signShare (the signers work in parallel) + aggregate.
 */
import { availableParallelism } from 'node:os';
import { ed25519_FROST } from '@noble/curves/ed25519.js';
import { schnorr_FROST } from '@noble/curves/secp256k1.js';
import { median } from './stats.mjs';

const ENGINES = { ed25519: ed25519_FROST, 'secp256k1-tr': schnorr_FROST };

/** Per-operation CPU (ms) for a t-of-n key of `suite`, median of `reps` signatures. */
export function measureFloor(suite, t, n, reps = 30) {
  const frost = ENGINES[suite];
  const ids = Array.from({ length: n }, (_, i) => frost.Identifier.fromNumber(i + 1));
  const deal = frost.trustedDealer({ min: t, max: n }, ids);
  const signers = ids.slice(0, t);
  const msg = new Uint8Array(32).fill(7);
  const commitMs = [];
  const signMs = [];
  const aggMs = [];
  for (let r = 0; r < reps + 3; r++) {
    let t0 = performance.now();
    const nonces = signers.map((id) => frost.commit(deal.secretShares[id]));
    const commit = (performance.now() - t0) / t;
    const list = nonces.map((x) => x.commitments);
    t0 = performance.now();
    const shares = {};
    signers.forEach((id, i) => {
      shares[id] = frost.signShare(deal.secretShares[id], deal.public, nonces[i].nonces, list, msg);
    });
    const sign = (performance.now() - t0) / t;
    t0 = performance.now();
    frost.aggregate(deal.public, list, msg, shares);
    const agg = performance.now() - t0;
    if (r >= 3) {
      commitMs.push(commit);
      signMs.push(sign);
      aggMs.push(agg);
    }
  }
  const commit = median(commitMs);
  const signShare = median(signMs);
  const aggregate = median(aggMs);
  const cpuPerSignature = t * (commit + signShare) + aggregate;
  const cores = Math.min(2, availableParallelism());
  return {
    suite,
    t,
    n,
    commitMs: commit,
    signShareMs: signShare,
    aggregateMs: aggregate,
    cpuPerSignatureMs: cpuPerSignature,
    cores,
    floorSignaturesPerSecond: (1000 * cores) / cpuPerSignature,
    criticalPathMs: signShare + aggregate,
  };
}
