/**
 * What the orchestrator needs of the coordinator's store. The SQLite store implements it; so must
 * any other backend. Methods may be synchronous or return promises.
 */
import type {
  Approval,
  Envelope,
  FinalizedPsbt,
  Intent,
  NonceCommitmentWire,
  PublicKeyPackage,
  SignedPolicy,
  StoredLink,
  SuiteId,
} from '@glacis/protocol';

type MaybePromise<T> = T | Promise<T>;

/**
 * An audit event to append in the same transaction as a state change, so that a crash can never
 * leave the change without its audit record (DESIGN.md invariant 5). Appended only when the
 * change happens (a settle on an already-settled row appends nothing).
 */
export interface AuditRecord {
  type: string;
  data: Record<string, unknown>;
}

/**
 * Work a coordinator instance claims before it runs it: a signing request, a key's DKG, or a
 * lifecycle operation (refresh, repair, reshare, drill) by its operation id.
 */
export type WorkKind = 'signature' | 'key' | 'operation';

/**
 * Who may write one piece of work's results: the instance `owner`, while it holds the lease at
 * `epoch` (a fencing token, raised by every claim). A write that carries a fence commits only if
 * the lease is still this one and has not lapsed, checked in the write's own transaction; any
 * other write is refused with `lease_lost` and changes nothing.
 */
export interface LeaseFence {
  kind: WorkKind;
  id: string;
  owner: string;
  epoch: number;
}

/** A claimed lease; `expiresAt` is ms since the epoch on the store's clock (the database server's). */
export interface Lease extends LeaseFence {
  expiresAt: number;
}

/** What `claimWork` may take. */
export interface ClaimRequest {
  /** The claiming instance. */
  owner: string;
  ttlMs: number;
  /** At most this many leases. */
  limit: number;
  /** Only this piece of work (just accepted by this instance). */
  target?: { kind: WorkKind; id: string };
  /**
   * Take leases that have not lapsed too. Only for a store that one coordinator uses alone
   * (SQLite): at start, whatever an earlier life of it held is known to be dead.
   */
  takeLive?: boolean;
}

/** The parts of a key row the orchestrator reads. */
export interface KeyRow {
  keyId: string;
  suite: SuiteId;
  threshold: number;
  parties: string[];
  status: 'pending' | 'active' | 'failed';
  publicKey: string | null;
  verifyingShares: Record<string, string> | null;
  groupCommitment: string[] | null;
  /** The DKG certificate (every member's signed confirmation), once active. */
  certificate: Envelope[] | null;
  /** 0 after the DKG; one more after each refresh or reshare. */
  generation: number;
  /** Every lifecycle operation completed since the DKG, oldest first. */
  lineage: StoredLink[];
  error: { code: string; message: string } | null;
}

/** An active key row's public package (its material is there once the key is active). */
export function publicPackageOf(key: KeyRow): PublicKeyPackage {
  return {
    keyId: key.keyId,
    suite: key.suite,
    threshold: key.threshold,
    committee: key.parties,
    publicKey: key.publicKey as string,
    groupCommitment: key.groupCommitment as string[],
    verifyingShares: key.verifyingShares as Record<string, string>,
  };
}

/** A JSON value as it is persisted and served. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [k: string]: JsonValue };

/** Why something failed: a stable code and a human-readable message. */
export interface ErrorInfo {
  code: string;
  message: string;
}

/** Status of a long operation. */
export type OperationStatus = 'pending' | 'completed' | 'failed';
/** What a long operation does. */
export type OperationType = 'dkg' | 'refresh' | 'repair' | 'reshare' | 'drill';
/** The operations on an existing key. */
export type LifecycleType = Exclude<OperationType, 'dkg'>;

/** A long operation as stored. */
export interface OperationRecord {
  operationId: string;
  keyId: string;
  type: OperationType;
  status: OperationStatus;
  error: ErrorInfo | null;
  createdAt: string;
  completedAt: string | null;
  /** What was asked (repair: `{partyId}`; reshare: `{threshold, parties}`; others: `{}`). */
  params: JsonObject;
  /** Where it stands, as the orchestrator last recorded it (public data only); null before it started. */
  progress: JsonObject | null;
  /** Name of the token that asked, `auto-repair` for the coordinator's own, null for a DKG. */
  requestedBy: string | null;
}

