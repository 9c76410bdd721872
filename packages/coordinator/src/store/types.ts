/**
 * The coordinator's persistence boundary. Everything here is public material (requests, public
 * keys, signatures, audit log): the coordinator never stores a secret share. Methods are async so
 * that a PostgreSQL backend can implement the same interface; the SQLite one is synchronous inside.
 */
import type {
  Approval,
  AuditEvent as ChainEvent,
  Envelope,
  FinalizedPsbt,
  Intent,
  SignedPolicy,
  StoredLink,
  SuiteId,
} from '@glacis/protocol';
import type {
  AuditRecord,
  ErrorInfo,
  JsonObject,
  JsonValue,
  KeyChange,
  LeaseFence,
  LifecycleType,
  NewOperation,
  OperationRecord,
  OperationStatus,
  OperationType,
  OrchestratorStore,
} from '../orchestrator/store-port.js';

export type { ClaimRequest, Lease, LeaseFence, WorkKind } from '../orchestrator/store-port.js';

export type { ErrorInfo, JsonObject, JsonValue, KeyChange, LifecycleType, NewOperation, OperationRecord, OperationStatus, OperationType };

/** Status of a key: `pending` until its DKG settles. */
export type KeyStatus = 'pending' | 'active' | 'failed';
/**
 * Status of a signing request; `completed`, `failed` and `rejected` are final. `awaiting_approval`:
 * accepted, held back until approvers add what the distributed policy requires (or reject it).
 */
export type SignatureStatus = 'pending' | 'awaiting_approval' | 'signing' | 'completed' | 'failed' | 'rejected';
/** The statuses that are not final. */
export const UNSETTLED_SIGNATURE_STATUSES = ['pending', 'awaiting_approval', 'signing'] as const satisfies readonly SignatureStatus[];
/** Token roles, from API.md. `approver`: reads requests and adds approvals or rejections (the approval's own signature is what counts). */
export type Role = 'admin' | 'requester' | 'approver' | 'auditor';

/** A key as stored. */
export interface KeyRecord {
  keyId: string;
  label: string | null;
  suite: SuiteId;
  threshold: number;
  /** Committee, sorted. */
  parties: string[];
  status: KeyStatus;
  publicKey: string | null;
  verifyingShares: Record<string, string> | null;
  groupCommitment: string[] | null;
  /** The DKG success certificate (every member's signed confirmation), once active. */
  certificate: Envelope[] | null;
  /** 0 after the DKG; one more after each refresh or reshare. */
  generation: number;
  /** Every lifecycle operation completed since the DKG, oldest first (Key.certificate.lineage). */
  lineage: StoredLink[];
  error: ErrorInfo | null;
  createdAt: string;
  settledAt: string | null;
  /** The `dkg` operation that tracks this key's generation. */
  operationId: string;
  /** Name of the token that asked for the key. */
  requestedBy: string;
}

/** A party left out of a signing request, and why. */
export interface Exclusion {
  partyId: string;
  reason: string;
}

/** A signing request as stored. */
export interface SignatureRecord {
  signatureId: string;
  keyId: string;
  /** What to sign, as submitted (a request with only `message` is the raw intent of it). */
  intent: Intent;
  /** The raw intent's bytes (hex); null for a typed intent. */
  message: string | null;
  context: JsonObject | null;
  approvals: Approval[];
  status: SignatureStatus;
  /** The first (for a raw intent, the only) signature. */
  signature: string | null;
  /** One signature per message of the intent, in order (per listed PSBT input). */
  signatures: string[] | null;
  /** bitcoin-psbt: the PSBT with this key's inputs finalized, and the transaction when every input is final. */
  finalized: FinalizedPsbt | null;
  signers: string[] | null;
  excluded: Exclusion[];
  error: ErrorInfo | null;
  createdAt: string;
  completedAt: string | null;
  /**
   * When the request fails if not completed: with `insufficient_parties` once it is released for
   * signing, with `approval_timeout` while it awaits approval.
   */
  deadline: string;
  requestedBy: string;
}

/** A key request the HTTP layer has validated; ids are chosen by the caller. */
export interface NewKey {
  keyId: string;
  operationId: string;
  label: string | null;
  suite: SuiteId;
  threshold: number;
  parties: string[];
  createdAt: string;
  requestedBy: string;
}

