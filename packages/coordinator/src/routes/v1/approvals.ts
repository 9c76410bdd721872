/**
 * The approvals workflow: approvers add approvals to a request that awaits them, or reject it.
 *
 * An approval is checked here against the request and the distributed policy, so a desk learns at
 * once that one would not count (`approval_invalid`); the parties check every approval again,
 * themselves. Once the approvals meet what the policy requires, the request is released for
 * signing (status `pending`, a fresh signing deadline) in the same transaction as the approval.
 * A rejection ends a waiting request `rejected`. Who may call: admin, requester, approver — the
 * approval's own signature is what counts, not the token.
 */
import { CoordinatorError } from '../../errors.js';
import { principalOf } from '../../plugins/auth.js';
import { claimFor, findReplay, idempotencyScope, requestHash } from '../../plugins/idempotency.js';
import type { IdempotencyRecord, Role, SignatureRecord } from '../../store/types.js';
import { handOff, type RouteDeps, type ZodApp } from './context.js';
import { approvalNeeds, approvalProblem, requestFacts } from './request-policy.js';
import { addApprovalBody, addRejectionBody, idempotencyHeaders, problems, signatureParams, signatureSchema, waitQuery } from './schemas.js';
import { presentSignature, requestKeyOf } from './signatures.js';
import { signingDeadline } from './signing-deadline.js';

const security = [{ bearerAuth: [] }];
const ROLES: readonly Role[] = ['admin', 'requester', 'approver'];
/** Concurrent approvals of one request are serialised by optimistic retries; this many at most. */
const MAX_ATTEMPTS = 8;

/** Registers the approval and rejection routes. */
export function approvalRoutes(app: ZodApp, deps: RouteDeps): void {
  const { store, orchestrator } = deps;

  /**
   * The answer: the request as it stands, or (with `?wait=`) once it settled. A retry under the
   * same Idempotency-Key gets this too, without changing anything again.
   */
  async function answer(signatureId: string, waitMs: number | undefined) {
    if (waitMs) await store.waitForSettled('signature', signatureId, waitMs, deps.shutdown);
    const sig = await store.getSignature(signatureId);
    if (!sig) throw new CoordinatorError('not_found', 'no such signature');
    return presentSignature(deps, sig);
  }
  const isReplay = (r: SignatureRecord | 'stale' | IdempotencyRecord): r is IdempotencyRecord =>
    typeof r === 'object' && 'requestHash' in r;

  /** The request, which must await approval (404, 409 otherwise). */
  async function awaiting(signatureId: string): Promise<SignatureRecord> {
    const sig = await store.getSignature(signatureId);
    if (!sig) throw new CoordinatorError('not_found', 'no such signature');
    if (sig.status !== 'awaiting_approval')
      throw new CoordinatorError('signature_not_awaiting_approval', `the request is ${sig.status}, not awaiting approval`);
    return sig;
  }

  app.post(
    '/v1/signatures/:signatureId/approvals',
    {
      config: { roles: ROLES },
      schema: {
        summary: 'Add an approval to a request awaiting approval',
        security,
        headers: idempotencyHeaders,
        params: signatureParams,
        querystring: waitQuery,
        body: addApprovalBody,
        response: { 200: signatureSchema, ...problems(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (request) => {
      const { signatureId } = request.params;
      const approval = request.body;
      const principal = principalOf(request);
      const scope = idempotencyScope(request, principal.name);
      const hash = requestHash(approval);
      if (await findReplay(store, scope, hash)) return answer(signatureId, request.query.wait);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const sig = await awaiting(signatureId);
        const key = await store.getKey(sig.keyId);
        if (!key) throw new CoordinatorError('not_found', 'no such signature');
        const policy = await store.getPolicy();
        const now = deps.now();
        const terms = { keyId: sig.keyId, intent: sig.intent, context: sig.context };
        const problem = approvalProblem(approval, terms, policy, now);
        if (problem !== null) throw new CoordinatorError('approval_invalid', `approval: ${problem}`);
        const facts = requestFacts(sig.intent, requestKeyOf(key), deps.bitcoinNetwork);
        const needs = approvalNeeds(policy, facts, terms, [...sig.approvals, approval], now);
        // A policy that no longer requires approvals for this request releases it too.
        const release = needs === null || needs.satisfied ? { deadline: signingDeadline(deps, key, now) } : null;
        const audit = {
          type: 'approval_added',
          data: {
            signatureId,
            keyId: sig.keyId,
            approverKey: approval.approverKey,
            nonce: approval.nonce,
            policyVersion: approval.policyVersion,
            expiresAt: approval.expiresAt,
            released: release !== null,
            addedBy: principal.name,
          },
        };
        const idempotency = claimFor(scope, hash, 200, { signatureId });
        const updated = await store.addApproval(
          signatureId,
          approval,
          { expected: sig.approvals.length, release, ...(idempotency ? { idempotency } : {}) },
          audit,
        );
        if (updated === 'stale') continue;
        if (isReplay(updated)) return answer(signatureId, request.query.wait);
        request.log.info({ signatureId, approverKey: approval.approverKey, released: release !== null }, 'approval added');
        if (release) handOff(request.log, signatureId, () => orchestrator.onSignatureRequested(signatureId));
        if (release && request.query.wait) return answer(signatureId, request.query.wait);
        return presentSignature(deps, updated, policy ?? null);
      }
      throw new CoordinatorError('store_unavailable', 'the request changed under every attempt to add this approval; retry');
    },
  );

  app.post(
    '/v1/signatures/:signatureId/rejections',
    {
      config: { roles: ROLES },
      schema: {
        summary: 'Reject a request awaiting approval: it ends rejected',
        security,
        headers: idempotencyHeaders,
        params: signatureParams,
        querystring: waitQuery,
        body: addRejectionBody,
        response: { 200: signatureSchema, ...problems(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (request) => {
      const { signatureId } = request.params;
      const { reason, approverKey } = request.body;
      const principal = principalOf(request);
      const scope = idempotencyScope(request, principal.name);
      const hash = requestHash(request.body);
      if (await findReplay(store, scope, hash)) return answer(signatureId, undefined);
      const sig = await awaiting(signatureId);
      const by = approverKey ? `${principal.name} (approver ${approverKey})` : principal.name;
      const error = { code: 'rejected', message: `rejected by ${by}: ${reason}` };
      const rejected = await store.settleAwaiting(
        signatureId,
        'rejected',
        error,
        {
          type: 'signature_rejected',
          data: { signatureId, keyId: sig.keyId, code: 'rejected', reason, rejectedBy: principal.name, approverKey: approverKey ?? null },
        },
        claimFor(scope, hash, 200, { signatureId }),
      );
      if (!rejected) await awaiting(signatureId); // it moved on meanwhile: 409 with its status
      request.log.info({ signatureId, by: principal.name }, 'request rejected by an approver');
      return answer(signatureId, undefined);
    },
  );
}
