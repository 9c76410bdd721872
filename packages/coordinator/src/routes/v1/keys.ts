/**
 * Keys: POST /v1/keys starts a DKG, GET lists and reads keys. A key request is persisted before
 * the 202 and handed to the orchestrator after it, so an accepted request survives any crash.
 */
import { CoordinatorError, notFound } from '../../errors.js';
import { newId } from '../../ids.js';
import { ANY_ROLE, principalOf } from '../../plugins/auth.js';
import { checkReplay, claimFor, findReplay, idempotencyScope, requestHash } from '../../plugins/idempotency.js';
import type { IdempotencyRecord, KeyRecord } from '../../store/types.js';
import { handOff, type RouteDeps, type ZodApp } from './context.js';
import {
  createKeyBody,
  idempotencyHeaders,
  keyAcceptedSchema,
  keyListSchema,
  keyParams,
  keySchema,
  pageQuery,
  problems,
  waitQuery,
} from './schemas.js';
import { keyView } from './views.js';

const security = [{ bearerAuth: [] }];

/** Checks a committee against the configured parties; returns it sorted. */
export function resolveCommittee(requested: readonly string[] | undefined, known: readonly string[], threshold: number): string[] {
  const committee = [...(requested ?? known)].sort();
  const knownSet = new Set(known);
  const unknown = committee.filter((p) => !knownSet.has(p));
  if (unknown.length > 0) throw new CoordinatorError('unknown_party', `parties: not configured: ${unknown.slice(0, 5).join(', ')}`);
  if (new Set(committee).size !== committee.length) throw new CoordinatorError('invalid_request', 'parties: a party is listed twice');
  if (threshold > committee.length) {
    throw new CoordinatorError('invalid_threshold', `threshold: ${threshold} exceeds the committee size ${committee.length}`);
  }
  return committee;
}

/** Registers the key routes. */
export function keyRoutes(app: ZodApp, deps: RouteDeps): void {
  const { store, orchestrator } = deps;
  /** Keys as the API shows them, with the identity keys the coordinator pins at the time of asking. */
  const views = () => {
    const pinned = new Map(orchestrator.parties().map((p) => [p.partyId, p.identityKey]));
    return (k: KeyRecord) => keyView(k, (partyId) => pinned.get(partyId));
  };

  app.post(
    '/v1/keys',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Start a DKG for a new key',
        security,
        headers: idempotencyHeaders,
        querystring: waitQuery,
        body: createKeyBody,
        response: { 200: keySchema, 202: keyAcceptedSchema, ...problems(400, 401, 403, 409, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      // An accepted request's answer: 202 as stored, or 200 with the Key if it settles within ?wait=.
      const answer = async (previous: Pick<IdempotencyRecord, 'response'>, waitMs: number | undefined) => {
        const stored = keyAcceptedSchema.parse(previous.response.body);
        if (waitMs && (await store.waitForSettled('key', stored.keyId, waitMs, deps.shutdown))) {
          const key = await store.getKey(stored.keyId);
          if (key) return reply.code(200).send(views()(key));
        }
        // Only acceptances (202) are ever stored: a request that failed created nothing to replay.
        return reply.code(202).send(stored);
      };
      const principal = principalOf(request);
      const body = request.body;
      const scope = idempotencyScope(request, principal.name);
      const hash = requestHash(body);
      const replay = await findReplay(store, scope, hash);
      if (replay) return answer(replay, request.query.wait);

      const committee = resolveCommittee(
        body.parties,
        orchestrator.parties().map((p) => p.partyId),
        body.threshold,
      );
      if (!orchestrator.allConnected(committee)) {
        const down = orchestrator
          .parties()
          .filter((p) => committee.includes(p.partyId) && p.mode === 'online' && !p.connected)
          .map((p) => p.partyId);
        throw new CoordinatorError(
          'parties_unavailable',
          `a DKG needs every online committee member connected; not connected: ${down.join(', ')}`,
        );
      }

      const at = deps.now();
      const keyId = newId('key', at);
      const operationId = newId('op', at);
      const accepted = { keyId, status: 'pending' as const, operationId };
      const result = await store.createKey(
        {
          keyId,
          operationId,
          label: body.label ?? null,
          suite: body.suite,
          threshold: body.threshold,
          parties: committee,
          createdAt: new Date(at).toISOString(),
          requestedBy: principal.name,
        },
        claimFor(scope, hash, 202, accepted),
      );
      // Lost a race with a concurrent retry under the same key: answer as that one did.
      if (!result.created) return answer(checkReplay(result.previous, hash), request.query.wait);
      request.log.info({ keyId, suite: body.suite, threshold: body.threshold, parties: committee }, 'key requested');

      const wait = request.query.wait ?? 0;
      if (wait === 0) {
        reply.code(202).send(accepted);
        handOff(request.log, keyId, () => orchestrator.onKeyCreated(keyId));
        return reply;
      }
      handOff(request.log, keyId, () => orchestrator.onKeyCreated(keyId));
      return answer({ response: { statusCode: 202, body: accepted } }, wait);
    },
  );

  app.get(
    '/v1/keys',
    {
      config: { roles: ANY_ROLE },
      schema: {
        summary: 'List keys, oldest first',
        security,
        querystring: pageQuery,
        response: { 200: keyListSchema, ...problems(400, 401) },
      },
    },
    async (request) => {
      const page = await store.listKeys({ limit: request.query.limit, cursor: request.query.cursor ?? null });
      return { keys: page.items.map(views()), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/keys/:keyId',
    {
      config: { roles: ANY_ROLE },
      schema: {
        summary: 'Read a key',
        security,
        params: keyParams,
        querystring: waitQuery,
        response: { 200: keySchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const { keyId } = request.params;
      let key = await store.getKey(keyId);
      if (!key) throw notFound('key');
      const wait = request.query.wait ?? 0;
      if (wait > 0 && key.status === 'pending' && (await store.waitForSettled('key', keyId, wait, deps.shutdown))) {
        key = (await store.getKey(keyId)) ?? key;
      }
      return views()(key);
    },
  );
}
