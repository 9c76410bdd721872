/**
 * Settlements as both stores make them: what a settled key, signature request or operation writes,
 * when a row counts as settled, and the Store methods that only name a settlement. The settle
 * transactions themselves stay in each store (sqlite-store.ts, pg-store.ts): each is one
 * transaction with its fence check and audit event, announced once durable.
 */
import type { AuditRecord, KeyChange, LeaseFence } from '../orchestrator/store-port.js';
import type { ErrorInfo, SettleKind, SignatureResult, SignatureStatus, Store } from './types.js';

/** The `keys` columns a finished DKG writes: the key's public material, or none and the error. */
export interface KeySettlement {
  status: 'active' | 'failed';
  publicKey: string | null;
  verifyingShares: string | null;
  groupCommitment: string | null;
  certificate: string | null;
  /** The error as stored (errorColumn); the key's `dkg` operation is settled with it too. */
  error: string | null;
}

/** What a settled signature request carries: its result, or its error. */
export type SignatureSettlement = Partial<SignatureResult> & { error?: ErrorInfo };

/** The settle transactions of a store. Each is one transaction, and changes nothing on a row already settled. */
export interface SettleTransactions {
  /** Settles a key's DKG, with its `dkg` operation. */
  settleKey(keyId: string, columns: KeySettlement, audit?: AuditRecord, fence?: LeaseFence): Promise<void>;
  settleSignature(id: string, status: SignatureStatus, fields: SignatureSettlement, audit?: AuditRecord, fence?: LeaseFence): Promise<void>;
  /**
   * Settles an operation, with the change it makes to its key (lineage link, successor material)
   * and its audit event, in one transaction: the API never shows the operation completed without
   * the key switched, or the key switched without the operation completed.
   */
  settleOperation(
    id: string,
    status: 'completed' | 'failed',
    error: ErrorInfo | null,
    change?: KeyChange,
    audit?: AuditRecord,
    fence?: LeaseFence,
  ): Promise<void>;
}

/** An error as the stores keep it: its code and message, as JSON. */
export function errorColumn(error: ErrorInfo): string {
  return JSON.stringify({ code: error.code, message: error.message });
}

/** The `signatures` columns a settlement writes: JSON text, or null where it has none. */
export function signatureColumns(fields: SignatureSettlement) {
  return {
    signature: fields.signature ?? null,
    signatures: fields.signatures ? JSON.stringify(fields.signatures) : null,
    finalized: fields.finalized ? JSON.stringify(fields.finalized) : null,
    signers: fields.signers ? JSON.stringify(fields.signers) : null,
    error: fields.error ? JSON.stringify(fields.error) : null,
  };
}

const FINAL_SIGNATURE: readonly string[] = ['completed', 'failed', 'rejected'] satisfies SignatureStatus[];

/** Whether a row of `kind` in `status` is settled (what `?wait=` waits for). */
export function isSettledStatus(kind: SettleKind, status: string): boolean {
  return kind === 'signature' ? FINAL_SIGNATURE.includes(status) : status !== 'pending';
}

/** The Store methods that name a settlement, each one call of the store's settle transaction. */
export function settleMethods(
  t: SettleTransactions,
): Pick<
  Store,
  'markKeyActive' | 'markKeyFailed' | 'completeSignature' | 'failSignature' | 'rejectSignature' | 'completeOperation' | 'failOperation'
> {
  const failed = (error: ErrorInfo) => ({ error: { code: error.code, message: error.message } });
  return {
    async markKeyActive(keyId, m, audit, fence) {
      const material = {
        publicKey: m.publicKey,
        verifyingShares: JSON.stringify(m.verifyingShares),
        groupCommitment: JSON.stringify(m.groupCommitment),
        certificate: JSON.stringify(m.certificate),
      };
      await t.settleKey(keyId, { status: 'active', ...material, error: null }, audit, fence);
    },
    async markKeyFailed(keyId, error, audit, fence) {
      const none = { publicKey: null, verifyingShares: null, groupCommitment: null, certificate: null };
      await t.settleKey(keyId, { status: 'failed', ...none, error: errorColumn(error) }, audit, fence);
    },
    async completeSignature(id, r, audit, fence) {
      await t.settleSignature(id, 'completed', { ...r, signatures: r.signatures ?? [r.signature] }, audit, fence);
    },
    async failSignature(id, error, audit, fence) {
      await t.settleSignature(id, 'failed', failed(error), audit, fence);
    },
    async rejectSignature(id, error, audit, fence) {
      await t.settleSignature(id, 'rejected', failed(error), audit, fence);
    },
    async completeOperation(id, change, audit, fence) {
      await t.settleOperation(id, 'completed', null, change, audit, fence);
    },
    async failOperation(id, error, audit, fence) {
      await t.settleOperation(id, 'failed', failed(error).error, undefined, audit, fence);
    },
  };
}