/** A lifecycle operation the HTTP layer (or auto-repair) has validated. */
export interface NewOperation {
  operationId: string;
  keyId: string;
  type: LifecycleType;
  params: JsonObject;
  createdAt: string;
  requestedBy: string;
}

/**
 * What a completed refresh, repair or reshare changes on its key, in the transaction that settles
 * the operation: the link it adds to the lineage and, for a refresh or reshare, the successor's
 * public material (the generation then goes up by one). `expectedGeneration` fences the change:
 * a key whose generation moved meanwhile is left alone and the call throws `operation_conflict`.
 */
export interface KeyChange {
  expectedGeneration: number;
  link: StoredLink;
  material?: {
    threshold: number;
    parties: string[];
    verifyingShares: Record<string, string>;
    groupCommitment: string[];
  };
}

/** The parts of a signature request the orchestrator reads. */
export interface SignatureRow {
  signatureId: string;
  keyId: string;
  intent: Intent;
  context: unknown;
  approvals: Approval[];
  status: 'pending' | 'awaiting_approval' | 'signing' | 'completed' | 'failed' | 'rejected';
  /**
   * RFC 3339: the request fails if not completed by then (`insufficient_parties`), or, while it
   * awaits approval, if not approved by then (`approval_timeout`).
   */
  deadline: string;
}

/** What a completed request stores: the signature(s), who signed, and a finalized PSBT for a bitcoin-psbt intent. */
export interface SignatureOutcome {
  signature: string;
  signers: string[];
  signatures?: string[];
  finalized?: FinalizedPsbt | null;
}

/**
 * Writes that take a `fence` are refused with `lease_lost` (changing nothing) unless the fence's
 * lease is current; without one they are unconditional (tests, tools). A settle removes the work's
 * lease in the same transaction: settled work has nothing left to claim.
 *
 * A request awaiting approval is unsettled work with a lease like any other: its holder keeps its
 * approval deadline (and fails it then, fenced). The approval that releases it for signing, on
 * whichever instance it arrives, frees the lease in the same transaction (Store.addApproval): the
 * holder's fence is void from then on, and the next claim — the releasing instance's, at once —
 * runs the signing.
 */
export interface OrchestratorStore {
  getKey(keyId: string): MaybePromise<KeyRow | undefined>;
  markKeyActive(
    keyId: string,
    v: { publicKey: string; verifyingShares: Record<string, string>; groupCommitment: string[]; certificate: Envelope[] },
    audit?: AuditRecord,
    fence?: LeaseFence,
  ): MaybePromise<void>;
  markKeyFailed(keyId: string, error: { code: string; message: string }, audit?: AuditRecord, fence?: LeaseFence): MaybePromise<void>;
  getSignature(signatureId: string): MaybePromise<SignatureRow | undefined>;
  markSigning(signatureId: string, fence?: LeaseFence): MaybePromise<void>;
  completeSignature(signatureId: string, v: SignatureOutcome, audit?: AuditRecord, fence?: LeaseFence): MaybePromise<void>;
  failSignature(signatureId: string, error: { code: string; message: string }, audit?: AuditRecord, fence?: LeaseFence): MaybePromise<void>;
  rejectSignature(
    signatureId: string,
    error: { code: string; message: string },
    audit?: AuditRecord,
    fence?: LeaseFence,
  ): MaybePromise<void>;
  addExcluded(signatureId: string, e: { partyId: string; reason: string }, audit?: AuditRecord, fence?: LeaseFence): MaybePromise<void>;
  /**
   * awaiting_approval → failed/rejected; false when the request no longer awaits approval
   * (Store.settleAwaiting). The orchestrator calls it at the approval deadline, with its fence.
   */
  settleAwaiting(
    signatureId: string,
    status: 'rejected' | 'failed',
    error: { code: string; message: string },
    audit?: AuditRecord,
    /** The orchestrator claims no idempotency key (the HTTP layer's rejections do: Store.settleAwaiting). */
    idempotency?: undefined,
    fence?: LeaseFence,
  ): MaybePromise<boolean>;
  /** Requests accepted but not settled (pending, awaiting_approval or signing), oldest first. */
  listUnsettledSignatures(): MaybePromise<SignatureRow[]>;
  /** Keys whose DKG had not finished. */
  listPendingKeys(): MaybePromise<KeyRow[]>;
  appendAudit(type: string, data: Record<string, unknown>): MaybePromise<void>;
  /** The latest distributed policy (Store.getPolicy), offered to parties that report an older one. */
  getPolicy(): MaybePromise<{ signed: SignedPolicy; version: number; digest: string } | undefined>;

