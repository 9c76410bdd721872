/**
 * Signing requests. A request for an active key is always accepted (202) and always settles:
 * completed, or failed/rejected with a reason. Parties' availability is the orchestrator's
 * problem, decided at the request's deadline, never a reason to refuse the request here.
 */

import { CoordinatorError, notFound } from '../../errors.js';
import { newId } from '../../ids.js';
import { ANY_ROLE, principalOf } from '../../plugins/auth.js';
import { checkReplay, claimFor, findReplay, idempotencyScope, requestHash } from '../../plugins/idempotency.js';
import type { IdempotencyRecord, JsonObject } from '../../store/types.js';
import { handOff, type RouteDeps, type ZodApp } from './context.js';
import {
  createSignatureBody,
  idempotencyHeaders,
  keyParams,
  pageQuery,
  problems,
  signatureAcceptedSchema,
  signatureListSchema,
  signatureParams,
  signatureSchema,
  waitQuery,
} from './schemas.js';
import { signatureView } from './views.js';

const security = [{ bearerAuth: [] }];

/** Registers the signature routes. */
export function signatureRoutes(app: ZodApp, deps: RouteDeps): void {
  const { store, orchestrator } = deps;

  app.post(
    '/v1/keys/:keyId/signatures',
    {
      config: { roles: ['admin', 'requester'] },
      schema: {
        summary: 'Request a signature',
        security,
        headers: idempotencyHeaders,
        params: keyParams,
        querystring: waitQuery,
        body: createSignatureBody,
        response: { 200: signatureSchema, 202: signatureAcceptedSchema, ...problems(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      // An accepted request's answer: 202 as stored, or 200 with the Signature if it settles within ?wait=.
      const answer = async (previous: Pick<IdempotencyRecord, 'response'>, waitMs: number | undefined) => {
        const stored = signatureAcceptedSchema.parse(previous.response.body);
        if (waitMs && (await store.waitForSettled('signature', stored.signatureId, waitMs, deps.shutdown))) {
          const sig = await store.getSignature(stored.signatureId);
          if (sig) return reply.code(200).send(signatureView(sig));
        }
        // Only acceptances (202) are ever stored: a request that failed created nothing to replay.
        return reply.code(202).send(stored);
      };
      const principal = principalOf(request);
      const { keyId } = request.params;
      const body = request.body;
      const scope = idempotencyScope(request, principal.name);
      const hash = requestHash(body);
      const replay = await findReplay(store, scope, hash);
      if (replay) return answer(replay, request.query.wait);

      const key = await store.getKey(keyId);
      if (!key) throw notFound('key');
      if (key.status !== 'active') throw new CoordinatorError('key_not_active', `the key is ${key.status}, not active`);

      const at = deps.now();
      const signatureId = newId('sig', at);
      const accepted = { signatureId, status: 'pending' as const };
      const result = await store.createSignature(
        {
          signatureId,
          keyId,
          message: body.message,
          // Validated as canonical JSON by the body schema.
          context: (body.context as JsonObject | undefined) ?? null,
          approvals: body.approvals ?? [],
          createdAt: new Date(at).toISOString(),
          deadline: new Date(at + deps.signingTimeoutMs).toISOString(),
          requestedBy: principal.name,
        },
        claimFor(scope, hash, 202, accepted),
        deps.signingCaps,
      );
      if (!result.created) return answer(checkReplay(result.previous, hash), request.query.wait);
      request.log.info({ keyId, signatureId, bytes: body.message.length / 2 }, 'signature requested');

      const wait = request.query.wait ?? 0;
      if (wait === 0) {
        reply.code(202).send(accepted);
        handOff(request.log, signatureId, () => orchestrator.onSignatureRequested(signatureId));
        return reply;
      }
      handOff(request.log, signatureId, () => orchestrator.onSignatureRequested(signatureId));
      return answer({ response: { statusCode: 202, body: accepted } }, wait);
    },
  );

  app.get(
    '/v1/signatures/:signatureId',
    {
      config: { roles: ANY_ROLE },
      schema: {
        summary: 'Read a signing request',
        security,
        params: signatureParams,
        querystring: waitQuery,
        response: { 200: signatureSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const { signatureId } = request.params;
      let sig = await store.getSignature(signatureId);
      if (!sig) throw notFound('signature');
      const wait = request.query.wait ?? 0;
      if (wait > 0 && (await store.waitForSettled('signature', signatureId, wait, deps.shutdown))) {
        sig = (await store.getSignature(signatureId)) ?? sig;
      }
      return signatureView(sig);
    },
  );

  app.get(
    '/v1/keys/:keyId/signatures',
    {
      config: { roles: ANY_ROLE },
      schema: {
        summary: "List a key's signing requests, oldest first",
        security,
        params: keyParams,
        querystring: pageQuery,
        response: { 200: signatureListSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const { keyId } = request.params;
      if (!(await store.getKey(keyId))) throw notFound('key');
      const page = await store.listSignatures(keyId, { limit: request.query.limit, cursor: request.query.cursor ?? null });
      return { signatures: page.items.map(signatureView), nextCursor: page.nextCursor };
    },
  );
}
