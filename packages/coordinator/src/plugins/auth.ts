/**
 * Bearer-token authentication and role checks. Routes declare `config.roles`; the check runs in
 * onRequest, before the body is even read, so an unauthenticated caller learns nothing about
 * validation and spends no parsing.
 */
import type { FastifyInstance } from 'fastify';
import { CoordinatorError } from '../errors.js';
import type { Role, Store, TokenRecord } from '../store/types.js';
import { hashToken } from '../tokens.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed on this route; absent means public. */
    roles?: readonly Role[];
  }
  interface FastifyRequest {
    /** The authenticated token, on routes that need one. */
    principal: TokenRecord | null;
  }
}

/** Every role: routes API.md marks "any". */
export const ANY_ROLE: readonly Role[] = ['admin', 'requester', 'approver', 'auditor'];

const BEARER = /^Bearer +([\x21-\x7e]{1,512}) *$/i;
const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="glacis"' };

/** The 401 every authentication failure gets: one answer, so callers cannot probe which part was wrong. */
function unauthorized(): CoordinatorError {
  return new CoordinatorError('unauthorized', 'a valid bearer token is required', { headers: CHALLENGE });
}

/** Installs the authentication hook and the `request.principal` decoration. */
export function installAuth(app: FastifyInstance, store: Store): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const roles = request.routeOptions.config.roles;
    if (roles === undefined) return;
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? BEARER.exec(header) : null;
    if (!m) throw unauthorized();
    const token = await store.findToken(hashToken(m[1] as string));
    if (!token) throw unauthorized();
    if (!roles.includes(token.role)) {
      throw new CoordinatorError('forbidden', `this endpoint needs one of the roles ${roles.join(', ')}; the token has ${token.role}`);
    }
    request.principal = token;
  });
}

/** The principal of an authenticated route (the hook guarantees one). */
export function principalOf(request: { principal: TokenRecord | null }): TokenRecord {
  if (!request.principal) throw new CoordinatorError('unauthorized', 'a valid bearer token is required', { headers: CHALLENGE });
  return request.principal;
}
