/**
 * What the orchestrator needs of the coordinator's store. The SQLite store implements it; so must
 * any other backend. Methods may be synchronous or return promises.
 */
import type { Approval, Envelope, FinalizedPsbt, Intent, SignedPolicy, SuiteId } from '@glacis/protocol';

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
  error: { code: string; message: string } | null;
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

export interface OrchestratorStore {
  getKey(keyId: string): MaybePromise<KeyRow | undefined>;
  markKeyActive(
    keyId: string,
    v: { publicKey: string; verifyingShares: Record<string, string>; groupCommitment: string[]; certificate: Envelope[] },
    audit?: AuditRecord,
  ): MaybePromise<void>;
  markKeyFailed(keyId: string, error: { code: string; message: string }, audit?: AuditRecord): MaybePromise<void>;
  getSignature(signatureId: string): MaybePromise<SignatureRow | undefined>;
  markSigning(signatureId: string): MaybePromise<void>;
  completeSignature(signatureId: string, v: SignatureOutcome, audit?: AuditRecord): MaybePromise<void>;
  failSignature(signatureId: string, error: { code: string; message: string }, audit?: AuditRecord): MaybePromise<void>;
  rejectSignature(signatureId: string, error: { code: string; message: string }, audit?: AuditRecord): MaybePromise<void>;
  addExcluded(signatureId: string, e: { partyId: string; reason: string }, audit?: AuditRecord): MaybePromise<void>;
  /** awaiting_approval → failed/rejected; false when the request no longer awaits approval (Store.settleAwaiting). */
  settleAwaiting(
    signatureId: string,
    status: 'rejected' | 'failed',
    error: { code: string; message: string },
    audit?: AuditRecord,
  ): MaybePromise<boolean>;
  /** Requests accepted but not settled (pending, awaiting_approval or signing), oldest first. */
  listUnsettledSignatures(): MaybePromise<SignatureRow[]>;
  /** Keys whose DKG had not finished. */
  listPendingKeys(): MaybePromise<KeyRow[]>;
  appendAudit(type: string, data: Record<string, unknown>): MaybePromise<void>;
  /** The latest distributed policy (Store.getPolicy), offered to parties that report an older one. */
  getPolicy(): MaybePromise<{ signed: SignedPolicy; version: number; digest: string } | undefined>;
}
