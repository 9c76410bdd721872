/**
 * Long operations on a key: GET /v1/operations/{id}, and refresh, repair, reshare and drill. Each
 * POST is checked (the key active, the parties it needs connected), persisted as a pending
 * `Operation` with its audit event (and its Idempotency-Key claim) before the 202, and then
 * handed to the orchestrator; `?wait=` holds the answer until it settles. A refresh, repair or
 * reshare is refused while another of them is pending on the key (`409 operation_in_progress`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CoordinatorError, notFound } from '../../errors.js';
import { newId } from '../../ids.js';
import { ANY_ROLE, principalOf } from '../../plugins/auth.js';
import { checkReplay, claimFor, findReplay, idempotencyScope, requestHash } from '../../plugins/idempotency.js';
import type { IdempotencyRecord, JsonObject, KeyRecord, LifecycleType } from '../../store/types.js';
import { handOff, type RouteDeps, type ZodApp } from './context.js';
import { resolveCommittee } from './keys.js';
import {
  drillBody,
  idempotencyHeaders,
  keyParams,
  operationParams,
  operationSchema,
  problems,
  refreshBody,
  repairBody,
  reshareBody,
  waitQuery,
} from './schemas.js';
import { operationView } from './views.js';

const security = [{ bearerAuth: [] }];

/** Registers the operation routes. */
export function operationRoutes(app: ZodApp, deps: RouteDeps): void {
  const { store, orchestrator } = deps;

  const activeKey = async (keyId: string) => {
    const key = await store.getKey(keyId);
    if (!key) throw notFound('key');
    if (key.status !== 'active') throw new CoordinatorError('key_not_active', `the key is ${key.status}, not active`);
    return key;
  };
  const requireConnected = (parties: readonly string[], what: string) => {
    const down = parties.filter((p) => !orchestrator.allConnected([p]));
    if (down.length > 0) throw new CoordinatorError('parties_unavailable', `${what}; not connected: ${down.join(', ')}`);
  };
  /** Members that can help a repair or deal a reshare: connected, or offline (reached through their outbox). */
  const helpersOf = (parties: readonly string[]) => parties.filter((p) => orchestrator.allConnected([p]));
  const accepted = { 200: operationSchema, 202: operationSchema, ...problems(400, 401, 403, 404, 409, 413, 415, 503) };

  /** The answer to an accepted operation: 202 as it stands, or 200 once settled within `?wait=`. */
  async function answer(reply: FastifyReply, previous: Pick<IdempotencyRecord, 'response'>, waitMs: number | undefined) {
    const stored = operationSchema.parse(previous.response.body);
    if (waitMs && (await store.waitForSettled('operation', stored.operationId, waitMs, deps.shutdown))) {
      const op = await store.getOperation(stored.operationId);
      if (op) return reply.code(200).send(operationView(op));
    }
    const now = await store.getOperation(stored.operationId);
    return reply.code(202).send(now ? operationView(now) : stored);
  }

  /**
   * What every lifecycle POST does once its own checks passed (`check`, which runs only for a new
   * request: a replay is answered as the first time, whatever changed since).
   */
  function lifecycleRoute(type: LifecycleType, check: (key: KeyRecord, body: unknown) => JsonObject) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
      const principal = principalOf(request);
      const scope = idempotencyScope(request, principal.name);
      const hash = requestHash(request.body ?? {});
      const { wait } = request.query as { wait?: number };
      const replay = await findReplay(store, scope, hash);
      if (replay) return answer(reply, replay, wait);

      const key = await activeKey((request.params as { keyId: string }).keyId);
      const params = check(key, request.body);
      const at = deps.now();
      const operationId = newId('op', at);
      const createdAt = new Date(at).toISOString();
      const view = operationView({
        operationId,
        keyId: key.keyId,
        type,
        status: 'pending',
        error: null,
        createdAt,
        completedAt: null,
        params,
        progress: null,
        requestedBy: principal.name,
      });
      const result = await store.createOperation(
        { operationId, keyId: key.keyId, type, params, createdAt, requestedBy: principal.name },
        claimFor(scope, hash, 202, view as unknown as JsonObject),
      );
      if (!result.created) return answer(reply, checkReplay(result.previous, hash), wait);
      request.log.info({ operationId, keyId: key.keyId, type }, 'lifecycle operation requested');
      handOff(request.log, operationId, () => orchestrator.onOperationCreated(operationId));
      return answer(reply, { response: { statusCode: 202, body: view as unknown as JsonObject } }, wait);
    };
  }

  app.get(
    '/v1/operations/:operationId',
    {
      config: { roles: ANY_ROLE },
      schema: {
        summary: 'Read an operation',
        security,
        params: operationParams,
        querystring: waitQuery,
        response: { 200: operationSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const { operationId } = request.params;
      let op = await store.getOperation(operationId);
      if (!op) throw notFound('operation');
      const wait = request.query.wait ?? 0;
      if (wait > 0 && op.status === 'pending' && (await store.waitForSettled('operation', operationId, wait, deps.shutdown))) {
        op = (await store.getOperation(operationId)) ?? op;
      }
      return operationView(op);
    },
  );

  const post = (summary: string, body: typeof refreshBody | typeof repairBody | typeof reshareBody | typeof drillBody) => ({
    config: { roles: ['admin'] as const },
    schema: { summary, security, headers: idempotencyHeaders, params: keyParams, querystring: waitQuery, body, response: accepted },
  });

  app.post(
    '/v1/keys/:keyId/refresh',
    post('Refresh every share, same public key', refreshBody),
    lifecycleRoute('refresh', (key) => {
      requireConnected(key.parties, 'a refresh needs every member connected');
      return {};
    }),
  );

  app.post(
    '/v1/keys/:keyId/repair',
    post("Rebuild a member's lost share from t helpers", repairBody),
    lifecycleRoute('repair', (key, body) => {
      const { partyId } = body as { partyId: string };
      if (!key.parties.includes(partyId)) throw new CoordinatorError('unknown_party', 'partyId: not a member of this key');
      if (orchestrator.shareStatus(key.keyId, partyId) === 'held') {
        throw new CoordinatorError('repair_not_needed', `${partyId} reported holding its share of this generation of the key`);
      }
      requireConnected([partyId], 'a repair needs the party to repair connected');
      const others = key.parties.filter((p) => p !== partyId);
      const helpers = helpersOf(others);
      if (helpers.length < key.threshold) {
        const down = others.filter((p) => !helpers.includes(p));
        throw new CoordinatorError(
          'parties_unavailable',
          `a repair needs ${key.threshold} other members connected; not: ${down.join(', ')}`,
        );
      }
      return { partyId };
    }),
  );

  app.post(
    '/v1/keys/:keyId/reshare',
    post('Move the key to a new committee and threshold, same public key', reshareBody),
    lifecycleRoute('reshare', (key, body) => {
      const b = body as { threshold: number; parties: string[] };
      const known = orchestrator.parties().map((p) => p.partyId);
      const committee = resolveCommittee(b.parties, known, b.threshold);
      if (committee.length < 2) throw new CoordinatorError('invalid_threshold', 'a committee has at least 2 parties');
      requireConnected(committee, 'a reshare needs every new member connected');
      const dealers = helpersOf(key.parties);
      if (dealers.length < key.threshold) {
        throw new CoordinatorError(
          'parties_unavailable',
          `a reshare needs ${key.threshold} members of the current committee connected to deal`,
        );
      }
      return { threshold: b.threshold, parties: committee };
    }),
  );

  app.post(
    '/v1/keys/:keyId/drill',
    post('Every holder proves its share intact', drillBody),
    lifecycleRoute('drill', () => ({})),
  );
}
