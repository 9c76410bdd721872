/**
 * @glacis/protocol — FROST suites, wire schemas, signed and encrypted envelopes and the sans-IO
 * state machines of DKG, signing and the key lifecycle (refresh, repair, reshare, drills). No
 * sockets, files, clocks or ambient randomness.
 */

export {
  type AuditEvent,
  auditEventHash,
  CHAIN_START,
  type ChainPoint,
  type ChainVerdict,
  GENESIS_HASH,
  nextAuditEvent,
  verifyAuditChain,
  verifyAuditPages,
} from './audit-chain.js';
export { BUNDLE_ERROR_CODES, BundleError, type BundleErrorCode, isBundleError } from './bundle/bundle-error.js';
export type { BundleAddress, BundleHeader } from './bundle/bundle-header.js';
export { type BundleItem, type BundleItemKind, type BundleReceipt, ITEM_KINDS, RECEIPT_BYTES } from './bundle/bundle-items.js';
export { type BundleLedger, MemoryBundleLedger } from './bundle/bundle-ledger.js';
export { type BundleField, describeBundle, formatBundleDump } from './bundle/describe-bundle.js';
export {
  BUNDLE_MAGIC,
  BUNDLE_SIGNATURE_DOMAIN,
  BUNDLE_VERSION,
  MAX_BUNDLE_BYTES,
  MAX_BUNDLE_ITEMS,
  MAX_ITEM_BYTES,
  MIN_BUNDLE_BYTES,
} from './bundle/layout.js';
export { type OpenBundleOptions, type OpenedBundle, openBundle, readBundleHeader, receiptFor } from './bundle/open-bundle.js';
export { type BundleDraft, type BundleSender, bundleSigningBytes, sealBundle } from './bundle/seal-bundle.js';
export { concatBytes, equalBytes, fromHex, isHex, type Rng, toHex, utf8 } from './bytes.js';
export { type Canonical, canonicalBytes, canonicalJson } from './canonical.js';
export { type Committee, makeCommittee } from './committee.js';
export { type BoxContext, openBox, type SealedBox, sealBox } from './crypto/box.js';
export { type CertificateExpectation, verifyDkgCertificate } from './dkg/certificate.js';
export { DKG_FAILURE_CODES, DKG_SESSION_FAILURE_CODES, type DkgFailureCode, isDkgFailureCode } from './dkg/outcome.js';
export {
  createDkgParticipant,
  type DkgParticipant,
  type DkgParticipantOptions,
  type DkgPhase,
  type DkgSnapshot,
  type DkgStep,
} from './dkg/participant.js';
export { type DkgParams, dkgParamsHash, dkgTranscriptHash } from './dkg/transcript.js';
export { isProtocolError, PROTOCOL_ERROR_CODES, ProtocolError, type ProtocolErrorCode } from './errors.js';
export { createKeyCache, evaluateVss, type KeyCache, type NonceCommitment, parseNonceCommitment } from './fast/index.js';
export { identityFingerprint } from './fingerprint.js';
export { createGroupCommit, type Flush, type GroupCommit } from './group-commit.js';
export { generateIdentity, type IdentityKey, identityFromSeed, identityToX25519, verifyIdentitySignature } from './identity.js';
export { type FinalizedPsbt, finalizeBitcoinPsbt } from './intent/bitcoin-finalize.js';
export {
  BITCOIN_NETWORKS,
  type BitcoinNetwork,
  type BitcoinPsbtSummary,
  MAX_MONEY,
  type ParsedBitcoinPsbt,
  type PsbtInputToSign,
  type PsbtOutput,
  parseBitcoinPsbt,
  summarizeBitcoinPsbt,
  taprootOutputScript,
} from './intent/bitcoin-psbt.js';
export { type IntentKey, type IntentOptions, type InterpretedIntent, interpretIntent, signingMessages } from './intent/interpret.js';
export {
  type BitcoinPsbtIntent,
  canonicalIntent,
  INTENT_LIMITS,
  INTENT_TYPES,
  type Intent,
  type IntentType,
  intentDigest,
  intentDigestInput,
  intentSchema,
  parseIntent,
  type RawIntent,
  rawIntent,
} from './intent/schema.js';
export {
  copyKeyShare,
  decodeKeyShare,
  encodeKeyShare,
  type KeyShare,
  type KeyShareRecord,
  keyShareRecordSchema,
  makeKeyShare,
  type PublicKeyPackage,
  publicKeyPackageSchema,
  toFrostPublic,
} from './keys.js';
export { type DrillChallenge, type DrillProof, proveShareIntact, verifyShareDrill } from './lifecycle/drill.js';
export { keyPackageHash } from './lifecycle/key-package.js';
export { LIFECYCLE_PEER_MESSAGES, type LifecycleMachine, type LifecycleStep } from './lifecycle/machine.js';
export { createRefreshParticipant, type RefreshOptions, type RefreshParticipant, type RefreshPhase } from './lifecycle/refresh.js';
export {
  createRepairParticipant,
  type RepairOptions,
  type RepairParticipant,
  type RepairPhase,
  type RepairResult,
} from './lifecycle/repair.js';
export {
  createReshareParticipant,
  type ReshareOptions,
  type ReshareParticipant,
  type ResharePhase,
  type ReshareResult,
} from './lifecycle/reshare.js';
export {
  activateSuccessor,
  type LifecycleCertificateExpectation,
  type PendingSuccessor,
  type SuccessorOperation,
  verifyLifecycleCertificate,
} from './lifecycle/successor.js';
export { successorTestMessage } from './lifecycle/successor-test.js';
export { type Admission, type AdmissionRequest, admitRequest } from './policy/admission.js';
export { type ApprovalCount, countApprovals, type GroupShortfall } from './policy/approvals.js';
export { type Counted, evaluatePolicy, type PolicyDecision, type PolicyRefusalCode as PolicyDecisionCode } from './policy/evaluate.js';
export { countedValue, type Destination, type PolicyFacts } from './policy/facts.js';
export { globMatches } from './policy/match.js';
export {
  type ApprovalRequirement,
  amountSchema,
  ed25519KeySchema,
  POLICY_LIMITS,
  type Policy,
  type PolicyRule,
  parsePolicy,
  policySchema,
  type VelocityLimit,
  WEEKDAYS,
  type Weekday,
} from './policy/schema.js';
export {
  type PolicySignature,
  policyDigest,
  policySigningBytes,
  type SignedPolicy,
  signedPolicySchema,
  signPolicy,
  type VerifiedPolicy,
  verifySignedPolicy,
} from './policy/signed-policy.js';
export {
  limitApplies,
  pruneHistory,
  usageInWindow,
  type VelocityEvent,
  type VelocityUsage,
  velocityEventSchema,
} from './policy/velocity.js';
export {
  createSignerKeyFile,
  openSignerKeyFile,
  SIGNER_KEY_LOG_N,
  SIGNER_KEY_ROLES,
  type SignerKeyFile,
  type SignerKeyRole,
} from './signer-key-file.js';
export { type AggregationJob, type AggregationVerdict, runAggregationJob } from './signing/aggregation-job.js';
export { type Aggregator, type AggregatorOptions, type AggregatorPhase, createAggregator } from './signing/aggregator.js';
export { type ApprovalTerms, approvalDigest } from './signing/approval-digest.js';
export { commitmentSet, commitmentsOf, shareFields, sharesOf } from './signing/commitment-set.js';
export {
  BLAME_CODES,
  type BlameCode,
  type ExclusionCode,
  exclusionAuditEvent,
  isPolicyRefusal,
  POLICY_CODES,
  POLICY_REFUSAL_CODES,
  type PolicyCode,
  type PolicyRefusalCode,
  SIGN_REFUSAL_CODES,
  SIGNING_OUTCOME_AUDIT_EVENT,
  type SigningFailureCode,
  type SigningOutcome,
  type SignRefusalCode,
} from './signing/outcome.js';
export {
  createRoastCoordinator,
  type OpenSession,
  type RoastAction,
  type RoastCoordinator,
  type RoastInput,
  type RoastOptions,
  type RoastPartyPhase,
  WITHDRAWALS_PER_PARTY,
} from './signing/roast.js';
export { createSigner, type PreparedSigning, type PreprocessedNonce, type SignedShare, type Signer } from './signing/signer.js';
export { type GroupPoint, getSuite, isSuiteId, SUITE_IDS, type Suite, type SuiteId } from './suites.js';
export {
  createEnvelopeSealer,
  ENVELOPE_VERSION,
  type EnvelopeSealer,
  envelopeSigningBytes,
  type OpenOptions,
  openEnvelope,
  ReplayGuard,
} from './wire/envelope.js';
export {
  type CertificateConfirmation,
  type CertificateLink,
  certificateConfirmationSchema,
  certificateEnvelopes,
  certificateLinkSchema,
  type KeyCertificate,
  keyCertificateSchema,
  LINEAGE_OPERATIONS,
  type LineageOperation,
  publishCertificate,
  type StoredLink,
} from './wire/key-certificate.js';
export {
  type Approval,
  approvalSchema,
  type CommitmentSetWire,
  type Envelope,
  envelopeSchema,
  isMessageType,
  type LifecycleOperation,
  lifecycleOperationSchema,
  type Message,
  type MessageBody,
  type MessageType,
  messageBodySchemas,
  type NonceCommitmentWire,
  type Outgoing,
  type SealedBoxWire,
} from './wire/messages.js';
export {
  BROADCAST,
  COORDINATOR,
  endpointSchema,
  hexSchema,
  MAX_PARTIES,
  nonEmptyHexSchema,
  OFFLINE_PREPROCESS_SESSION,
  type PartyId,
  partyIdSchema,
  sessionIdSchema,
  suiteIdSchema,
} from './wire/primitives.js';
export { coordinatorAuthBytes, partyAuthBytes, type TransportFrame, transportFrameSchema, WS_CLOSE } from './wire/transport.js';
