/**
 * Every endpoint the coordinator serves, as data: method, path, whether it takes the bearer
 * token, its query, body and Idempotency-Key, and the body of each success status. The client's
 * methods are generated from this table, and test/client-contract.test.ts checks the table against
 * the served /v1/openapi.json route by route, so neither side can drift alone.
 */
import type { z } from 'zod';
import {
  addApprovalBody,
  addRejectionBody,
  auditPageSchema,
  createKeyBody,
  createSignatureBody,
  drillBody,
  healthSchema,
  inboxBody,
  inboxReceiptSchema,
  keyAcceptedSchema,
  keyPageSchema,
  keySchema,
  latencySummarySchema,
  operationSchema,
  outboxQuery,
  outboxSchema,
  pageQuery,
  partyListSchema,
  policyStatusSchema,
  refreshBody,
  repairBody,
  reshareBody,
  signatureAcceptedSchema,
  signatureListQuery,
  signaturePageSchema,
  signatureSchema,
  signedPolicyBody,
  waitQuery,
} from './schemas.js';

/** A success body: a schema to parse, `json` for any JSON document, `text` for plain text. */
export type ResponseSpec = z.ZodType | 'json' | 'text';

/** One endpoint. `path` is in OpenAPI form (`/v1/keys/{keyId}`). */
export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  /** Sends `Authorization: Bearer <token>`. */
  readonly auth: boolean;
  readonly query?: z.ZodObject;
  /** Takes an `Idempotency-Key` header. */
  readonly idempotent?: true;
  readonly body?: z.ZodType;
  /** Each status that is an answer rather than a problem, and its body. */
  readonly responses: Readonly<Record<number, ResponseSpec>>;
}

