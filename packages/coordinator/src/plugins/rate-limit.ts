/**
 * Per-token request rate limits (@fastify/rate-limit): a fixed window per token name, or per client
 * address on routes that take no token. The limiter's hook runs on each route after the
 * authentication hook, so the principal is known; requests refused by authentication are never
 * counted (a guess costs one hash and one indexed lookup). Its store is an LRU of bounded size, so
 * many clients cannot grow memory without bound.
 */
import type { RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { CoordinatorConfig } from '../config.js';
import { CoordinatorError } from '../errors.js';

/** Clients (tokens and addresses) tracked at once; the least recently seen is forgotten first. */
const TRACKED_CLIENTS = 10_000;

/** The options of @fastify/rate-limit for the configured limit. */
export function rateLimitOptions(limit: CoordinatorConfig['rateLimit']): RateLimitPluginOptions {
  return {
    global: true,
    max: limit.max,
    timeWindow: limit.windowMs,
    cache: TRACKED_CLIENTS,
    keyGenerator: (request: FastifyRequest) => (request.principal ? `token:${request.principal.name}` : `address:${request.ip}`),
    errorResponseBuilder: (_request, context) =>
      new CoordinatorError('rate_limited', `more than ${context.max} requests in ${limit.windowMs / 1000} s; retry in ${context.after}`, {
        headers: { 'Retry-After': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
      }),
  };
}
