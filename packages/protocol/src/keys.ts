/**
 * Key material as Glacis holds it. `KeyShare` is a party's secret share plus the public package;
 * `PublicKeyPackage` is everything the coordinator may know. Conversion to and from the JSON the
 * stores keep lives here so that both sides agree on one format.
 */
import type { FrostPublic, FrostSecret } from '@noble/curves/abstract/frost.js';
import { z } from 'zod';
import { fromHex, toHex } from './bytes.js';
import { ProtocolError } from './errors.js';
import { getSuite, type SuiteId } from './suites.js';
import { hexSchema, nonEmptyHexSchema, partyIdSchema, sessionIdSchema, suiteIdSchema } from './wire/primitives.js';

/** The public half of a key: what the coordinator stores and desks see. */
export interface PublicKeyPackage {
  keyId: string;
  suite: SuiteId;
  threshold: number;
  /** Committee, sorted. */
  committee: string[];
  /** Group public key in the suite's standard encoding (x-only for secp256k1-tr). */
  publicKey: string;
  /** VSS commitment to the group polynomial; [0] is the (tweaked, for secp256k1-tr) group element. */
  groupCommitment: string[];
  /** Each party's verifying share (SerializeElement), by party id. */
  verifyingShares: Record<string, string>;
}

export const publicKeyPackageSchema = z.strictObject({
  keyId: sessionIdSchema,
  suite: suiteIdSchema,
  threshold: z.number().int().min(2).max(255),
  committee: z.array(partyIdSchema).min(2).max(255),
  publicKey: nonEmptyHexSchema,
  groupCommitment: z.array(nonEmptyHexSchema).min(2).max(255),
  verifyingShares: z.record(partyIdSchema, nonEmptyHexSchema),
});

/** A party's share of one key. Secret: `toJSON` redacts; use `encodeKeyShare` for the keystore. */
export interface KeyShare {
  readonly keyId: string;
  readonly partyId: string;
  readonly public: PublicKeyPackage;
  /** noble's public package (identifier-keyed), rebuilt from `public`. */
  readonly frostPublic: FrostPublic;
  readonly frostSecret: FrostSecret;
  toJSON(): string;
}

/** noble's identifier-keyed public package for a Glacis public key package. */
export function toFrostPublic(pkg: PublicKeyPackage): FrostPublic {
  const suite = getSuite(pkg.suite);
  const verifyingShares: Record<string, Uint8Array<ArrayBuffer>> = {};
  for (const [partyId, hex] of Object.entries(pkg.verifyingShares)) {
    verifyingShares[suite.identifierFor(partyId)] = fromHex(hex, `verifyingShares.${partyId}`);
  }
  return {
    signers: { min: pkg.threshold, max: pkg.committee.length },
    commitments: pkg.groupCommitment.map((c, i) => fromHex(c, `groupCommitment[${i}]`)),
    verifyingShares,
  };
}

/** Builds a KeyShare; checks the share against the public package (VSS). */
export function makeKeyShare(pkg: PublicKeyPackage, partyId: string, signingShare: Uint8Array): KeyShare {
  const suite = getSuite(pkg.suite);
  const frostPublic = toFrostPublic(pkg);
  const frostSecret: FrostSecret = { identifier: suite.identifierFor(partyId), signingShare: signingShare.slice() };
  try {
    suite.frost.validateSecret(frostSecret, frostPublic);
  } catch (e) {
    throw new ProtocolError('dkg_invalid_secret_share', `key ${pkg.keyId}: share of ${partyId} does not match the key's commitments`, [], {
      cause: e,
    });
  }
  return freezeKeyShare(pkg, partyId, frostPublic, frostSecret);
}

/**
 * Builds a KeyShare whose share the caller has itself just checked against `pkg` — the DKG
 * participant, which verifies s·G against the verifying share it derived from the same group
 * commitment, so `validateSecret`'s second decode of every commitment element would buy nothing.
 * Internal to @glacis/protocol (not exported from its index): anything loaded from outside goes
 * through `makeKeyShare`.
 */
export function makeVerifiedKeyShare(pkg: PublicKeyPackage, partyId: string, signingShare: Uint8Array): KeyShare {
  const suite = getSuite(pkg.suite);
  return freezeKeyShare(pkg, partyId, toFrostPublic(pkg), { identifier: suite.identifierFor(partyId), signingShare: signingShare.slice() });
}

/**
 * A copy of a share that owns its secret bytes: a holder may zero its copy (as a signer does when
 * its key is switched) without touching the original. Nothing is checked again: a KeyShare was
 * checked when it was made.
 */
export function copyKeyShare(share: KeyShare): KeyShare {
  return freezeKeyShare(share.public, share.partyId, share.frostPublic, {
    identifier: share.frostSecret.identifier,
    signingShare: share.frostSecret.signingShare.slice(),
  });
}

function freezeKeyShare(pkg: PublicKeyPackage, partyId: string, frostPublic: FrostPublic, frostSecret: FrostSecret): KeyShare {
  return Object.freeze({
    keyId: pkg.keyId,
    partyId,
    public: pkg,
    frostPublic,
    frostSecret,
    toJSON: () => `<key share ${pkg.keyId}/${partyId} redacted>`,
  });
}

export const keyShareRecordSchema = z.strictObject({
  v: z.literal(1),
  partyId: partyIdSchema,
  public: publicKeyPackageSchema,
  signingShare: hexSchema,
});
/** The JSON form a keystore keeps (and must encrypt: it holds the signing share). */
export type KeyShareRecord = z.infer<typeof keyShareRecordSchema>;

/** Keystore form of a share. The result holds the secret in clear: encrypt before it leaves memory. */
export function encodeKeyShare(share: KeyShare): KeyShareRecord {
  return { v: 1, partyId: share.partyId, public: share.public, signingShare: toHex(share.frostSecret.signingShare) };
}

/** Parses a keystore record back into a verified KeyShare. */
export function decodeKeyShare(raw: unknown): KeyShare {
  const r = keyShareRecordSchema.safeParse(raw);
  if (!r.success) throw new ProtocolError('invalid_encoding', `key share record: ${r.error.issues[0]?.message ?? 'malformed'}`);
  return makeKeyShare(r.data.public, r.data.partyId, fromHex(r.data.signingShare, 'signingShare'));
}