/** A signing request the HTTP layer has validated. */
export interface NewSignature {
  signatureId: string;
  keyId: string;
  intent: Intent;
  /** `pending` (signing starts at once) or `awaiting_approval`. */
  status: 'pending' | 'awaiting_approval';
  context: JsonObject | null;
  approvals: Approval[];
  createdAt: string;
  deadline: string;
  requestedBy: string;
}

/** What a completed signing request holds. */
export interface SignatureResult {
  /** The first signature (hex). */
  signature: string;
  signers: string[];
  /** Every signature, in message order (hex); `[signature]` for a raw intent. */
  signatures?: string[];
  finalized?: FinalizedPsbt | null;
}

/** A distributed policy as the coordinator keeps it. */
export interface StoredPolicy {
  signed: SignedPolicy;
  version: number;
  /** `policyDigest` of the document. */
  digest: string;
  distributedAt: string;
  distributedBy: string;
}

/** The public data of a finished DKG. */
export interface KeyMaterial {
  publicKey: string;
  verifyingShares: Record<string, string>;
  groupCommitment: string[];
  certificate: Envelope[];
}

/** Who an idempotency key belongs to: the same key under another route or token is unrelated. */
export interface IdempotencyScope {
  key: string;
  /** Method and path, e.g. `POST /v1/keys/key_x/signatures`. */
  route: string;
  tokenName: string;
}

/** A response to replay for a repeated idempotent request. */
export interface StoredResponse {
  statusCode: number;
  body: JsonObject;
}

/** The first answer to an idempotent request, kept so a retry gets the same one. */
export interface IdempotencyRecord {
  scope: IdempotencyScope;
  /** SHA-256 (hex) of the request's canonical body. */
  requestHash: string;
  response: StoredResponse;
  createdAt: string;
}

/** What a create call claims under an idempotency key, in the same transaction as the row. */
export interface IdempotencyClaim {
  scope: IdempotencyScope;
  requestHash: string;
  response: StoredResponse;
}

/** Most signing requests accepted but not settled (pending, awaiting_approval or signing): overall, and for one key. */
export interface InFlightCaps {
  maxInFlight: number;
  maxInFlightPerKey: number;
}

/** Result of a create: the new row, or the record of an earlier request under the same key. */
export type CreateResult<T> = { created: true; record: T } | { created: false; previous: IdempotencyRecord };

/**
 * Who installed a token: `token create` (`cli`, removed only by `token delete`), coordinator.json
 * (`config`) or GLACIS_ADMIN_TOKEN (`env`); the last two are revoked at the first start whose
 * configuration no longer lists them.
 */
export type TokenSource = 'cli' | 'config' | 'env';

/** A bearer token as stored: never the token itself, only its SHA-256. */
export interface TokenRecord {
  name: string;
  role: Role;
  source: TokenSource;
  createdAt: string;
}

/** A token the configuration installs at start, by the SHA-256 of its secret. */
export interface ConfiguredTokenHash {
  name: string;
  role: Role;
  sha256: string;
  source: Exclude<TokenSource, 'cli'>;
}

/** One entry of the hash-chained audit log: an event of the protocol's chain whose data is a JSON object. */
export interface AuditEvent extends ChainEvent {
  data: JsonObject;
}

/** A page request: `cursor` is the opaque string a previous page returned. */
export interface PageRequest {
  limit: number;
  cursor: string | null;
}

/** A page of results, oldest first; `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** What `waitForSettled` can wait for. */
export type SettleKind = 'key' | 'signature' | 'operation';

/**
 * Everything the coordinator persists. Implements the orchestrator's port (OrchestratorStore).
 * Settle methods are first-settle-wins: once a row is final, later settle calls change nothing.
 * They throw `not_found` for an unknown id, and `lease_lost` for a fence that is not current. They
 * do not write audit events: the caller does.
 */
export interface Store extends OrchestratorStore {
  /** True when the store is open and answers a query; used by readiness. */
  ping(): Promise<boolean>;
  /** Releases the database; pending waits resolve `false`. */
  close(): Promise<void>;

