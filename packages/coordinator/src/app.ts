/**
 * The coordinator's HTTP application: every endpoint of API.md on a fastify instance that does not
 * listen. A server wraps it with `listen` and the WebSocket relay; tests drive it with inject().
 */
import { randomUUID } from 'node:crypto';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import {
  createJsonSchemaTransform,
  createJsonSchemaTransformObject,
  serializerCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { CoordinatorConfig } from './config.js';
import type { CoordinatorMetrics } from './metrics.js';
import type { Orchestrator } from './orchestrator/types.js';
import { installAuth } from './plugins/auth.js';
import { type ConsoleFiles, installConsole } from './plugins/console.js';
import { installJsonBodyParser } from './plugins/json-body.js';
import { clientErrorHandler, frameworkErrors, installProblemHandlers } from './plugins/problem.js';
import { rateLimitOptions } from './plugins/rate-limit.js';
import { fastifyHelmet, securityHeaderOptions } from './plugins/security-headers.js';
import { validatorCompiler } from './plugins/validation.js';
import { approvalRoutes } from './routes/v1/approvals.js';
import type { RouteDeps, ZodApp } from './routes/v1/context.js';
import { keyRoutes } from './routes/v1/keys.js';
import { offlineRoutes } from './routes/v1/offline.js';
import { operationRoutes } from './routes/v1/operations.js';
import { policyRoutes } from './routes/v1/policy.js';
import { apiRegistry } from './routes/v1/schemas.js';
import { signatureRoutes } from './routes/v1/signatures.js';
import { pruneComponents, systemRoutes } from './routes/v1/system.js';
import type { Store } from './store/types.js';

/** The settings buildApp reads from the configuration. */
export type AppSettings = Pick<
  CoordinatorConfig,
  | 'bodyLimitBytes'
  | 'requestTimeoutMs'
  | 'keepAliveTimeoutMs'
  | 'signingTimeoutMs'
  | 'approvalTimeoutMs'
  | 'bitcoinNetwork'
  | 'minConnectedParties'
  | 'rateLimit'
  | 'maxSigningInFlight'
  | 'maxSigningInFlightPerKey'
> &
  Partial<Pick<CoordinatorConfig, 'offlineDeadlineMs'>>;

/** What buildApp needs. */
export interface AppOptions {
  config: AppSettings;
  store: Store;
  orchestrator: Orchestrator;
  logger: Logger;
  metrics: CoordinatorMetrics;
  /** Clock for createdAt and deadlines (ms since the epoch). */
  now?: () => number;
  /** Serve over TLS with this certificate chain and key (PEM); plain HTTP without. */
  https?: { cert: Buffer; key: Buffer };
  /** The console's static files (plugins/console.ts), served under /console/; no console without. */
  console?: ConsoleFiles;
}

/** The coordinator's fastify instance. */
export type CoordinatorApp = ZodApp;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Builds the app without listening. The caller owns the store and orchestrator and closes them. */
export function buildApp(options: AppOptions): CoordinatorApp {
  const { config, store, orchestrator, metrics } = options;
  // Typed as fastify's base logger so route types stay independent of pino's generics.
  const loggerInstance: FastifyBaseLogger = options.logger;
  // With `https` the raw server is an https.Server; everything this app touches of it (listen,
  // address, the upgrade event) is shared with http.Server, so the app keeps one type.
  const tls = options.https ? { https: { cert: options.https.cert, key: options.https.key, minVersion: 'TLSv1.2' as const } } : {};
  const fastify = Fastify({
    ...tls,
    loggerInstance,
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // Ids up to 128 chars must reach the handler (and its 404); longer ones 404 at the router.
    routerOptions: { maxParamLength: 200 },
    // A caller's request id is kept if it is harmless in a log line; otherwise we make one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    frameworkErrors,
    clientErrorHandler,
    return503OnClosing: true,
  });
  const app: CoordinatorApp = fastify.withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body is 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');
  installJsonBodyParser(app);
  installProblemHandlers(app);

  const shutdown = new AbortController();
  app.addHook('preClose', async () => shutdown.abort());
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequestDuration.observe({ route, method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  // Every answer, API and console alike, carries the security headers and the console's CSP.
  void app.register(fastifyHelmet, securityHeaderOptions(options.https !== undefined));
  // Before the routes, so its onRoute hook limits every one of them (see plugins/rate-limit.ts).
  void app.register(fastifyRateLimit, rateLimitOptions(config.rateLimit));
  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Glacis REST API', version: '1.0.0', description: 'FROST threshold signing for custody (API.md).' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    transform: createJsonSchemaTransform({ schemaRegistry: apiRegistry }),
    transformObject: createJsonSchemaTransformObject({ schemaRegistry: apiRegistry }),
  });

  const deps: RouteDeps = {
    store,
    orchestrator,
    metrics,
    now: options.now ?? Date.now,
    signingTimeoutMs: config.signingTimeoutMs,
    approvalTimeoutMs: config.approvalTimeoutMs,
    ...(config.offlineDeadlineMs === undefined ? {} : { offlineDeadlineMs: config.offlineDeadlineMs }),
    bitcoinNetwork: config.bitcoinNetwork,
    minConnectedParties: config.minConnectedParties,
    signingCaps: { maxInFlight: config.maxSigningInFlight, maxInFlightPerKey: config.maxSigningInFlightPerKey },
    shutdown: shutdown.signal,
  };
  void app.register(async (api) => {
    // Inside the routes' context, so it runs after helmet's hook: a 401 or 403 carries the
    // security headers too.
    installAuth(api, store);
    systemRoutes(api, deps, () => pruneComponents(app.swagger()));
    keyRoutes(api, deps);
    signatureRoutes(api, deps);
    approvalRoutes(api, deps);
    policyRoutes(api, deps);
    offlineRoutes(api, deps);
    operationRoutes(api, deps);
    if (options.console) installConsole(api, options.console);
  });
  return app;
}
