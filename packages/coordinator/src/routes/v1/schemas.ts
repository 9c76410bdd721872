/**
 * The zod schemas of API v1: they validate every request, type every handler, shape every
 * response and generate /v1/openapi.json, so the contract in API.md has one source here.
 */
import {
  approvalSchema,
  ed25519KeySchema,
  hexSchema,
  intentSchema,
  keyCertificateSchema,
  MAX_PARTIES,
  policySchema,
  SUITE_IDS,
  suiteIdSchema,
} from '@glacis/protocol';
import { z } from 'zod';

/**
 * Metadata of the OpenAPI document: zod's global registry, where `.describe()` writes, so every
 * description reaches the document. A schema registered with an `id` is emitted once as a
 * component and referenced; other fields are JSON Schema keywords merged where it is used.
 */
export const apiRegistry = z.globalRegistry;

/** Longest `?wait=` in milliseconds. */
export const MAX_WAIT_MS = 30_000;

// ---- request parts ----

/**
 * A decimal integer from the query string. Stricter than z.coerce (which reads '' as 0 and '1e3'
 * as 1000): only plain digits are numbers, anything else fails as itself.
 */
function queryInt(min: number, max: number) {
  const int = z.int({ error: 'expected an integer' }).min(min).max(max);
  return z.preprocess((v) => (typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : v), int);
}

/** `?wait=<ms>`: hold the answer until the object settles or this much time passes. */
export const waitQuery = z.object({
  wait: queryInt(0, MAX_WAIT_MS).optional().describe('hold the answer up to this many ms until the object settles'),
});

/** `?limit=&cursor=` of every list. */
export const pageQuery = z.object({
  limit: queryInt(1, 500).default(50).describe('page size, 1-500'),
  cursor: z.string().max(256).optional().describe('the nextCursor of the previous page'),
});

/** The Idempotency-Key header of creating POSTs. */
export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'expected 1-255 printable ASCII characters')
    .optional()
    .describe('retrying with the same key and body returns the original response'),
});

/** Path parameters. Ids are not pattern-checked: an id that names nothing is a 404, whatever its form. */
export const keyParams = z.object({ keyId: z.string() });
export const signatureParams = z.object({ signatureId: z.string() });
export const operationParams = z.object({ operationId: z.string() });

const MAX_CONTEXT_DEPTH = 16;
/** True when `v` is JSON with a canonical form: integers only, bounded nesting (see protocol/canonical). */
function isCanonicalJson(v: unknown, depth: number): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isSafeInteger(v);
  if (typeof v !== 'object' || depth >= MAX_CONTEXT_DEPTH) return false;
  return Object.values(v).every((x) => isCanonicalJson(x, depth + 1));
}

const thresholdSchema = z.number().int().min(2).max(MAX_PARTIES);
// uniqueItems is what the schema enforces (the refine), stated where generators can read it.
const partyListSchema = z
  .array(z.string().max(128))
  .max(MAX_PARTIES)
  .refine((ps) => new Set(ps).size === ps.length, 'a party is listed twice')
  .register(apiRegistry, { uniqueItems: true });

/** POST /v1/keys. */
export const createKeyBody = z.strictObject({
  suite: suiteIdSchema,
  threshold: thresholdSchema,
  parties: partyListSchema.optional().describe('committee; defaults to every configured party'),
  label: z.string().max(256).optional(),
});

apiRegistry.add(approvalSchema, { id: 'Approval' });
apiRegistry.add(intentSchema, { id: 'Intent' });

/** POST /v1/keys/{keyId}/signatures: `message` (raw bytes) or `intent`, exactly one. */
export const createSignatureBody = z
  .strictObject({
    message: hexSchema.min(2, 'message is empty').describe('the bytes to sign, lowercase hex (the raw intent of them)').optional(),
    intent: intentSchema
      .describe(
        'what to sign: {"type":"raw","message":hex} or {"type":"bitcoin-psbt","psbt":base64,"inputs":[n…]} (secp256k1-tr keys); each party derives the messages from it itself',
      )
      .optional(),
    // Approvers sign a digest over the canonical JSON of the context, which has no floats.
    context: z
      .record(z.string(), z.unknown())
      .refine((c) => isCanonicalJson(c, 0), 'numbers must be safe integers and nesting at most 16 deep')
      .describe(
        `free JSON the approvers sign over: numbers must be safe integers (no fractions, nothing beyond 2^53 - 1), nesting at most ${MAX_CONTEXT_DEPTH} deep, strings well-formed Unicode; the whole body is bounded by the coordinator's bodyLimitBytes (default 64 KiB)`,
      )
      .optional(),
    approvals: z.array(approvalSchema).max(64).optional(),
  })
  .refine((b) => (b.message === undefined) !== (b.intent === undefined), 'give message or intent, exactly one');