  /** Persists a pending key, its `dkg` operation, its free work lease and a `key_requested` audit event atomically. */
  createKey(key: NewKey, idempotency?: IdempotencyClaim): Promise<CreateResult<KeyRecord>>;
  /** The key, or undefined. */
  getKey(keyId: string): Promise<KeyRecord | undefined>;
  /** Keys, oldest first. */
  listKeys(page: PageRequest): Promise<Page<KeyRecord>>;
  /** Keys whose DKG has not settled, for restart recovery. */
  listPendingKeys(): Promise<KeyRecord[]>;
  /** pending → active; settles the key's `dkg` operation too. */
  markKeyActive(keyId: string, material: KeyMaterial, audit?: AuditRecord, fence?: LeaseFence): Promise<void>;
  /** pending → failed; settles the key's `dkg` operation too. */
  markKeyFailed(keyId: string, error: ErrorInfo, audit?: AuditRecord, fence?: LeaseFence): Promise<void>;

  /**
   * Persists a signing request (`pending`, or `awaiting_approval`), its free work lease and a
   * `signature_requested` audit event atomically; the key must be active. Of two creates under one idempotency scope at once, one
   * creates and the other answers `created: false` with the first one's record. With `caps`, throws
   * `capacity_exceeded` instead when as many requests as a cap allows are already unsettled (a replay
   * under the same idempotency key is answered first).
   */
  createSignature(sig: NewSignature, idempotency?: IdempotencyClaim, caps?: InFlightCaps): Promise<CreateResult<SignatureRecord>>;
  /** The signing request, or undefined. */
  getSignature(signatureId: string): Promise<SignatureRecord | undefined>;
  /** A key's signing requests, oldest first. */
  listSignatures(keyId: string, page: PageRequest): Promise<Page<SignatureRecord>>;
  /** Signing requests across keys, oldest first; only those in `status` when given. */
  listAllSignatures(page: PageRequest, status?: SignatureStatus): Promise<Page<SignatureRecord>>;
  /** Requests accepted but not settled (pending, awaiting_approval or signing), oldest first, for restart recovery. */
  listUnsettledSignatures(): Promise<SignatureRecord[]>;
  /** pending → signing (signing → signing is a no-op, for a request resumed after a restart). */
  markSigning(signatureId: string, fence?: LeaseFence): Promise<void>;
  /** → completed with the aggregate signature(s) and the parties whose shares they hold. */
  completeSignature(signatureId: string, result: SignatureResult, audit?: AuditRecord, fence?: LeaseFence): Promise<void>;
  /** → failed (e.g. `insufficient_parties` at the deadline). */
  failSignature(signatureId: string, error: ErrorInfo, audit?: AuditRecord, fence?: LeaseFence): Promise<void>;
  /** → rejected (the parties' policies refused it). */
  rejectSignature(signatureId: string, error: ErrorInfo, audit?: AuditRecord, fence?: LeaseFence): Promise<void>;
  /** Records a party left out of this request; a repeated (partyId, reason) is kept once. */
  addExcluded(signatureId: string, exclusion: Exclusion, audit?: AuditRecord, fence?: LeaseFence): Promise<void>;
  /**
   * Adds `approval` to a request awaiting approval and appends `audit`, atomically. Optimistic:
   * `expected` is how many approvals the request held when the caller decided `release`; if it
   * holds another number now, nothing changes and the answer is `stale` (decide again). With
   * `release`, the request also moves to `pending` with that signing deadline, and its work lease is
   * freed (whoever held it for the approval deadline no longer does; the next claim signs). Takes no
   * fence: approvals arrive on any instance, like new requests. Throws `not_found`,
   * `signature_not_awaiting_approval` (409), or `approval_exists` (409) for an approver key or a
   * nonce the request already holds. `idempotency` is claimed in the same transaction; a claim
   * under which an answer is stored already returns that record instead (nothing changes).
   */
  addApproval(
    signatureId: string,
    approval: Approval,
    opts: { expected: number; release: { deadline: string } | null; idempotency?: IdempotencyClaim },
    audit?: AuditRecord,
  ): Promise<SignatureRecord | 'stale' | IdempotencyRecord>;
  /**
   * awaiting_approval → `rejected` (an approver said no) or `failed` (`approval_timeout`), with
   * `audit` and the `idempotency` claim, removing its work lease; false, and nothing changed, when
   * the request no longer awaits approval. A rejection comes from the HTTP layer without a fence;
   * the approval timeout from the lease holder, with one.
   */
  settleAwaiting(
    signatureId: string,
    status: 'rejected' | 'failed',
    error: ErrorInfo,
    audit?: AuditRecord,
    idempotency?: IdempotencyClaim,
    fence?: LeaseFence,
  ): Promise<boolean>;

