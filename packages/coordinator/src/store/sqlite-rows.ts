/**
 * Row shapes of the SQLite tables and their conversion to the store's records. JSON columns are
 * written by this module only, so they are parsed without a schema: the database is not an edge.
 */
import {
  type Approval,
  type Envelope,
  type FinalizedPsbt,
  type Intent,
  rawIntent,
  type SignedPolicy,
  type StoredLink,
  type SuiteId,
} from '@glacis/protocol';
import type {
  AuditEvent,
  ErrorInfo,
  Exclusion,
  IdempotencyRecord,
  JsonObject,
  KeyChange,
  KeyRecord,
  KeyStatus,
  OperationRecord,
  OperationStatus,
  OperationType,
  Role,
  SignatureRecord,
  SignatureStatus,
  StoredPolicy,
  StoredResponse,
  TokenRecord,
  TokenSource,
} from './types.js';

/** A `keys` row. */
export interface KeyRow {
  seq: number;
  key_id: string;
  operation_id: string;
  label: string | null;
  suite: string;
  threshold: number;
  parties: string;
  status: string;
  public_key: string | null;
  verifying_shares: string | null;
  group_commitment: string | null;
  certificate: string | null;
  error: string | null;
  created_at: string;
  settled_at: string | null;
  requested_by: string;
  generation: number;
  lineage: string;
}

/** A `signatures` row. */
export interface SignatureRow {
  seq: number;
  signature_id: string;
  key_id: string;
  message: string | null;
  intent: string | null;
  context: string | null;
  approvals: string;
  status: string;
  signature: string | null;
  signatures: string | null;
  finalized: string | null;
  signers: string | null;
  excluded: string;
  error: string | null;
  created_at: string;
  completed_at: string | null;
  deadline: string;
  requested_by: string;
}

/** An `operations` row. */
export interface OperationRow {
  seq: number;
  operation_id: string;
  key_id: string;
  type: string;
  status: string;
  error: string | null;
  created_at: string;
  completed_at: string | null;
  params: string;
  progress: string | null;
  requested_by: string | null;
}

/** A `tokens` row. */
export interface TokenRow {
  name: string;
  token_sha256: string;
  role: string;
  source: string;
  created_at: string;
}

/** An `idempotency` row. */
export interface IdempotencyRow {
  idem_key: string;
  route: string;
  token_name: string;
  request_hash: string;
  status_code: number;
  response: string;
  created_at: string;
}

/** A `policies` row. */
export interface PolicyRow {
  version: number;
  digest: string;
  signed: string;
  distributed_at: string;
  distributed_by: string;
}

/** An `audit` row. */
export interface AuditRow {
  seq: number;
  at: string;
  type: string;
  data: string;
  prev_hash: string;
  hash: string;
}

function json<T>(text: string): T {
  return JSON.parse(text) as T;
}
function jsonOrNull<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

/** A `keys` row as a KeyRecord. */
export function keyFromRow(r: KeyRow): KeyRecord {
  return {
    keyId: r.key_id,
    label: r.label,
    suite: r.suite as SuiteId,
    threshold: r.threshold,
    parties: json<string[]>(r.parties),
    status: r.status as KeyStatus,
    publicKey: r.public_key,
    verifyingShares: jsonOrNull<Record<string, string>>(r.verifying_shares),
    groupCommitment: jsonOrNull<string[]>(r.group_commitment),
    certificate: jsonOrNull<Envelope[]>(r.certificate),
    generation: r.generation,
    lineage: json<StoredLink[]>(r.lineage),
    error: jsonOrNull<ErrorInfo>(r.error),
    createdAt: r.created_at,
    settledAt: r.settled_at,
    operationId: r.operation_id,
    requestedBy: r.requested_by,
  };
}

/**
 * The columns a lifecycle operation rewrites on its key (Store.completeOperation), as both stores
 * write them: the link appended to the lineage; for a refresh or reshare the successor's
 * material, and the generation one higher.
 */
export function keyChangeColumns(key: KeyRecord, change: KeyChange) {
  const m = change.material;
  return {
    threshold: m?.threshold ?? key.threshold,
    parties: JSON.stringify(m?.parties ?? key.parties),
    verifyingShares: JSON.stringify(m?.verifyingShares ?? key.verifyingShares),
    groupCommitment: JSON.stringify(m?.groupCommitment ?? key.groupCommitment),
    generation: m ? key.generation + 1 : key.generation,
    lineage: JSON.stringify([...key.lineage, change.link]),
  };
}

/** A `signatures` row as a SignatureRecord. */
export function signatureFromRow(r: SignatureRow): SignatureRecord {
  return {
    signatureId: r.signature_id,
    keyId: r.key_id,
    // Rows from before typed intents signed raw bytes: their intent is the raw intent of `message`.
    intent: r.intent === null ? rawIntent(r.message ?? '') : json<Intent>(r.intent),
    message: r.message,
    context: jsonOrNull<JsonObject>(r.context),
    approvals: json<Approval[]>(r.approvals),
    status: r.status as SignatureStatus,
    signature: r.signature,
    signatures: r.signatures === null ? (r.signature === null ? null : [r.signature]) : json<string[]>(r.signatures),
    finalized: jsonOrNull<FinalizedPsbt>(r.finalized),
    signers: jsonOrNull<string[]>(r.signers),
    excluded: json<Exclusion[]>(r.excluded),
    error: jsonOrNull<ErrorInfo>(r.error),
    createdAt: r.created_at,
    completedAt: r.completed_at,
    deadline: r.deadline,
    requestedBy: r.requested_by,
  };
}

/** An `operations` row as an OperationRecord. */
export function operationFromRow(r: OperationRow): OperationRecord {
  return {
    operationId: r.operation_id,
    keyId: r.key_id,
    type: r.type as OperationType,
    status: r.status as OperationStatus,
    error: jsonOrNull<ErrorInfo>(r.error),
    createdAt: r.created_at,
    completedAt: r.completed_at,
    params: json<JsonObject>(r.params),
    progress: jsonOrNull<JsonObject>(r.progress),
    requestedBy: r.requested_by,
  };
}

/** A `tokens` row as a TokenRecord (without the hash). */
export function tokenFromRow(r: TokenRow): TokenRecord {
  return { name: r.name, role: r.role as Role, source: r.source as TokenSource, createdAt: r.created_at };
}

/** An `idempotency` row as an IdempotencyRecord. */
export function idempotencyFromRow(r: IdempotencyRow): IdempotencyRecord {
  return {
    scope: { key: r.idem_key, route: r.route, tokenName: r.token_name },
    requestHash: r.request_hash,
    response: { statusCode: r.status_code, body: json<StoredResponse['body']>(r.response) },
    createdAt: r.created_at,
  };
}

/** A `policies` row as a StoredPolicy. */
export function policyFromRow(r: PolicyRow): StoredPolicy {
  return {
    signed: json<SignedPolicy>(r.signed),
    version: r.version,
    digest: r.digest,
    distributedAt: r.distributed_at,
    distributedBy: r.distributed_by,
  };
}

/** An `audit` row as an AuditEvent. */
export function auditFromRow(r: AuditRow): AuditEvent {
  return { seq: r.seq, at: r.at, type: r.type, data: json<JsonObject>(r.data), prevHash: r.prev_hash, hash: r.hash };
}
