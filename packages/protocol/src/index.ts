/**
 * @glacis/protocol — FROST suites, wire schemas, signed and encrypted envelopes and the sans-IO
 * state machines of DKG and signing. No sockets, files, clocks or ambient randomness.
 */

export { type AuditEvent, auditEventHash, type ChainVerdict, GENESIS_HASH, nextAuditEvent, verifyAuditChain } from './audit-chain.js';
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
export { createDkgParticipant, type DkgParticipant, type DkgParticipantOptions, type DkgPhase, type DkgStep } from './dkg/participant.js';
export { isProtocolError, PROTOCOL_ERROR_CODES, ProtocolError, type ProtocolErrorCode } from './errors.js';
export { generateIdentity, type IdentityKey, identityFromSeed, identityToX25519, verifyIdentitySignature } from './identity.js';
export {
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
export { type Aggregator, type AggregatorOptions, type AggregatorPhase, createAggregator } from './signing/aggregator.js';
export { requestDigest } from './signing/request-digest.js';
export { createRoastCoordinator, type RoastAction, type RoastCoordinator, type RoastInput, type RoastOptions } from './signing/roast.js';
export { createSigner, type SignedShare, type Signer } from './signing/signer.js';
export { type GroupPoint, getSuite, isSuiteId, SUITE_IDS, type Suite, type SuiteId } from './suites.js';
export { evaluateVss } from './vss.js';
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
  type Approval,
  approvalSchema,
  type Envelope,
  envelopeSchema,
  isMessageType,
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
  type PartyId,
  partyIdSchema,
  sessionIdSchema,
  suiteIdSchema,
} from './wire/primitives.js';
export { coordinatorAuthBytes, partyAuthBytes, type TransportFrame, transportFrameSchema, WS_CLOSE } from './wire/transport.js';