  /** The latest distributed policy, or undefined before the first. */
  getPolicy(): Promise<StoredPolicy | undefined>;
  /**
   * Stores `policy` as the latest with a `policy_distributed` audit event, atomically, if its
   * version is newer than the stored one: true. The stored document again (same digest): false,
   * nothing changes. Any other version not newer: throws `policy_version_conflict` (409).
   */
  putPolicy(policy: StoredPolicy): Promise<boolean>;

  /** The operation, or undefined. */
  getOperation(operationId: string): Promise<OperationRecord | undefined>;
  /**
   * Persists a pending lifecycle operation, its free work lease (kind `operation`) and its
   * `<type>_requested` audit event atomically. The key must be active (`key_not_active`); a
   * refresh, repair or reshare is refused while another of them is pending on the key
   * (`operation_in_progress`): one share-changing operation per key at a time. Drills run beside anything.
   */
  createOperation(op: NewOperation, idempotency?: IdempotencyClaim): Promise<CreateResult<OperationRecord>>;
  /**
   * Records where a pending operation stands (public data only), replacing what was recorded. A
   * settled operation takes it too, unfenced (a member's late abandonment is kept for the members
   * that were away).
   */
  setOperationProgress(operationId: string, progress: JsonObject, fence?: LeaseFence): Promise<void>;
  /**
   * pending → completed, with `change` to its key (the lineage link and, for a refresh or
   * reshare, the successor's committee, threshold, verifying shares and group commitment, the
   * generation raised), the operation's lease removed and `audit` appended: one transaction, so
   * the API never shows the operation completed without the key switched, or the reverse. A key
   * no longer at `change.expectedGeneration` (or not active) is `operation_conflict`, changing nothing.
   */
  completeOperation(operationId: string, change?: KeyChange, audit?: AuditRecord, fence?: LeaseFence): Promise<void>;
  /** pending → failed, the lease removed and `audit` appended in one transaction; the key is untouched. */
  failOperation(operationId: string, error: ErrorInfo, audit?: AuditRecord, fence?: LeaseFence): Promise<void>;
  /** Active keys whose committee includes `partyId`, oldest first. */
  listActiveKeysOf(partyId: string): Promise<KeyRecord[]>;
  /** See OrchestratorStore: called after each commit that switched a key's material, on any instance. */
  onKeySwitched(listener: (keyId: string) => void): () => void;

  /** The earlier answer to a request under this idempotency scope, or undefined. */
  getIdempotency(scope: IdempotencyScope): Promise<IdempotencyRecord | undefined>;

  /** Stores a token by the SHA-256 (hex) of its secret; replaces a token of the same name. */
  putToken(name: string, role: Role, tokenSha256: string, source?: TokenSource): Promise<TokenRecord>;
  /**
   * Makes the configured tokens exactly `tokens`, atomically: each is installed (or replaced), and
   * every `config`/`env` token not among them is deleted with a `token_revoked` audit event.
   * Tokens made by `token create` are left alone. Returns the names revoked.
   */
  syncConfiguredTokens(tokens: readonly ConfiguredTokenHash[]): Promise<string[]>;
  /** The token whose secret hashes to `tokenSha256`, or undefined. */
  findToken(tokenSha256: string): Promise<TokenRecord | undefined>;
  /** Every token (names and roles only). */
  listTokens(): Promise<TokenRecord[]>;
  /** Deletes a token; true if it existed. */
  deleteToken(name: string): Promise<boolean>;

  /** Appends a hash-chained audit event; values JSON cannot hold are normalised, never rejected. */
  appendAudit(type: string, data: Record<string, unknown>): Promise<void>;
  /** Audit events, oldest first. */
  listAudit(page: PageRequest): Promise<Page<AuditEvent>>;

  /**
   * Resolves true as soon as the row is final (key active|failed, signature completed|failed|
   * rejected, operation completed|failed), false after `ms`, on `signal` abort or on close.
   * Resolves false at once for an id that names nothing. Sees a settle made by another
   * coordinator instance on the same database too (a wake-up hint, with polling behind it).
   */
  waitForSettled(kind: SettleKind, id: string, ms: number, signal?: AbortSignal): Promise<boolean>;
}
