/**
 * Operational endpoints: health, metrics, the OpenAPI document, parties, their signing latency
 * over the last hour and the audit log.
 *
 * Readiness: ready when the store answers AND at least `minConnectedParties` parties (default 0,
 * capped at the number configured) are connected. Parties connect to a running coordinator, so
 * requiring them for readiness by default would deadlock an orchestrator that starts parties only
 * once the coordinator is ready; a signing request is accepted without them anyway. `status` says
 * `ok` (all parties connected), `degraded` (ready, some missing) or `unavailable` (503).
 */
import { z } from 'zod';
import type { RouteDeps, ZodApp } from './context.js';
import { auditListSchema, healthSchema, latencySummarySchema, pageQuery, partyListSchema200, problems } from './schemas.js';

const security = [{ bearerAuth: [] }];
// Sent as text; these describe the success bodies in the document, no serializer runs for them.
const metricsText = z.string().describe('Prometheus text exposition format');
const openApiDocument = z.unknown().describe('an OpenAPI 3.1 document');

/** The health body and whether the coordinator is ready. */
export async function healthOf(deps: Pick<RouteDeps, 'store' | 'orchestrator' | 'minConnectedParties'>): Promise<{
  ready: boolean;
  body: z.output<typeof healthSchema>;
}> {
  const parties = deps.orchestrator.parties();
  const known = parties.length;
  const connected = parties.filter((p) => p.connected).length;
  const storeOk = await deps.store.ping();
  const ready = storeOk && connected >= Math.min(deps.minConnectedParties, known);
  const status = !ready ? 'unavailable' : connected < known ? 'degraded' : 'ok';
  return { ready, body: { status, parties: { connected, known } } };
}

/** Registers health, metrics, openapi, parties, latency and audit routes. */
export function systemRoutes(app: ZodApp, deps: RouteDeps, openapi: () => unknown): void {
  const { store, orchestrator, metrics } = deps;

  app.get(
    '/v1/health',
    { schema: { summary: 'Liveness and readiness', response: { 200: healthSchema, ...problems(), 503: healthSchema } } },
    async (_request, reply) => {
      const { ready, body } = await healthOf(deps);
      return reply.code(ready ? 200 : 503).send(body);
    },
  );

  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics (text format)', response: { 200: metricsText, ...problems() } } },
    async (_request, reply) => {
      // The gauge is read from the source of truth at scrape time rather than trusted to events.
      const parties = orchestrator.parties();
      metrics.connectedParties.set(parties.filter((p) => p.connected).length);
      for (const p of parties) {
        metrics.partyConnected.set({ party: p.partyId }, p.connected ? 1 : 0);
        metrics.partyReady.set({ party: p.partyId }, p.ready);
      }
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );

  app.get(
    '/v1/openapi.json',
    { schema: { summary: 'This OpenAPI document', response: { 200: openApiDocument, ...problems() } } },
    async (_request, reply) => {
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(openapi()));
    },
  );

  app.get(
    '/v1/parties',
    {
      config: { roles: ['admin', 'auditor'] },
      schema: {
        summary: 'Configured parties and their connections',
        security,
        response: { 200: partyListSchema200, ...problems(401, 403) },
      },
    },
    async () => ({
      parties: orchestrator.parties().map(({ policy, ...p }) => ({ ...p, policyVersion: policy?.version ?? null })),
    }),
  );

  app.get(
    '/v1/latency',
    {
      config: { roles: ['admin', 'auditor'] },
      schema: {
        summary: "Each party's signing latency per minute over the last hour",
        security,
        response: { 200: latencySummarySchema, ...problems(401, 403) },
      },
    },
    async () => {
      const history = metrics.latencyHistory;
      const now = deps.now();
      return {
        windowSeconds: (history.bucketMs * history.buckets) / 1000,
        bucketSeconds: history.bucketMs / 1000,
        parties: orchestrator.parties().map(({ partyId }) => ({
          partyId,
          buckets: history.of(partyId, now).map((b) => ({
            start: new Date(b.startMs).toISOString(),
            count: b.count,
            meanMs: b.meanMs,
            maxMs: b.maxMs,
          })),
        })),
      };
    },
  );

  app.get(
    '/v1/audit',
    {
      config: { roles: ['admin', 'auditor'] },
      schema: {
        summary: 'The hash-chained audit log, oldest first',
        security,
        querystring: pageQuery,
        response: { 200: auditListSchema, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const page = await store.listAudit({ limit: request.query.limit, cursor: request.query.cursor ?? null });
      return { events: page.items, nextCursor: page.nextCursor };
    },
  );
}

/**
 * Drops component schemas nothing references. The zod transform emits an input and an output
 * variant of every registered schema; only the variants the routes use belong in the document.
 */
export function pruneComponents<T>(doc: T): T {
  const d = doc as { components?: { schemas?: Record<string, unknown> } };
  const schemas = d.components?.schemas;
  if (!schemas) return doc;
  const text = JSON.stringify({ ...d, components: { ...d.components, schemas: {} } });
  const used = Object.keys(schemas).filter((name) => text.includes(`"#/components/schemas/${name}"`));
  // Components may reference each other; keep what the kept ones reference as well.
  const kept = new Set(used);
  for (let grew = true; grew; ) {
    grew = false;
    const keptText = JSON.stringify([...kept].map((n) => schemas[n]));
    for (const name of Object.keys(schemas)) {
      if (!kept.has(name) && keptText.includes(`"#/components/schemas/${name}"`)) {
        kept.add(name);
        grew = true;
      }
    }
  }
  return { ...d, components: { ...d.components, schemas: Object.fromEntries([...kept].map((n) => [n, schemas[n]])) } } as T;
}
