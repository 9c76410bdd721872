/**
 * @glacis/protocol/internal — the fast path's session API (fast/index.ts), for the benchmark
 * (scripts/bench/protocol.mjs) and nothing else. Production code drives the state machines of the
 * main entry point (createSigner, createAggregator, createRoastCoordinator), which use it inside;
 * this path carries no compatibility promise.
 */
export {
  type AggregateOutcome,
  PRECOMPUTE_AFTER,
  type PreparedKey,
  prepareKey,
  preparePublicKeyPackage,
  prepareSession,
  prepareSignerSecret,
  type ShareScalars,
  type SignerCommitment,
  type SigningSession,
} from './fast/index.js';
