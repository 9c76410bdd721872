/**
 * Every protocol message body, one zod schema per envelope `type`. Bytes are lowercase hex here and
 * only here; state machines decode them once, on arrival.
 */
import { z } from 'zod';
import { DKG_FAILURE_CODES } from '../dkg/outcome.js';
import { PROTOCOL_ERROR_CODES } from '../errors.js';
import { INTENT_LIMITS, intentSchema } from '../intent/schema.js';
import { publicKeyPackageSchema } from '../keys.js';
import { signedPolicySchema } from '../policy/signed-policy.js';
import { SIGN_REFUSAL_CODES } from '../signing/outcome.js';
import { hexSchema, nonEmptyHexSchema, partyIdSchema, sessionIdSchema, suiteIdSchema } from './primitives.js';

const sealedBoxSchema = z.strictObject({ epk: nonEmptyHexSchema, nonce: nonEmptyHexSchema, ciphertext: nonEmptyHexSchema });
const nonceCommitmentSchema = z.strictObject({ hiding: nonEmptyHexSchema, binding: nonEmptyHexSchema });
/**
 * Further commitments (or shares) of one signer, one per message after the first, in message
 * order: an intent that yields k messages (a PSBT with k listed inputs) is signed in one session,
 * each message with its own nonce. Absent for a single message.
 */
const moreCommitmentsSchema = z
  .array(nonceCommitmentSchema)
  .min(1)
  .max(INTENT_LIMITS.psbtInputs - 1);
/** A signer's commitments for a whole session: the first message's, then `more`. */
const commitmentSetSchema = nonceCommitmentSchema.extend({ more: moreCommitmentsSchema.optional() });

/**
 * An approval: an approver's Ed25519 signature over `approvalDigest` (signing/approval-digest.ts)
 * of the request, under one policy version, with a nonce (single use) and an expiry.
 */
export const approvalSchema = z.strictObject({
  approverKey: hexSchema.length(64).describe("the approver's Ed25519 public key"),
  signature: hexSchema.length(128).describe('Ed25519 signature over the approval digest (docs/api.md)'),
  nonce: hexSchema.min(32).max(64).describe('16–32 random bytes: each party counts an approval once'),
  expiresAt: z.iso.datetime({ offset: true }).describe("RFC 3339; refused after this time on each party's clock"),
  policyVersion: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).describe('the party policy version it was given under'),
});

/** Key-lifecycle bounds: an element is at most 57 bytes (Ed448), a boxed scalar 57 + 16 (tag). */
const elementHexSchema = nonEmptyHexSchema.max(2 * 57);
const digestHexSchema = hexSchema.length(64);
const lifecycleBoxSchema = z.strictObject({
  epk: hexSchema.length(64),
  nonce: hexSchema.length(48),
  ciphertext: hexSchema.min(2 * 17).max(2 * (57 + 16)),
});
const lifecycleThresholdSchema = z.number().int().min(2).max(255);
const partyListSchema = z.array(partyIdSchema).min(1).max(255);
/** party id → element, for at most 255 parties. */
const elementByPartySchema = z.record(partyIdSchema, elementHexSchema).refine((r) => Object.keys(r).length <= 255, 'at most 255 entries');
/** A Schnorr proof (SerializeElement(R) ‖ SerializeScalar(z)): at most 57 + 57 bytes (Ed448). */
const proofHexSchema = nonEmptyHexSchema.max(2 * 114);
/** The operations that change a key's shares. */
export const lifecycleOperationSchema = z.enum(['refresh', 'repair', 'reshare']);
export type LifecycleOperation = z.infer<typeof lifecycleOperationSchema>;
/** The operations that end with a successor key package and its certificate. */
const successorOperationSchema = z.enum(['refresh', 'reshare']);
/** Coordinator → participants: start an operation on `keyId` at the generation `predecessor` (`keyPackageHash`). */
const lifecycleStartSchema = <P extends z.ZodRawShape>(params: P) =>
  z.strictObject({ keyId: sessionIdSchema, suite: suiteIdSchema, predecessor: digestHexSchema, ...params });
/**
 * For participants that hold no share of the key yet (a repair's target, a reshare's new members):
 * the key's current public package, whose `keyPackageHash` must be the start's `predecessor`, and
 * the generation it is (0 after the DKG, one more after each refresh or reshare). Every other
 * participant works from its own stored package; the transcript hashes bind the two together.
 */