/** GET /v1/signatures. */
export const signatureListQuery = pageQuery.extend({
  status: z
    .enum(['pending', 'awaiting_approval', 'signing', 'completed', 'failed', 'rejected'])
    .optional()
    .describe('only requests in this status, e.g. awaiting_approval'),
});

/** POST /v1/signatures/{signatureId}/approvals: one approval, as approvers make it. */
export const addApprovalBody = approvalSchema;

/** POST /v1/signatures/{signatureId}/rejections. */
export const addRejectionBody = z.strictObject({
  reason: z.string().min(1).max(1024).describe('why, for the audit log and the request error'),
  approverKey: ed25519KeySchema
    .optional()
    .describe('the approver who rejects, for the record (not checked: a rejection only stops a request)'),
});

/** PUT /v1/policy: a quorum-signed policy (docs/policy.md). */
export const putPolicyBody = z
  .strictObject({
    policy: policySchema,
    signatures: z
      .array(z.strictObject({ adminKey: ed25519KeySchema, signature: hexSchema.length(128) }))
      .min(1)
      .max(64),
  })
  .register(apiRegistry, { id: 'SignedPolicy' });

/** POST /v1/keys/{keyId}/refresh. */
// fastify hands a bodiless request's body over as null.
export const refreshBody = z.strictObject({}).nullish();
/** POST /v1/keys/{keyId}/drill. */
export const drillBody = z.strictObject({}).nullish();
/** POST /v1/keys/{keyId}/repair. */
export const repairBody = z.strictObject({ partyId: z.string().max(128) });
/** POST /v1/keys/{keyId}/reshare. */
export const reshareBody = z.strictObject({ threshold: thresholdSchema, parties: partyListSchema });

// ---- response objects ----

const time = z.iso.datetime({ offset: true }).describe('RFC 3339');
const errorInfo = z.object({ code: z.string(), message: z.string() }).nullable();

/** Key (API.md). */
export const keySchema = z
  .object({
    keyId: z.string(),
    label: z.string().nullable(),
    suite: z.enum(SUITE_IDS),
    threshold: z.int(),
    parties: z.array(z.string()),
    status: z.enum(['pending', 'active', 'failed']),
    publicKey: z.string().nullable(),
    verifyingShares: z.record(z.string(), z.string()).nullable(),
    error: errorInfo,
    createdAt: time,
    generation: z.int().describe('0 after the DKG; one more after each refresh or reshare'),
    certificate: keyCertificateSchema
      .nullable()
      .describe(
        "every member's signed dkg_confirm, and the lineage of lifecycle operations since (null unless active); docs/api.md gives the signed bytes",
      ),
  })
  .register(apiRegistry, { id: 'Key' });

apiRegistry.add(keyCertificateSchema, { id: 'KeyCertificate' });

/** A bitcoin-psbt request's PSBT with the key's inputs signed, and the transaction once every input is final. */
const finalizedSchema = z
  .object({
    psbt: z.string().describe('base64'),
    transactionHex: z.string().nullable().describe('the network-ready transaction; null while inputs of other owners are unsigned'),
    txid: z.string(),
  })
  .nullable();

/** What the distributed policy requires of a request that awaits approval, and what it has. */
const approvalStatusSchema = z
  .object({
    policyVersion: z.int(),
    ruleId: z.string(),
    groups: z.array(z.object({ group: z.string(), min: z.int(), have: z.int() })),
  })
  .nullable()
  .describe("awaiting_approval only: the coordinator's reading of the distributed policy (UX; each party decides on its own)");