  /**
   * Claims unsettled work whose lease has lapsed (or was never taken), oldest first, skipping work
   * another instance is claiming at this moment: each claim raises the lease's epoch, so the
   * previous holder's fenced writes are refused from now on.
   */
  claimWork(req: ClaimRequest): MaybePromise<Lease[]>;
  /** Extends those of `leases` that `owner` still holds and that have not lapsed; returns them. */
  renewLeases(owner: string, leases: readonly LeaseFence[], ttlMs: number): MaybePromise<Lease[]>;
  /** Lets every lease of `owner` lapse now, so another instance takes the work at once (shutdown). */
  releaseLeases(owner: string): MaybePromise<number>;

  // Key lifecycle (Store documents each). An operation is work with a lease of kind `operation`.
  getOperation(operationId: string): MaybePromise<OperationRecord | undefined>;
  createOperation(op: NewOperation): MaybePromise<{ created: true; record: OperationRecord } | { created: false }>;
  setOperationProgress(operationId: string, progress: JsonObject, fence?: LeaseFence): MaybePromise<void>;
  completeOperation(operationId: string, change?: KeyChange, audit?: AuditRecord, fence?: LeaseFence): MaybePromise<void>;
  failOperation(operationId: string, error: ErrorInfo, audit?: AuditRecord, fence?: LeaseFence): MaybePromise<void>;
  /** Active keys whose committee includes `partyId`, oldest first. */
  listActiveKeysOf(partyId: string): MaybePromise<KeyRow[]>;
  /**
   * Calls `listener` with a key's id after each commit that switched the key's material (a
   * refresh or reshare completed): on a database several instances share, whichever committed it,
   * so that every instance's signing stops using the old material. Returns the unsubscribe.
   * Optional for test doubles that one orchestrator uses alone.
   */
  onKeySwitched?(listener: (keyId: string) => void): () => void;

  /** The last bundle sequence accepted from offline party `partyId` (its inbox), or undefined. */
  lastInboxSequence(partyId: string): MaybePromise<number | undefined>;
  /**
   * Accepts bundle `sequence` from offline party `partyId`, atomically: when it is above the last
   * accepted, records it, stores `commitments` unused (a commitment already stored, used or not,
   * stays as it is) and answers true; otherwise changes nothing and answers false (a replay).
   */
  acceptInbox(partyId: string, sequence: number, commitments: readonly OfflineCommitment[]): MaybePromise<boolean>;
  /**
   * Draws `count` unused commitments of (`partyId`, `keyId`), oldest first, marking them used by
   * `usedBy` in the same transaction: none (and nothing marked) when fewer are stored. A drawn
   * commitment is never drawn again, across restarts and instances.
   */
  drawOfflineCommitments(partyId: string, keyId: string, count: number, usedBy: string): MaybePromise<NonceCommitmentWire[]>;
  /** Unused stored commitments of (`partyId`, `keyId`). */
  countOfflineCommitments(partyId: string, keyId: string): MaybePromise<number>;
  /** The sequence of the next bundle to `partyId` (its outbox): max(last + 1, `now`), recorded. */
  nextOutboxSequence(partyId: string, now: number): MaybePromise<number>;
}

/** An offline party's preprocessed commitment, for one key. */
export interface OfflineCommitment extends NonceCommitmentWire {
  keyId: string;
}