/** The whole API v1. */
export const routes = {
  health: { method: 'GET', path: '/v1/health', auth: false, responses: { 200: healthSchema, 503: healthSchema } },
  metrics: { method: 'GET', path: '/metrics', auth: false, responses: { 200: 'text' } },
  openapi: { method: 'GET', path: '/v1/openapi.json', auth: false, responses: { 200: 'json' } },
  listParties: { method: 'GET', path: '/v1/parties', auth: true, responses: { 200: partyListSchema } },
  partyLatency: { method: 'GET', path: '/v1/latency', auth: true, responses: { 200: latencySummarySchema } },
  listAudit: { method: 'GET', path: '/v1/audit', auth: true, query: pageQuery, responses: { 200: auditPageSchema } },
  createKey: {
    method: 'POST',
    path: '/v1/keys',
    auth: true,
    query: waitQuery,
    idempotent: true,
    body: createKeyBody,
    responses: { 200: keySchema, 202: keyAcceptedSchema },
  },
  listKeys: { method: 'GET', path: '/v1/keys', auth: true, query: pageQuery, responses: { 200: keyPageSchema } },
  getKey: { method: 'GET', path: '/v1/keys/{keyId}', auth: true, query: waitQuery, responses: { 200: keySchema } },
  createSignature: {
    method: 'POST',
    path: '/v1/keys/{keyId}/signatures',
    auth: true,
    query: waitQuery,
    idempotent: true,
    body: createSignatureBody,
    responses: { 200: signatureSchema, 202: signatureAcceptedSchema },
  },
  listSignatures: {
    method: 'GET',
    path: '/v1/keys/{keyId}/signatures',
    auth: true,
    query: pageQuery,
    responses: { 200: signaturePageSchema },
  },
  getSignature: { method: 'GET', path: '/v1/signatures/{signatureId}', auth: true, query: waitQuery, responses: { 200: signatureSchema } },
  listAllSignatures: {
    method: 'GET',
    path: '/v1/signatures',
    auth: true,
    query: signatureListQuery,
    responses: { 200: signaturePageSchema },
  },
  addApproval: {
    method: 'POST',
    path: '/v1/signatures/{signatureId}/approvals',
    auth: true,
    query: waitQuery,
    idempotent: true,
    body: addApprovalBody,
    responses: { 200: signatureSchema },
  },
  addRejection: {
    method: 'POST',
    path: '/v1/signatures/{signatureId}/rejections',
    auth: true,
    query: waitQuery,
    idempotent: true,
    body: addRejectionBody,
    responses: { 200: signatureSchema },
  },
  getPolicy: { method: 'GET', path: '/v1/policy', auth: true, responses: { 200: policyStatusSchema } },
  partyOutbox: {
    method: 'GET',
    path: '/v1/parties/{partyId}/outbox',
    auth: true,
    query: outboxQuery,
    responses: { 200: outboxSchema },
  },
  partyInbox: { method: 'POST', path: '/v1/parties/{partyId}/inbox', auth: true, body: inboxBody, responses: { 200: inboxReceiptSchema } },
  putPolicy: {
    method: 'PUT',
    path: '/v1/policy',
    auth: true,
    query: waitQuery,
    body: signedPolicyBody,
    responses: { 200: policyStatusSchema, 202: policyStatusSchema },
  },
  getOperation: { method: 'GET', path: '/v1/operations/{operationId}', auth: true, query: waitQuery, responses: { 200: operationSchema } },
  refreshKey: {
    method: 'POST',
    path: '/v1/keys/{keyId}/refresh',
    auth: true,
    query: waitQuery,
    idempotent: true,
    body: refreshBody,
    responses: { 200: operationSchema, 202: operationSchema },
  },
  repairKey: {
    method: 'POST',
    path: '/v1/keys/{keyId}/repair',
    auth: true,
    query: waitQuery,
    idempotent: true,
    body: repairBody,
    responses: { 200: operationSchema, 202: operationSchema },
  },
  reshareKey: {
    method: 'POST',
    path: '/v1/keys/{keyId}/reshare',
    auth: true,
    query: waitQuery,
    idempotent: true,
    body: reshareBody,
    responses: { 200: operationSchema, 202: operationSchema },
  },
  drillKey: {
    method: 'POST',
    path: '/v1/keys/{keyId}/drill',
    auth: true,
    query: waitQuery,
    idempotent: true,
    body: drillBody,
    responses: { 200: operationSchema, 202: operationSchema },
  },
} as const satisfies Record<string, RouteSpec>;

/** The table's type. */
export type Routes = typeof routes;
/** An endpoint's name in the table (`getKey`). */
export type RouteName = keyof Routes;

type Placeholders<P extends string> = P extends `${string}{${infer K}}${infer Rest}` ? K | Placeholders<Rest> : never;
type ParamsInput<R extends RouteSpec> = [Placeholders<R['path']>] extends [never]
  ? unknown
  : { params: Record<Placeholders<R['path']>, string> };
type QueryInput<R extends RouteSpec> = R extends { query: infer Q extends z.ZodType } ? { query?: z.input<Q> } : unknown;
type BodyInput<R extends RouteSpec> = R extends { body: infer B extends z.ZodType }
  ? undefined extends z.input<B>
    ? { body?: z.input<B> }
    : { body: z.input<B> }
  : unknown;
type IdempotencyInput<R extends RouteSpec> = R extends { idempotent: true } ? { idempotencyKey?: string } : unknown;

/** What a call to route R takes: path parameters, query, body and headers as the route defines them. */
export type RouteInput<R extends RouteSpec> = ParamsInput<R> &
  QueryInput<R> &
  BodyInput<R> &
  IdempotencyInput<R> & {
    /** Cancels the request. */
    signal?: AbortSignal;
  };

type BodyOf<S> = S extends z.ZodType ? z.output<S> : S extends 'text' ? string : unknown;
/** What a call to route R answers: one of its success statuses and that status's body. */
export type RouteOutput<R extends RouteSpec> = {
  [S in keyof R['responses'] & number]: { status: S; body: BodyOf<R['responses'][S]> };
}[keyof R['responses'] & number];
