/**
 * Prometheus metrics on a per-app Registry (never prom-client's global one, so tests can build
 * many apps in one process). The HTTP layer records request latencies; the orchestrator reports
 * session outcomes, connections and exclusions through the OrchestratorMetrics port.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { createLatencyHistory, type LatencyHistory } from './latency-history.js';
import type { OrchestratorMetrics } from './orchestrator/ports.js';

/** Every metric the coordinator exports, and the port the orchestrator reports through. */
export interface CoordinatorMetrics {
  readonly registry: Registry;
  /** glacis_http_request_duration_seconds{route,method,status}. */
  readonly httpRequestDuration: Histogram<'route' | 'method' | 'status'>;
  /** glacis_dkg_sessions_total{outcome}. */
  readonly dkgSessions: Counter<'outcome'>;
  /** glacis_signing_sessions_total{outcome}. */
  readonly signingSessions: Counter<'outcome'>;
  /** glacis_connected_parties. */
  readonly connectedParties: Gauge;
  /** glacis_session_duration_seconds{kind}. */
  readonly sessionDuration: Histogram<'kind'>;
  /** glacis_ws_rejected_total{reason}. */
  readonly wsRejected: Counter<'reason'>;
  /** glacis_party_exclusions_total{party}. */
  readonly partyExclusions: Counter<'party'>;
  /** glacis_party_connected{party} (set at scrape time). */
  readonly partyConnected: Gauge<'party'>;
  /** glacis_party_ready{party}: in-flight requests holding a fresh commitment of the party (scrape time). */
  readonly partyReady: Gauge<'party'>;
  /** glacis_party_sign_latency_seconds{party}: signing package sent → share received. */
  readonly partyLatency: Histogram<'party'>;
  /** glacis_roast_sessions_total: ROAST sessions started (one a signature on the happy path; more are redundant or replace a stalled one). */
  readonly roastSessions: Counter;
  /** glacis_signature_shares_total{party}: signature share messages received, late ones included (the signing work parties did). */
  readonly signatureShares: Counter<'party'>;
  /** The same observations per party and minute over the last hour (`GET /v1/latency`). */
  readonly latencyHistory: LatencyHistory;
  /** glacis_lifecycle_operations_total{type,outcome}: refreshes, repairs, reshares and drills settled. */
  readonly lifecycleOperations: Counter<'type' | 'outcome'>;
  /** glacis_drill_last_success_timestamp_seconds{party,key}: when the party last proved its share of the key. */
  readonly drillLastSuccess: Gauge<'party' | 'key'>;
  /** The orchestrator's view of the above. */
  readonly orchestrator: OrchestratorMetrics;
}

/** Options of createMetrics. */
export interface MetricsOptions {
  /** Also export process metrics (CPU, memory, event loop); off in tests to keep them fast. */
  processMetrics?: boolean;
  /** The clock that stamps latency observations for `latencyHistory` (ms since the epoch; default Date.now). */
  now?: () => number;
}

/** A fresh Registry with every coordinator metric registered on it. */
export function createMetrics(options: MetricsOptions = {}): CoordinatorMetrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'glacis_' });
  const registers = [registry];

  const httpRequestDuration = new Histogram({
    name: 'glacis_http_request_duration_seconds',
    help: 'HTTP request latency by route template, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    // Up to 30 s because ?wait= holds requests that long by design.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const dkgSessions = new Counter({
    name: 'glacis_dkg_sessions_total',
    help: 'DKG sessions by outcome',
    labelNames: ['outcome'] as const,
    registers,
  });
  const signingSessions = new Counter({
    name: 'glacis_signing_sessions_total',
    help: 'Signing requests settled, by outcome',
    labelNames: ['outcome'] as const,
    registers,
  });
  const connectedParties = new Gauge({
    name: 'glacis_connected_parties',
    help: 'Parties with a live authenticated connection',
    registers,
  });
  const sessionDuration = new Histogram({
    name: 'glacis_session_duration_seconds',
    help: 'Time from start to settle of DKG and signing sessions',
    labelNames: ['kind'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers,
  });
  const wsRejected = new Counter({
    name: 'glacis_ws_rejected_total',
    help: 'Party WebSocket connections refused, by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  const partyExclusions = new Counter({
    name: 'glacis_party_exclusions_total',
    help: 'Parties excluded from a signing request (invalid share or commitment, or a refusal)',
    labelNames: ['party'] as const,
    registers,
  });

  const partyConnected = new Gauge({
    name: 'glacis_party_connected',
    help: 'Whether the party has a live authenticated connection (1) or not (0)',
    labelNames: ['party'] as const,
    registers,
  });
  const partyReady = new Gauge({
    name: 'glacis_party_ready',
    help: 'In-flight signing requests holding a fresh commitment of the party',
    labelNames: ['party'] as const,
    registers,
  });
  const partyLatency = new Histogram({
    name: 'glacis_party_sign_latency_seconds',
    help: 'Time from a signing package sent to the party until its share arrived',
    labelNames: ['party'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  const roastSessions = new Counter({
    name: 'glacis_roast_sessions_total',
    help: 'ROAST sessions started (each sends a signing package to t signers)',
    registers,
  });
  const signatureShares = new Counter({
    name: 'glacis_signature_shares_total',
    help: 'Signature share messages received, by party (shares for a session or request already ended included)',
    labelNames: ['party'] as const,
    registers,
  });

  const latencyHistory = createLatencyHistory();
  const now = options.now ?? Date.now;

  const lifecycleOperations = new Counter({
    name: 'glacis_lifecycle_operations_total',
    help: 'Key lifecycle operations settled (refresh, repair, reshare, drill), by type and outcome',
    labelNames: ['type', 'outcome'] as const,
    registers,
  });
  const drillLastSuccess = new Gauge({
    name: 'glacis_drill_last_success_timestamp_seconds',
    help: 'Unix time at which the party last proved its share of the key intact in a drill (alert when it grows old)',
    labelNames: ['party', 'key'] as const,
    registers,
  });

  const orchestrator: OrchestratorMetrics = {
    sessionEnded(kind, outcome, seconds) {
      (kind === 'dkg' ? dkgSessions : signingSessions).inc({ outcome });
      sessionDuration.observe({ kind }, seconds);
    },
    connectedParties: (count) => connectedParties.set(count),
    wsRejected: (reason) => wsRejected.inc({ reason }),
    partyExcluded: (party) => partyExclusions.inc({ party }),
    partyLatency: (party, seconds) => {
      partyLatency.observe({ party }, seconds);
      latencyHistory.record(party, seconds * 1000, now());
    },
    signingSessionStarted: () => roastSessions.inc(),
    signatureShareReceived: (party) => signatureShares.inc({ party }),
    lifecycleEnded: (type, outcome) => lifecycleOperations.inc({ type, outcome }),
    drillProved: (key, party, at) => drillLastSuccess.set({ party, key }, Math.floor(at / 1000)),
  };

  return Object.freeze({
    registry,
    httpRequestDuration,
    dkgSessions,
    signingSessions,
    connectedParties,
    sessionDuration,
    wsRejected,
    partyExclusions,
    partyConnected,
    partyReady,
    partyLatency,
    roastSessions,
    signatureShares,
    latencyHistory,
    lifecycleOperations,
    drillLastSuccess,
    orchestrator,
  });
}
