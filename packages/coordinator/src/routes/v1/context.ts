/** What every v1 route module receives: the services behind the API and the app's typed instance. */
import type { BitcoinNetwork } from '@glacis/protocol';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { CoordinatorMetrics } from '../../metrics.js';
import type { Orchestrator } from '../../orchestrator/types.js';
import type { InFlightCaps, Store } from '../../store/types.js';

/** A fastify instance whose routes are typed by their zod schemas. */
export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** The services and settings routes use. */
export interface RouteDeps {
  store: Store;
  orchestrator: Orchestrator;
  metrics: CoordinatorMetrics;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** A signing request's deadline is this long after it is accepted (or approved). */
  signingTimeoutMs: number;
  /** The deadline instead when the request needs an offline party's share (signing-deadline.ts). */
  offlineDeadlineMs?: number;
  /** A request awaiting approval fails (`approval_timeout`) this long after it was accepted. */
  approvalTimeoutMs: number;
  /** The chain the coordinator reads PSBT destinations for (its reading of the policy, for the desk). */
  bitcoinNetwork: BitcoinNetwork;
  /** Readiness needs at least this many connected parties. */
  minConnectedParties: number;
  /** Signing requests accepted but not settled, at most (then 429 capacity_exceeded). */
  signingCaps: InFlightCaps;
  /** Aborted when the app closes, so held `?wait=` requests answer at once. */
  shutdown: AbortSignal;
}

/**
 * Hands a persisted id to the orchestrator. The contract says it never throws; if it does anyway,
 * the request is already durable and answered, and restart recovery will pick it up.
 */
export function handOff(log: FastifyBaseLogger, what: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    log.error({ err, what }, 'orchestrator hand-off threw');
  }
}
