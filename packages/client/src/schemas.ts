/**
 * The API's objects as a desk receives them, in zod: every response is parsed here before any
 * code trusts it (the coordinator is not trusted). Objects are not strict, so a newer coordinator
 * may add fields; test/client-contract.test.ts fails when these and the served
 * /v1/openapi.json disagree about a field, a type, a route or a status.
 */
import { approvalSchema, hexSchema, intentSchema, keyCertificateSchema, policySchema, SUITE_IDS } from '@glacis/protocol';
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

/** The statuses of a signing request; `completed`, `failed` and `rejected` are final. */
export const SIGNATURE_STATUSES = ['pending', 'awaiting_approval', 'signing', 'completed', 'failed', 'rejected'] as const;

/** Signature (the signing request and, once completed, its signature). */
export const signatureSchema = z.object({
  signatureId: z.string(),
  keyId: z.string(),
  /** What to sign, as submitted. Decode it yourself (`glacis signatures show`), never by the coordinator's word. */
  intent: intentSchema,
  message: z.string().nullable(),
  context: z.record(z.string(), z.unknown()).nullable(),
  approvals: z.array(approvalSchema),
  status: z.enum(SIGNATURE_STATUSES),
  /** awaiting_approval: the coordinator's reading of what the distributed policy requires and has. */
  approvalStatus: z
    .object({ policyVersion: z.int(), ruleId: z.string(), groups: z.array(z.object({ group: z.string(), min: z.int(), have: z.int() })) })
    .nullable(),
  signature: z.string().nullable(),
  signatures: z.array(z.string()).nullable(),
  finalized: z.object({ psbt: z.string(), transactionHex: z.string().nullable(), txid: z.string() }).nullable(),
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
      mode: z.enum(['online', 'offline']),
      lastSeenAt: z.string().nullable(),
      ready: z.int(),
      excludedCount: z.int(),
      latencyMs: z.number().nullable(),
      needsRepair: z.array(z.string()),
      policyVersion: z.int().nullable(),
    }),
  ),
});
export type PartyList = z.output<typeof partyListSchema>;

/** GET /v1/parties/{partyId}/outbox: an offline party's pending bundle (docs/offline.md). */
export const outboxQuery = z.strictObject({
  format: z.enum(['json', 'bundle', 'qr']).optional(),
  density: z.enum(['low', 'medium', 'high']).optional(),
});
export const outboxSchema = z.object({
  partyId: z.string(),
  bundle: z.string().nullable(),
  sequence: z.int().nullable(),
  signatureIds: z.array(z.string()),
  /** Keys whose DKG messages it carries (absent from an older coordinator). */
  keyIds: z.array(z.string()).default([]),
  /** Lifecycle operations whose messages it carries (absent from an older coordinator). */
  operationIds: z.array(z.string()).default([]),
  items: z.int(),
  frames: z.array(z.object({ ur: z.string(), png: z.string() })).optional(),
});
export type Outbox = z.output<typeof outboxSchema>;
/** POST /v1/parties/{partyId}/inbox. */
export const inboxBody = z.strictObject({ bundle: z.string() });
export const inboxReceiptSchema = z.object({ partyId: z.string(), sequence: z.int(), commitments: z.int(), answers: z.int() });
export type InboxReceipt = z.output<typeof inboxReceiptSchema>;

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

/** A quorum-signed policy as it travels (docs/policy.md); its signatures are the parties' to verify. */
export const signedPolicyBody = z.object({
  policy: policySchema,
  signatures: z.array(z.object({ adminKey: z.string(), signature: z.string() })),
});
export type SignedPolicyBody = z.output<typeof signedPolicyBody>;

/** GET /v1/policy and the answer to PUT. */
export const policyStatusSchema = z.object({
  policy: signedPolicyBody.nullable(),
  version: z.int().nullable(),
  digest: z.string().nullable(),
  distributedAt: z.string().nullable(),
  parties: z.array(
    z.object({
      partyId: z.string(),
      connected: z.boolean(),
      source: z.enum(['static', 'signed']).nullable(),
      version: z.int().nullable(),
      digest: z.string().nullable(),
      reportedAt: z.string().nullable(),
      refused: z.object({ version: z.int().nullable(), digest: z.string().nullable(), code: z.string(), message: z.string() }).nullable(),
    }),
  ),
});
export type PolicyStatus = z.output<typeof policyStatusSchema>;

const nextCursor = z.string().nullable();
/** GET /v1/keys. */
export const keyPageSchema = z.object({ keys: z.array(keySchema), nextCursor });
/** GET /v1/keys/{keyId}/signatures and GET /v1/signatures. */
export const signaturePageSchema = z.object({ signatures: z.array(signatureSchema), nextCursor });
/** GET /v1/audit. */
export const auditPageSchema = z.object({ events: z.array(auditEventSchema), nextCursor });

/** 202 of POST /v1/keys. */
export const keyAcceptedSchema = z.object({ keyId: z.string(), status: z.literal('pending'), operationId: z.string() });
/** 202 of POST /v1/keys/{keyId}/signatures. */
export const signatureAcceptedSchema = z.object({ signatureId: z.string(), status: z.enum(['pending', 'awaiting_approval']) });

// ---- requests: what the desk sends; the coordinator validates them again ----

/** POST /v1/keys. */
export const createKeyBody = z.object({
  suite: z.enum(SUITE_IDS),
  threshold: z.int(),
  parties: z.array(z.string()).optional(),
  label: z.string().optional(),
});
/** POST /v1/keys/{keyId}/signatures: `message` (raw bytes) or `intent`, exactly one. */
export const createSignatureBody = z.object({
  message: hexSchema.optional(),
  intent: intentSchema.optional(),
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
/** GET /v1/signatures: a page, of one status if given. */
export const signatureListQuery = pageQuery.extend({ status: z.enum(SIGNATURE_STATUSES).optional() });
/** POST /v1/signatures/{signatureId}/approvals. */
export const addApprovalBody = approvalSchema;
/** POST /v1/signatures/{signatureId}/rejections. */
export const addRejectionBody = z.object({ reason: z.string(), approverKey: z.string().optional() });
