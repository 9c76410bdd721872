/**
 * Long operations on a key: GET /v1/operations/{id}, and the refresh, repair and reshare
 * endpoints. The three are not implemented yet: they authenticate, validate and resolve the key
 * exactly as they will, then answer 501, so clients can integrate against their final shape.
 */
import { CoordinatorError, notFound } from '../../errors.js';
import { ANY_ROLE } from '../../plugins/auth.js';
import type { RouteDeps, ZodApp } from './context.js';
import { resolveCommittee } from './keys.js';
import {
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
const notImplemented = (what: string) => new CoordinatorError('not_implemented', `${what} is not implemented yet`);

/** Registers the operation routes. */
export function operationRoutes(app: ZodApp, deps: RouteDeps): void {
  const { store, orchestrator } = deps;

  const activeKey = async (keyId: string) => {
    const key = await store.getKey(keyId);
    if (!key) throw notFound('key');
    if (key.status !== 'active') throw new CoordinatorError('key_not_active', `the key is ${key.status}, not active`);
    return key;
  };
  const accepted = { 202: operationSchema, ...problems(400, 401, 403, 404, 409, 413, 415, 501, 503) };

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

  app.post(
    '/v1/keys/:keyId/refresh',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Refresh shares, same public key (not implemented yet)',
        security,
        headers: idempotencyHeaders,
        params: keyParams,
        querystring: waitQuery,
        body: refreshBody,
        response: accepted,
      },
    },
    async (request) => {
      await activeKey(request.params.keyId);
      throw notImplemented('refresh');
    },
  );

  app.post(
    '/v1/keys/:keyId/repair',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: "Rebuild a party's lost share (not implemented yet)",
        security,
        headers: idempotencyHeaders,
        params: keyParams,
        querystring: waitQuery,
        body: repairBody,
        response: accepted,
      },
    },
    async (request) => {
      const key = await activeKey(request.params.keyId);
      if (!key.parties.includes(request.body.partyId)) throw new CoordinatorError('unknown_party', 'partyId: not a member of this key');
      throw notImplemented('repair');
    },
  );

  app.post(
    '/v1/keys/:keyId/reshare',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Move the key to a new committee (not implemented yet)',
        security,
        headers: idempotencyHeaders,
        params: keyParams,
        querystring: waitQuery,
        body: reshareBody,
        response: accepted,
      },
    },
    async (request) => {
      await activeKey(request.params.keyId);
      const known = orchestrator.parties().map((p) => p.partyId);
      resolveCommittee(request.body.parties, known, request.body.threshold);
      throw notImplemented('reshare');
    },
  );
}