const forNewcomers = {
  key: publicKeyPackageSchema.optional(),
  generation: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
};
/** A secret scalar for one party, with the hash of the transcript the sender computed it from. */
const transcriptBoxSchema = z.strictObject({ keyId: sessionIdSchema, transcriptHash: digestHexSchema, box: lifecycleBoxSchema });

/** A signed envelope as it travels (also embedded in DKG certificates). */
export const envelopeSchema = z.strictObject({
  v: z.number().int(),
  type: z.string().max(64),
  sessionId: sessionIdSchema,
  from: z.string().max(64),
  to: z.string().max(64),
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  body: z.unknown(),
  signature: hexSchema,
});

export const messageBodySchemas = {
  /** Coordinator → committee: run a DKG for `keyId`. */
  dkg_start: z.strictObject({
    keyId: sessionIdSchema,
    suite: suiteIdSchema,
    threshold: z.number().int(),
    committee: z.array(partyIdSchema).max(255),
  }),
  /**
   * Party → all: VSS commitment and proof of knowledge (frost-rs DKG part 1), and the hash of the
   * session parameters the sender was given (`dkgParamsHash`): a relay that tells members
   * different thresholds or committees is caught before anyone is blamed for it.
   */
  dkg_round1: z.strictObject({
    paramsHash: hexSchema.length(64),
    commitment: z.array(nonEmptyHexSchema).max(255),
    proofOfKnowledge: nonEmptyHexSchema,
  }),
  /** Party → party: its share for the recipient, end-to-end encrypted, plus its round-1 transcript hash. */
  dkg_round2: z.strictObject({ transcriptHash: hexSchema.length(64), box: sealedBoxSchema }),
  /** Party → coordinator: what this party derived; the set of all of them is the key's certificate. */
  dkg_confirm: z.strictObject({
    keyId: sessionIdSchema,
    suite: suiteIdSchema,
    threshold: z.number().int(),
    transcriptHash: hexSchema.length(64),
    publicKey: nonEmptyHexSchema,
    groupCommitment: z.array(nonEmptyHexSchema).max(255),
    verifyingShares: z.record(partyIdSchema, nonEmptyHexSchema),
  }),
  /** Coordinator → committee: every confirmation agreed; the key is active. */
  dkg_complete: z.strictObject({ keyId: sessionIdSchema, confirmations: z.array(envelopeSchema).max(255) }),
  /** Anyone → all: this DKG is over and failed. */
  dkg_abort: z.strictObject({
    keyId: sessionIdSchema,
    code: z.enum(DKG_FAILURE_CODES),
    message: z.string().max(1024),
    culprits: z.array(partyIdSchema).max(255),
  }),
  /**
   * Party → coordinator, after each (re)connect: keys whose DKG certificate this party has not
   * seen. The coordinator answers each with `dkg_complete` (or `dkg_abort`), so a party that
   * crashed between the last DKG round and the certificate still activates its share.
   */
  key_sync: z.strictObject({
    pendingKeys: z.array(sessionIdSchema).max(10_000),
    /**
     * Every active share this party holds: its key, generation and `keyPackageHash`. A committee
     * member that lists no share of an active key (or another generation of it) needs a repair.
     */
    holdings: z
      .array(z.strictObject({ keyId: sessionIdSchema, generation: z.number().int().nonnegative(), packageHash: digestHexSchema }))
      .max(10_000)
      .optional(),
    /**
     * Successors this party derived and confirmed that wait for their certificate, each with the
     * `lifecycle_confirm` it signed: the coordinator answers with `lifecycle_complete` once it has
     * the certificate, even after either side restarted.
     */
    staged: z
      .array(z.strictObject({ keyId: sessionIdSchema, sessionId: sessionIdSchema, confirm: envelopeSchema }))
      .max(10_000)
      .optional(),
  }),
  /** Coordinator → party: send `count` fresh nonce commitments for `keyId`. */
  commit_request: z.strictObject({ keyId: sessionIdSchema, count: z.number().int().min(1).max(1000) }),
  /** Party → coordinator: fresh nonce commitments. */
  commitments: z.strictObject({ keyId: sessionIdSchema, commitments: z.array(nonceCommitmentSchema).max(1000) }),
  /**
   * Coordinator → signers: the request (its intent, from which each signer derives the messages
   * it signs itself) and one RFC 9591 commitment list per message: every signer's commitment for
   * the first message, and in `more` its commitments for the following ones.
   */
  signing_package: z.strictObject({
    keyId: sessionIdSchema,
    requestId: sessionIdSchema,
    intent: intentSchema,
    context: z.unknown().optional(),
    approvals: z.array(approvalSchema).max(64),
    commitments: z.array(commitmentSetSchema.extend({ partyId: partyIdSchema })).max(255),
  }),
  /**
   * Signer → coordinator: its signature share for the first message and, in `more`, for each
   * following one; and (ROAST) a fresh commitment set for the next session.
   */
  signature_share: z.strictObject({
    keyId: sessionIdSchema,
    requestId: sessionIdSchema,
    share: nonEmptyHexSchema,
    more: z
      .array(nonEmptyHexSchema)
      .min(1)
      .max(INTENT_LIMITS.psbtInputs - 1)
      .optional(),
    next: commitmentSetSchema.nullable(),
  }),
  /** Signer → coordinator: the signer will not sign this package (policy or validation). */
  sign_refused: z.strictObject({
    keyId: sessionIdSchema,
    requestId: sessionIdSchema,
    code: z.enum(SIGN_REFUSAL_CODES),
    message: z.string().max(1024),
  }),
  /** Coordinator → party: a quorum-signed policy to verify against its pinned administrators and activate. */
  policy_offer: z.strictObject({ signed: signedPolicySchema }),
  /**
   * Party → coordinator, after each (re)connect and each offer: the policy in force here (the
   * static `party.json` policy or a signed one, with its digest), and why the last offer, if it
   * was refused, was refused.
   */
  policy_status: z.strictObject({
    source: z.enum(['static', 'signed']),
    version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    digest: digestHexSchema.nullable(),
    refused: z
      .strictObject({
        version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable(),
        digest: digestHexSchema.nullable(),
        code: z.enum(PROTOCOL_ERROR_CODES),
        message: z.string().max(1024),
      })
      .nullable(),
  }),
  /**
   * Coordinator → committee: refresh every share of `keyId` (src/lifecycle/refresh.ts). `predecessor`
   * is the hash of the key's current public package (`keyPackageHash`): every member must be
   * refreshing the same generation of the key.
   */
  refresh_start: lifecycleStartSchema({ threshold: lifecycleThresholdSchema, committee: partyListSchema }),
  /**
   * Member → all: commitments φ_1 … φ_{t−1} to its zero-constant polynomial. φ_0 is the identity,
   * which SerializeElement cannot encode, so it is left out: exactly t − 1 elements.
   */
  refresh_round1: z.strictObject({ keyId: sessionIdSchema, commitment: z.array(elementHexSchema).min(1).max(254) }),
  /** Member → member: f_i(x_j), end-to-end encrypted, with the hash of the round-1 transcript it saw. */
  refresh_round2: transcriptBoxSchema,
  /** Coordinator → helpers and target: rebuild `target`'s share of `keyId` (src/lifecycle/repair.ts). */
  repair_start: lifecycleStartSchema({ target: partyIdSchema, helpers: partyListSchema, ...forNewcomers }),
  /** Helper i → helpers and target: Δ_ij·G for every helper j (their sum must be λ_i·Y_i). */
  repair_commit: z.strictObject({ keyId: sessionIdSchema, target: partyIdSchema, commitments: elementByPartySchema }),
  /** Helper i → helper j: Δ_ij, end-to-end encrypted, with the hash of the commitment transcript. */
  repair_delta: transcriptBoxSchema,
  /** Helper j → target: σ_j = Σ_i Δ_ij, end-to-end encrypted, with the hash of the commitment transcript. */
  repair_sigma: transcriptBoxSchema,
  /** Target → coordinator: its verifying share and a proof that it holds the matching share now. */
  repair_confirm: z.strictObject({ keyId: sessionIdSchema, verifyingShare: elementHexSchema, proof: proofHexSchema }),
  /** Coordinator → dealers and new committee: move `keyId` to `committee` and `threshold` (src/lifecycle/reshare.ts). */
  reshare_start: lifecycleStartSchema({
    threshold: lifecycleThresholdSchema,
    committee: partyListSchema,
    dealers: partyListSchema,
    ...forNewcomers,
  }),
  /** Dealer → all: ψ_0 … ψ_{t'−1}, commitments to its dealing polynomial (ψ_0 must be λ_i·Y_i). */
  reshare_round1: z.strictObject({ keyId: sessionIdSchema, commitment: z.array(elementHexSchema).min(2).max(255) }),
  /** Dealer → new member: g_i(x_j), end-to-end encrypted, with the hash of the dealer's round-1 body. */
  reshare_round2: z.strictObject({ keyId: sessionIdSchema, commitmentHash: digestHexSchema, box: lifecycleBoxSchema }),
  /**
   * New holder → coordinator: the successor key it derived. Every holder's confirmation together
   * are the successor's certificate (`verifyLifecycleCertificate`).
   */
  lifecycle_confirm: z.strictObject({
    keyId: sessionIdSchema,
    suite: suiteIdSchema,
    operation: successorOperationSchema,
    predecessor: digestHexSchema,
    threshold: lifecycleThresholdSchema,
    transcriptHash: digestHexSchema,
    publicKey: elementHexSchema,
    groupCommitment: z.array(elementHexSchema).min(2).max(255),
    verifyingShares: elementByPartySchema,
  }),
  /** Coordinator → participants: every confirmation agreed; switch to the successor. */
  lifecycle_complete: z.strictObject({
    keyId: sessionIdSchema,
    operation: successorOperationSchema,
    confirmations: z.array(envelopeSchema).max(255),
  }),
  /** Anyone → all: this lifecycle operation is over and failed; no share changes. */
  lifecycle_abort: z.strictObject({
    keyId: sessionIdSchema,
    operation: lifecycleOperationSchema,
    code: z.string().max(64),
    message: z.string().max(1024),
    culprits: z.array(partyIdSchema).max(255),
  }),
  /**
   * Coordinator → new holder, once the successor's certificate is complete: prove the new share
   * signs. The holder answers with a fresh nonce commitment of its staged successor share.
   */
  lifecycle_test_request: z.strictObject({ keyId: sessionIdSchema }),
  /** New holder → coordinator: a nonce commitment of its staged successor share. */
  lifecycle_test_commitment: z.strictObject({ keyId: sessionIdSchema, commitment: nonceCommitmentSchema }),
  /**
   * Coordinator → new holders: sign the successor test message (`successorTestMessage`, which each
   * holder computes itself: nothing else is ever signed with a staged share) with these commitments.
   */
  lifecycle_test_package: z.strictObject({
    keyId: sessionIdSchema,
    commitments: z.array(nonceCommitmentSchema.extend({ partyId: partyIdSchema })).max(255),
  }),
  /** New holder → coordinator: its signature share of the successor test message. */
  lifecycle_test_share: z.strictObject({ keyId: sessionIdSchema, share: elementHexSchema }),
  /** Coordinator → holder: prove that your share of `keyId` is intact, for this fresh `nonce`. */
  drill_request: z.strictObject({ keyId: sessionIdSchema, drillId: sessionIdSchema, nonce: digestHexSchema }),
  /** Holder → coordinator: a Schnorr proof of knowledge of the share behind `verifyingShare`. */
  drill_proof: z.strictObject({
    keyId: sessionIdSchema,
    drillId: sessionIdSchema,
    verifyingShare: elementHexSchema,
    proof: proofHexSchema,
  }),
} as const;

/** Envelope `type`s. */
export type MessageType = keyof typeof messageBodySchemas;
/** The body of a message of type `T`. */
export type MessageBody<T extends MessageType> = z.infer<(typeof messageBodySchemas)[T]>;
/** A signed envelope as it travels. */
export type Envelope = z.infer<typeof envelopeSchema>;
export type NonceCommitmentWire = z.infer<typeof nonceCommitmentSchema>;
/** A signer's commitments for every message of a session (the first, then `more`). */
export type CommitmentSetWire = z.infer<typeof commitmentSetSchema>;
export type SealedBoxWire = z.infer<typeof sealedBoxSchema>;
export type Approval = z.infer<typeof approvalSchema>;

/** An authenticated, parsed message: the envelope's header with a typed body. */
export type Message = {
  [T in MessageType]: { type: T; sessionId: string; from: string; to: string; seq: number; body: MessageBody<T> };
}[MessageType];

/** An outgoing message before it is signed. */
export type Outgoing = {
  [T in MessageType]: { type: T; sessionId: string; to: string; body: MessageBody<T> };
}[MessageType];

/** True when `t` is a known message type. */
export function isMessageType(t: string): t is MessageType {
  return Object.hasOwn(messageBodySchemas, t);
}