/** Signature (API.md). */
export const signatureSchema = z
  .object({
    signatureId: z.string(),
    keyId: z.string(),
    intent: intentSchema,
    message: z.string().nullable().describe("the raw intent's bytes; null for a typed intent"),
    context: z.record(z.string(), z.unknown()).nullable(),
    approvals: z.array(approvalSchema),
    status: z.enum(['pending', 'awaiting_approval', 'signing', 'completed', 'failed', 'rejected']),
    approvalStatus: approvalStatusSchema,
    signature: z.string().nullable().describe('the first (for a raw intent, the only) signature'),
    signatures: z.array(z.string()).nullable().describe('one signature per message of the intent, in order (per listed PSBT input)'),
    finalized: finalizedSchema,
    signers: z.array(z.string()).nullable(),
    excluded: z.array(z.object({ partyId: z.string(), reason: z.string() })),
    error: errorInfo,
    createdAt: time,
    completedAt: time.nullable(),
  })
  .register(apiRegistry, { id: 'Signature' });

/** Operation (API.md). */
export const operationSchema = z
  .object({
    operationId: z.string(),
    keyId: z.string(),
    type: z.enum(['dkg', 'refresh', 'repair', 'reshare', 'drill']),
    status: z.enum(['pending', 'completed', 'failed']),
    error: errorInfo,
    createdAt: time,
    completedAt: time.nullable(),
    progress: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe('where the operation stands: `phase` and what it depends on (docs/api.md); null for a DKG'),
  })
  .register(apiRegistry, { id: 'Operation' });

/** An RFC 9457 problem document. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    code: z.string().describe('stable machine-readable code; see docs/errors.md'),
    detail: z.string(),
    requestId: z.string().optional(),
  })
  .register(apiRegistry, { id: 'Problem' });

/** 202 of POST /v1/keys. */
export const keyAcceptedSchema = z.object({ keyId: z.string(), status: z.literal('pending'), operationId: z.string() });
/** 202 of POST /v1/keys/{keyId}/signatures. */
export const signatureAcceptedSchema = z.object({ signatureId: z.string(), status: z.enum(['pending', 'awaiting_approval']) });

/** GET /v1/keys. */
export const keyListSchema = z.object({ keys: z.array(keySchema), nextCursor: z.string().nullable() });
/** GET /v1/keys/{keyId}/signatures and GET /v1/signatures. */
export const signatureListSchema = z.object({ signatures: z.array(signatureSchema), nextCursor: z.string().nullable() });

/** GET /v1/policy (and the answer to PUT). */
export const policyStatusSchema = z
  .object({
    policy: putPolicyBody.nullable().describe('the latest distributed signed policy, or null before the first'),
    version: z.int().nullable(),
    digest: z.string().nullable().describe('policyDigest of the document (docs/policy.md)'),
    distributedAt: time.nullable(),
    parties: z.array(
      z.object({
        partyId: z.string(),
        connected: z.boolean(),
        source: z.enum(['static', 'signed']).nullable().describe("the party's static party.json policy, or a signed one"),
        version: z.int().nullable().describe('the version in force at the party (as it last reported)'),
        digest: z.string().nullable(),
        reportedAt: time.nullable(),
        refused: z
          .object({ version: z.int().nullable(), digest: z.string().nullable(), code: z.string(), message: z.string() })
          .nullable()
          .describe('the last policy this party refused, and its code'),
      }),
    ),
  })
  .register(apiRegistry, { id: 'PolicyStatus' });

/** One audit event. */
export const auditEventSchema = z
  .object({
    seq: z.int(),
    at: time,
    type: z.string(),
    data: z.record(z.string(), z.unknown()),
    prevHash: z.string(),
    hash: z.string(),
  })
  .register(apiRegistry, { id: 'AuditEvent' });
/** GET /v1/audit. */
export const auditListSchema = z.object({ events: z.array(auditEventSchema), nextCursor: z.string().nullable() });

/** GET /v1/parties. */
export const partyListSchema200 = z.object({
  parties: z.array(
    z.object({
      partyId: z.string(),
      identityKey: z.string(),
      connected: z.boolean(),
      mode: z.enum(['online', 'offline']).describe('offline: reached by bundles through its outbox and inbox, not a socket'),
      lastSeenAt: time.nullable(),
      ready: z.int().describe('in-flight signing requests holding a fresh commitment of this party'),
      excludedCount: z.int().describe('exclusions from requests (invalid share or refusal) since the coordinator started'),
      latencyMs: z.number().nullable().describe('smoothed signing round trip (package sent → share received), ms'),
      needsRepair: z
        .array(z.string())
        .describe('active keys of which this committee member reported no share, or a share of another generation, at its last connection'),
      policyVersion: z.int().nullable().describe('the policy version in force at the party, as it last reported'),
    }),
  ),
});

