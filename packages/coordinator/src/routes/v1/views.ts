/**
 * Stored records → the objects API.md defines. Internal fields (group commitment, deadline, who
 * asked) stay out; the response schemas would strip them anyway, this keeps the mapping explicit.
 */
import { publishCertificate } from '@glacis/protocol';
import type { z } from 'zod';
import type { KeyRecord, OperationRecord, SignatureRecord } from '../../store/types.js';
import type { keySchema, operationSchema, signatureSchema } from './schemas.js';

/** The API's Key. */
export type KeyView = z.output<typeof keySchema>;
/** The API's Signature. */
export type SignatureView = z.output<typeof signatureSchema>;
/** The API's Operation. */
export type OperationView = z.output<typeof operationSchema>;

/**
 * A KeyRecord as the API's Key. `identityKeyOf` names the identity key (hex) the coordinator pins
 * for a party, published beside each confirmation for the desk to compare with its own.
 */
export function keyView(k: KeyRecord, identityKeyOf: (partyId: string) => string | undefined): KeyView {
  return {
    keyId: k.keyId,
    label: k.label,
    suite: k.suite,
    threshold: k.threshold,
    parties: k.parties,
    status: k.status,
    publicKey: k.publicKey,
    verifyingShares: k.verifyingShares,
    error: k.error,
    createdAt: k.createdAt,
    generation: k.generation,
    certificate: k.status === 'active' && k.certificate ? publishCertificate(k.certificate, identityKeyOf, k.lineage) : null,
  };
}

/** A SignatureRecord as the API's Signature; `approvalStatus` for a request awaiting approval. */
export function signatureView(s: SignatureRecord, approvalStatus: SignatureView['approvalStatus'] = null): SignatureView {
  return {
    signatureId: s.signatureId,
    keyId: s.keyId,
    intent: s.intent,
    message: s.message,
    context: s.context,
    approvals: s.approvals,
    status: s.status,
    approvalStatus,
    signature: s.signature,
    signatures: s.signatures,
    finalized: s.finalized,
    signers: s.signers,
    excluded: s.excluded,
    error: s.error,
    createdAt: s.createdAt,
    completedAt: s.completedAt,
  };
}

/** An OperationRecord as the API's Operation. */
export function operationView(o: OperationRecord): OperationView {
  return {
    operationId: o.operationId,
    keyId: o.keyId,
    type: o.type,
    status: o.status,
    error: o.error,
    createdAt: o.createdAt,
    completedAt: o.completedAt,
    progress: o.progress,
  };
}
