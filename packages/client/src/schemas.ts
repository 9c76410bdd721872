/**
 * The API's objects as a desk receives them, in zod: every response is parsed here before any
 * code trusts it (the coordinator is not trusted). Objects are not strict, so a newer coordinator
 * may add fields; test/client-contract.test.ts fails when these and the served
 * /v1/openapi.json disagree about a field, a type, a route or a status.
 */
import { approvalSchema, hexSchema, keyCertificateSchema, SUITE_IDS } from '@glacis/protocol';
import { z } from 'zod';

const errorInfo = z.object({ code: z.string(), message: z.string() }).nullable();

/** Key. */
export const keySchema = z.object({
  keyId: z.string(),
  label: z.string().nullable(),
  suite: z.enum(SUITE_IDS),
  threshold: z.int(),
  parties: z.array(z.string()),
  status: z.enum(['pending', 'active', 'failed']),
  publicKey: z.string().nullable(),
  verifyingShares: z.record(z.string(), z.string()).nullable(),
  error: errorInfo,
  createdAt: z.string(),
  generation: z.int(),
  certificate: keyCertificateSchema.nullable(),
});
export type Key = z.output<typeof keySchema>;

/** Signature (the signing request and, once completed, its signature). */
export const signatureSchema = z.object({
  signatureId: z.string(),
  keyId: z.string(),
  message: z.string(),
  context: z.record(z.string(), z.unknown()).nullable(),
  status: z.enum(['pending', 'signing', 'completed', 'failed', 'rejected']),
  signature: z.string().nullable(),
  signers: z.array(z.string()).nullable(),
  excluded: z.array(z.object({ partyId: z.string(), reason: z.string() })),
  error: errorInfo,
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});
export type Signature = z.output<typeof signatureSchema>;

/** Operation (a DKG, refresh, repair, reshare or drill). */
export const operationSchema = z.object({
  operationId: z.string(),
  keyId: z.string(),
  type: z.enum(['dkg', 'refresh', 'repair', 'reshare', 'drill']),
  status: z.enum(['pending', 'completed', 'failed']),
  error: errorInfo,
  createdAt: z.string(),
  completedAt: z.string().nullable(),
  progress: z.record(z.string(), z.unknown()).nullable(),
});
export type Operation = z.output<typeof operationSchema>;

/** An RFC 9457 problem document. */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  code: z.string(),
  detail: z.string(),
  requestId: z.string().optional(),
});
export type Problem = z.output<typeof problemSchema>;

/** One event of the coordinator's hash-chained audit log. */
export const auditEventSchema = z.object({
  seq: z.int(),
  at: z.string(),
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEvent = z.output<typeof auditEventSchema>;

/** GET /v1/health, 200 and 503 alike. */
export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded', 'unavailable']),
  parties: z.object({ connected: z.int(), known: z.int() }),
});
export type Health = z.output<typeof healthSchema>;

/** GET /v1/parties. */
export const partyListSchema = z.object({
  parties: z.array(
    z.object({
      partyId: z.string(),
      identityKey: z.string(),
      connected: z.boolean(),
      lastSeenAt: z.string().nullable(),
      ready: z.int(),
      excludedCount: z.int(),
      latencyMs: z.number().nullable(),
      needsRepair: z.array(z.string()),
    }),
  ),
});
export type PartyList = z.output<typeof partyListSchema>;

/** GET /v1/latency: each party's signing latency per minute over the last hour. */
export const latencySummarySchema = z.object({
  windowSeconds: z.int(),
  bucketSeconds: z.int(),
  parties: z.array(
    z.object({
      partyId: z.string(),
      buckets: z.array(z.object({ start: z.string(), count: z.int(), meanMs: z.number(), maxMs: z.number() })),
    }),
  ),
});
export type LatencySummary = z.output<typeof latencySummarySchema>;

const nextCursor = z.string().nullable();
/** GET /v1/keys. */
export const keyPageSchema = z.object({ keys: z.array(keySchema), nextCursor });
/** GET /v1/keys/{keyId}/signatures. */
export const signaturePageSchema = z.object({ signatures: z.array(signatureSchema), nextCursor });
/** GET /v1/audit. */
export const auditPageSchema = z.object({ events: z.array(auditEventSchema), nextCursor });

/** 202 of POST /v1/keys. */
export const keyAcceptedSchema = z.object({ keyId: z.string(), status: z.literal('pending'), operationId: z.string() });
/** 202 of POST /v1/keys/{keyId}/signatures. */
export const signatureAcceptedSchema = z.object({ signatureId: z.string(), status: z.literal('pending') });

// ---- requests: what the desk sends; the coordinator validates them again ----

/** POST /v1/keys. */
export const createKeyBody = z.object({
  suite: z.enum(SUITE_IDS),
  threshold: z.int(),
  parties: z.array(z.string()).optional(),
  label: z.string().optional(),
});
/** POST /v1/keys/{keyId}/signatures. */
export const createSignatureBody = z.object({
  message: hexSchema,
  context: z.record(z.string(), z.unknown()).optional(),
  approvals: z.array(approvalSchema).optional(),
});
/** POST /v1/keys/{keyId}/refresh (no body, or `{}`). */
export const refreshBody = z.object({}).nullish();
/** POST /v1/keys/{keyId}/drill (no body, or `{}`). */
export const drillBody = z.object({}).nullish();
/** POST /v1/keys/{keyId}/repair. */
export const repairBody = z.object({ partyId: z.string() });
/** POST /v1/keys/{keyId}/reshare. */
export const reshareBody = z.object({ threshold: z.int(), parties: z.array(z.string()) });

/** `?wait=<ms>`: hold the answer until the object settles (at most 30000). */
export const waitQuery = z.object({ wait: z.int().optional() });
/** `?limit=&cursor=` of every list. */
export const pageQuery = z.object({ limit: z.int().optional(), cursor: z.string().optional() });