// ---- offline parties (docs/offline.md) ----

export const partyParams = z.object({ partyId: z.string() });
export const outboxQuery = z.strictObject({
  format: z
    .enum(['json', 'bundle', 'qr'])
    .default('json')
    .describe(
      'json: this object with the bundle in hex; bundle: the raw bundle bytes (application/vnd.glacis.bundle, 204 when empty); qr: this object with animated-QR frames',
    ),
  density: z.enum(['low', 'medium', 'high']).default('medium').describe('QR density for format=qr (docs/offline.md)'),
});
export const outboxSchema = z
  .object({
    partyId: z.string(),
    bundle: hexSchema
      .nullable()
      .describe('the bundle (docs/bundles.md), signed by the coordinator and bound to the party; null when nothing waits'),
    sequence: z.int().nullable().describe('its sequence: the party refuses any not above the last it accepted'),
    signatureIds: z.array(z.string()).describe('the signing requests whose packages it carries'),
    keyIds: z.array(z.string()).describe('the keys whose DKG messages (start, rounds, certificate or abort) it carries'),
    operationIds: z
      .array(z.string())
      .describe(
        'the lifecycle operations (refresh, repair, reshare, drill) whose messages (start, rounds, test, certificate or abort) it carries',
      ),
    items: z.int().describe('envelopes in it'),
    frames: z
      .array(
        z.object({
          ur: z.string().describe('the frame as text (UR, type bytes)'),
          png: z.string().describe('the frame as a PNG image, base64'),
        }),
      )
      .optional()
      .describe('format=qr only: the fountain-coded frames, in display order (any order and most subsets decode)'),
  })
  .register(apiRegistry, { id: 'OfflineOutbox' });
export const inboxBody = z.strictObject({ bundle: hexSchema.min(2).describe('a bundle from the offline party, hex') });
export const inboxReceiptSchema = z
  .object({
    partyId: z.string(),
    sequence: z.int().describe('the bundle sequence accepted; the same bundle again is bundle_replayed'),
    commitments: z.int().describe('preprocessed nonce commitments stored (each drawn by one signing package at most)'),
    answers: z
      .int()
      .describe('answers handed on: to signing sessions (shares, refusals, commitments asked for) and DKG messages (rounds, confirmation)'),
  })
  .register(apiRegistry, { id: 'InboxReceipt' });

/** GET /v1/latency. */
export const latencySummarySchema = z.object({
  windowSeconds: z.int().describe('how far back the summary reaches'),
  bucketSeconds: z.int().describe('width of one bucket'),
  parties: z.array(
    z.object({
      partyId: z.string(),
      buckets: z
        .array(
          z.object({
            start: time.describe('start of the bucket'),
            count: z.int().describe('shares received in the bucket'),
            meanMs: z.number().describe('mean signing round trip (package sent → share received), ms'),
            maxMs: z.number().describe('slowest round trip in the bucket, ms'),
          }),
        )
        .describe('the buckets with at least one share, oldest first'),
    }),
  ),
});

/** GET /v1/health (200 and 503 alike). */
export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded', 'unavailable']),
  parties: z.object({ connected: z.int(), known: z.int() }),
});

const ALWAYS = [429, 500, 503];

/** Problem responses for the given statuses and 429, 500 and 503, as `application/problem+json`. */
export function problems(
  ...statuses: number[]
): Record<number, { description: string; content: Record<string, { schema: typeof problemSchema }> }> {
  const out: Record<number, { description: string; content: Record<string, { schema: typeof problemSchema }> }> = {};
  // Every route may be rate limited (429), fail inside (500) or find its store or capacity gone (503).
  for (const s of new Set([...statuses, ...ALWAYS]))
    out[s] = { description: 'problem (RFC 9457)', content: { 'application/problem+json': { schema: problemSchema } } };
  return out;
}
