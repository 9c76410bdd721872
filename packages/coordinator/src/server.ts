/**
 * A running coordinator: store, orchestrator (party links), HTTP app and listener, wired from a
 * configuration. The CLI, `npm start` and the containers all start the coordinator through here.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { type AppSettings, buildApp, type CoordinatorApp } from './app.js';
import { type CoordinatorConfig, offlinePartyIds, partyKeys } from './config.js';
import { coordinatorCrashPoints } from './crash-points.js';
import { loadIdentityFile } from './identity-file.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createAggregationPool, defaultAggregationWorkers } from './orchestrator/aggregation-pool.js';
import { createOrchestrator, type RunningOrchestrator, type TransportFaults } from './orchestrator/orchestrator.js';
import { type ConsoleFiles, consolePackageDir, loadConsoleFiles } from './plugins/console.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/types.js';
import { loadTlsFiles } from './tls.js';
import { installTokens } from './tokens.js';

export interface RunningCoordinator {
  app: CoordinatorApp;
  store: Store;
  orchestrator: RunningOrchestrator;
  port: number;
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Appends every envelope sent to or received from a party to this JSONL file (public data only). */
  wireLog?: string;
}

/** A wire log for tests and incident analysis: public traffic only (round-2 shares are ciphertext). */
function wireLogFaults(path: string): TransportFaults {
  const write = (dir: 'in' | 'out', party: string, envelope: unknown) =>
    appendFileSync(path, `${JSON.stringify({ dir, party, envelope })}\n`);
  return {
    outbound(partyId, env) {
      write('out', partyId, env);
      return [env];
    },
    inbound(partyId, _msg, env) {
      write('in', partyId, env);
      return true;
    },
  };
}

/** The console's files, or undefined (logged) when the package is missing: the API runs without it. */
function loadConsole(logger: ReturnType<typeof createLogger>): ConsoleFiles | undefined {
  const dir = consolePackageDir();
  try {
    if (dir === undefined) throw new Error('@glacis/console is not installed');
    return loadConsoleFiles(dir);
  } catch (err) {
    logger.warn({ err }, 'the console is not served');
    return undefined;
  }
}

export async function startCoordinator(config: CoordinatorConfig, opts: ServerOptions = {}): Promise<RunningCoordinator> {
  const logger = createLogger({ level: config.logLevel });
  const identity = loadIdentityFile(config.identitySeedPath);
  const { store, shared } = await openStore(config);
  const revoked = await installTokens(store, config.tokens);
  if (revoked.length > 0) logger.warn({ names: revoked }, 'tokens no longer in the configuration were revoked');
  const metrics = createMetrics({ processMetrics: true });
  const workers = config.aggregationWorkers ?? defaultAggregationWorkers();
  const aggregation = workers > 0 ? createAggregationPool(workers) : null;
  const orchestrator = createOrchestrator({
    identity,
    parties: partyKeys(config),
    offlineParties: offlinePartyIds(config),
    offlineDeadlineMs: config.offlineDeadlineMs,
    store,
    logger,
    metrics: metrics.orchestrator,
    dkgTimeoutMs: config.dkgTimeoutMs,
    requestTimeoutMs: config.signingTimeoutMs,
    lifecycleTimeoutMs: config.lifecycleTimeoutMs,
    drillTimeoutMs: config.drillTimeoutMs,
    autoRepair: (keyId) => config.autoRepair || config.autoRepairKeys.includes(keyId),
    crash: coordinatorCrashPoints(process.env.GLACIS_TEST_CRASH_POINTS),
    bitcoinNetwork: config.bitcoinNetwork,
    connectionLimits: { maxUnauthenticated: config.maxUnauthenticatedSockets, maxPreAuthBytes: config.maxPreAuthBytes },
    ...(opts.wireLog ? { faults: wireLogFaults(opts.wireLog) } : {}),
    // SQLite: this process alone uses the file. PostgreSQL: other instances may share the database.
    leases: { ttlMs: config.leaseTtlMs, exclusive: !shared },
    ...(aggregation ? { aggregate: aggregation.run } : {}),
  });
  const settings: AppSettings = config;
  const https = loadTlsFiles(config);
  const consoleFiles = loadConsole(logger);
  const app = buildApp({
    config: settings,
    store,
    orchestrator,
    logger,
    metrics,
    ...(https ? { https } : {}),
    ...(consoleFiles ? { console: consoleFiles } : {}),
  });
  orchestrator.attach(app.server);
  // Before listening: a key created through the new listener must not be taken for one an
  // earlier life left pending. Accepted requests of that life are finished (fresh nonces).
  await orchestrator.recover();
  await app.listen({ host: config.host, port: config.port });
  const port = (app.server.address() as AddressInfo).port;
  logger.info(
    {
      host: config.host,
      port,
      tls: https !== null,
      parties: config.parties.length,
      store: shared ? 'postgres' : 'sqlite',
      instance: orchestrator.instanceId,
      aggregationWorkers: workers,
    },
    'coordinator listening',
  );
  if (config.portFile) writeFileSync(config.portFile, `${port}\n`);
  return {
    app,
    store,
    orchestrator,
    port,
    async close() {
      await orchestrator.close();
      await app.close();
      await aggregation?.close();
      await store.close();
    },
  };
}
