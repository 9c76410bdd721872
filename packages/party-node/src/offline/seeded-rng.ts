/**
 * A deterministic random stream from a secret seed, for the offline party's lifecycle sessions
 * (offline-lifecycle.ts): HMAC-SHA256 keyed by the seed in counter mode (NIST SP 800-108, the
 * PRF's output blocks concatenated), so one seed gives the same bytes in the same order in every
 * run, and nobody without the seed can tell them from random. A session's machine re-created with
 * it and fed the same inputs computes, byte for byte, what it computed before.
 *
 * Never for a signing nonce: a nonce made again after a crash could sign a second, different
 * package. The successor test nonce comes from the real rng and is sealed at rest instead.
 */
import { createHmac } from 'node:crypto';
import type { Rng } from '@glacis/protocol';

/** Bytes of a session seed. */
export const SEED_BYTES = 32;

export function seededRng(seed: Uint8Array, label: string): Rng {
  if (seed.length !== SEED_BYTES) throw new RangeError(`seed: ${SEED_BYTES} bytes`);
  const key = Buffer.from(seed);
  const domain = Buffer.from(`glacis/seeded-rng/v1:${label}\0`);
  let counter = 0n;
  let pending = Buffer.alloc(0);
  return (n = 32) => {
    while (pending.length < n) {
      const block = Buffer.alloc(8);
      block.writeBigUInt64BE(counter++);
      pending = Buffer.concat([pending, createHmac('sha256', key).update(domain).update(block).digest()]);
    }
    const out = new Uint8Array(n);
    out.set(pending.subarray(0, n));
    pending = pending.subarray(n);
    return out;
  };
}
