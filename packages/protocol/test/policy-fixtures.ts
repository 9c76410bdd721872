/**
 * Shared material for policy tests: deterministic approver and admin identities, addresses, fact
 * builders, and a policy builder that goes through `parsePolicy` (so every fixture is a document a
 * party would accept).
 */
import { type IdentityKey, identityFromSeed, type Policy, type PolicyFacts, parsePolicy, toHex } from '../src/index.js';

/** Identity number `n` (1..255), the same in every run. */
export function person(n: number): IdentityKey {
  return identityFromSeed(new Uint8Array(32).fill(n));
}
export const keyOf = (n: number) => toHex(person(n).publicKey);

/** Mainnet addresses from the BIP-173/BIP-350 examples and a base58 one (case-sensitive). */
export const ADDR = {
  exchange: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4',
  cold: 'bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0',
  payroll: 'bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3',
  sanctioned: '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2',
} as const;

/** A parsed policy from a plain object (version 1 unless given). */
export function policy(doc: Record<string, unknown>): Policy {
  return parsePolicy({ version: 1, ...doc });
}

/** Facts of a PSBT spend from `keyId` paying `to` (address → sats), with `fee`. */
export function spend(
  to: readonly (readonly [string | null, bigint])[],
  opts: { keyId?: string; label?: string | null; fee?: bigint } = {},
): PolicyFacts {
  const destinations = to.map(([address, amount]) => ({ address, amount }));
  return {
    keyId: opts.keyId ?? 'key-hot',
    keyLabel: opts.label === undefined ? 'hot-wallet' : opts.label,
    intentType: 'bitcoin-psbt',
    destinations,
    amount: destinations.reduce((s, d) => s + d.amount, 0n),
    fee: opts.fee ?? 1_000n,
  };
}

/** Facts of a raw-bytes request from `keyId`. */
export function raw(opts: { keyId?: string; label?: string | null } = {}): PolicyFacts {
  return { keyId: opts.keyId ?? 'key-hot', keyLabel: opts.label === undefined ? 'hot-wallet' : opts.label, intentType: 'raw' };
}

export const BTC = 100_000_000n;
export const HOUR = 3_600_000;
/** Friday 2024-01-05 12:00 UTC. */
export const NOON_FRIDAY = Date.UTC(2024, 0, 5, 12);
