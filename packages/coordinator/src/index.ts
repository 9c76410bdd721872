/**
 * @glacis/coordinator — the REST API, persistence and orchestration of a Glacis coordinator.
 * Explicit named exports only; the WebSocket relay and orchestrator live in ./orchestrator.
 */
export { type AppOptions, type AppSettings, buildApp, type CoordinatorApp } from './app.js';
export { normalizeAuditData } from './audit.js';
export {
  CONFIG_FILE,
  type ConfigFile,
  type CoordinatorConfig,
  configFileSchema,
  loadConfig,
  parseConfig,
  partyKeys,
  writeConfigFile,
} from './config.js';
export { CoordinatorError, ERROR_STATUS, type ErrorCode, isCoordinatorError } from './errors.js';
export { createLogger, type LoggerSettings, redactSecrets } from './logger.js';
export { type CoordinatorMetrics, createMetrics, type MetricsOptions } from './metrics.js';
export {
  type AggregationPool,
  createAggregationPool,
  defaultAggregationWorkers,
} from './orchestrator/aggregation-pool.js';
export { createOrchestrator, type LeaseSettings, type OrchestratorOptions, type RunningOrchestrator } from './orchestrator/orchestrator.js';
export { parseSessionId, type SessionRef } from './orchestrator/session-id.js';
export {
  createSigningMachine,
  type SigningAction,
  type SigningInput,
  type SigningMachine,
  type SigningMachineOptions,
} from './orchestrator/signing-machine.js';
export type { Orchestrator, PartyStatus } from './orchestrator/types.js';
export { type OpenedStore, openStore } from './store/open-store.js';
export { openPostgresStore, type PostgresStoreOptions } from './store/pg-store.js';
export { openSqliteStore, type SqliteStoreOptions } from './store/sqlite-store.js';
export type {
  AuditEvent,
  ErrorInfo,
  KeyRecord,
  Lease,
  LeaseFence,
  OperationRecord,
  Page,
  PageRequest,
  Role,
  SignatureRecord,
  Store,
  TokenRecord,
  WorkKind,
} from './store/types.js';
export { type ConfiguredToken, generateToken, hashToken, installTokens, issueToken, ROLES } from './tokens.js';
