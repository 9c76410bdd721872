/**
 * Signing requests. A request for an active key is always accepted (202) and always settles:
 * completed, or failed/rejected with a reason. Parties' availability is the orchestrator's
 * problem, decided at the request's deadline, never a reason to refuse the request here.
 *
 * A request carries raw bytes (`message`) or a typed intent; an intent the key cannot sign is a
 * 400 with the code each party would refuse it with. When the distributed policy requires
 * approvals the request lacks, it is accepted as `awaiting_approval` and waits for them
 * (approvals.ts) — the coordinator's reading, for the desk: every party decides again itself.
 */
import { rawIntent } from '@glacis/protocol';

import { CoordinatorError, notFound } from '../../errors.js';
import { newId } from '../../ids.js';
import { ANY_ROLE, principalOf } from '../../plugins/auth.js';
import { checkReplay, claimFor, findReplay, idempotencyScope, requestHash } from '../../plugins/idempotency.js';
import type { IdempotencyRecord, JsonObject, KeyRecord, SignatureRecord, StoredPolicy } from '../../store/types.js';
import { handOff, type RouteDeps, type ZodApp } from './context.js';
import { approvalNeeds, type RequestKey, requestFacts } from './request-policy.js';
import {
  createSignatureBody,
  idempotencyHeaders,
  keyParams,
  pageQuery,
  problems,
  signatureAcceptedSchema,
  signatureListQuery,
  signatureListSchema,
  signatureParams,
  signatureSchema,
  waitQuery,
} from './schemas.js';
import { signingDeadline } from './signing-deadline.js';
import { type SignatureView, signatureView } from './views.js';

const security = [{ bearerAuth: [] }];

/** The key a request names, as the policy reading needs it (the key is active). */
export function requestKeyOf(key: KeyRecord): RequestKey {
  return { keyId: key.keyId, suite: key.suite, publicKey: key.publicKey ?? '', label: key.label };
}

/**
 * A request as the API shows it; for one awaiting approval, with what the distributed policy
 * requires and has (read now, against the current policy).
 */
export async function presentSignature(deps: RouteDeps, sig: SignatureRecord, policy?: StoredPolicy | null): Promise<SignatureView> {
  if (sig.status !== 'awaiting_approval') return signatureView(sig, null);
  const current = policy === undefined ? await deps.store.getPolicy() : (policy ?? undefined);
  const key = await deps.store.getKey(sig.keyId);
  if (!key || current === undefined) return signatureView(sig, null);
  const facts = requestFacts(sig.intent, requestKeyOf(key), deps.bitcoinNetwork);
  const terms = { keyId: sig.keyId, intent: sig.intent, context: sig.context };
  const needs = approvalNeeds(current, facts, terms, sig.approvals, deps.now());
  return signatureView(sig, needs && { policyVersion: needs.policyVersion, ruleId: needs.ruleId, groups: needs.groups });
}

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
          if (sig) return reply.code(200).send(await presentSignature(deps, sig));
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
      // The schema admits exactly one of the two.
      const intent = body.intent ?? rawIntent(body.message as string);
      const facts = requestFacts(intent, requestKeyOf(key), deps.bitcoinNetwork);
      const context = (body.context as JsonObject | undefined) ?? null;
      const approvals = body.approvals ?? [];

      const at = deps.now();
      const needs = approvalNeeds(await store.getPolicy(), facts, { keyId, intent, context }, approvals, at);
      const status: 'pending' | 'awaiting_approval' = needs && !needs.satisfied ? 'awaiting_approval' : 'pending';
      const signatureId = newId('sig', at);
      const accepted = { signatureId, status };
      const result = await store.createSignature(
        {
          signatureId,
          keyId,
          intent,
          status,
          // Validated as canonical JSON by the body schema.
          context,
          approvals,
          createdAt: new Date(at).toISOString(),
          deadline: status === 'pending' ? signingDeadline(deps, key, at) : new Date(at + deps.approvalTimeoutMs).toISOString(),
          requestedBy: principal.name,
        },
        claimFor(scope, hash, 202, accepted),
        deps.signingCaps,
      );
      if (!result.created) return answer(checkReplay(result.previous, hash), request.query.wait);
      request.log.info({ keyId, signatureId, intent: intent.type, status }, 'signature requested');

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
      return presentSignature(deps, sig);
    },
  );

  app.get(
    '/v1/signatures',
    {
      config: { roles: ANY_ROLE },
      schema: {
        summary: 'List signing requests across keys, oldest first (e.g. ?status=awaiting_approval)',
        security,
        querystring: signatureListQuery,
        response: { 200: signatureListSchema, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit, cursor, status } = request.query;
      const page = await store.listAllSignatures({ limit, cursor: cursor ?? null }, status);
      const policy = (await store.getPolicy()) ?? null;
      const signatures = [];
      for (const sig of page.items) signatures.push(await presentSignature(deps, sig, policy));
      return { signatures, nextCursor: page.nextCursor };
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
      const policy = (await store.getPolicy()) ?? null;
      const signatures = [];
      for (const sig of page.items) signatures.push(await presentSignature(deps, sig, policy));
      return { signatures, nextCursor: page.nextCursor };
    },
  );
}
