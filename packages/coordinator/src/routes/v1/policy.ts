/**
 * The distributed policy. `PUT /v1/policy` (admin) stores a quorum-signed policy document and
 * offers it to every party; each party verifies it against the administrator keys it pinned
 * itself and activates it, or refuses it. The coordinator checks the document's shape and that its
 * version moves forward, and cannot check (or forge) the signatures that make it binding: that is
 * each party's business. `GET /v1/policy` shows the document and, per party, what it reports in force.
 */
import { policyDigest } from '@glacis/protocol';
import { ANY_ROLE, principalOf } from '../../plugins/auth.js';
import type { StoredPolicy } from '../../store/types.js';
import type { RouteDeps, ZodApp } from './context.js';
import { policyStatusSchema, problems, putPolicyBody, waitQuery } from './schemas.js';

const security = [{ bearerAuth: [] }];
/** A policy with thousands of allowlisted addresses is larger than a signing request: its own body limit. */
export const POLICY_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/** Registers GET and PUT /v1/policy. */
export function policyRoutes(app: ZodApp, deps: RouteDeps): void {
  const { store, orchestrator } = deps;

  async function status() {
    const stored = await store.getPolicy();
    return {
      policy: stored?.signed ?? null,
      version: stored?.version ?? null,
      digest: stored?.digest ?? null,
      distributedAt: stored?.distributedAt ?? null,
      parties: orchestrator.parties().map((p) => ({
        partyId: p.partyId,
        connected: p.connected,
        source: p.policy?.source ?? null,
        version: p.policy?.version ?? null,
        digest: p.policy?.digest ?? null,
        reportedAt: p.policy?.reportedAt ?? null,
        refused: p.policy?.refused ?? null,
      })),
    };
  }

  app.get(
    '/v1/policy',
    {
      config: { roles: ANY_ROLE },
      schema: {
        summary: 'The distributed policy and the version in force at each party',
        security,
        response: { 200: policyStatusSchema, ...problems(401, 403) },
      },
    },
    async () => status(),
  );

  app.put(
    '/v1/policy',
    {
      config: { roles: ['admin'] },
      bodyLimit: POLICY_BODY_LIMIT_BYTES,
      schema: {
        summary: 'Distribute a quorum-signed policy to every party',
        security,
        querystring: waitQuery,
        body: putPolicyBody,
        response: { 200: policyStatusSchema, 202: policyStatusSchema, ...problems(400, 401, 403, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const signed = request.body;
      const principal = principalOf(request);
      const stored: StoredPolicy = {
        signed,
        version: signed.policy.version,
        digest: policyDigest(signed.policy),
        distributedAt: new Date(deps.now()).toISOString(),
        distributedBy: principal.name,
      };
      const created = await store.putPolicy(stored);
      request.log.info({ version: stored.version, digest: stored.digest, created }, 'policy distributed');
      orchestrator.onPolicyDistributed({ signed, version: stored.version, digest: stored.digest });
      const wait = request.query.wait ?? 0;
      const settled = wait > 0 && (await orchestrator.waitPolicySettled(stored.digest, wait, deps.shutdown));
      return reply.code(settled ? 200 : 202).send(await status());
    },
  );
}
