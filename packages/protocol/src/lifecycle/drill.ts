/**
 * Share drills: a holder proves, without revealing it, that its stored share is intact — that it
 * knows s_i with s_i·G = Y_i, its verifying share in the key's certificate. The proof is a Schnorr
 * proof of knowledge bound to a fresh challenge (the coordinator's nonce, the key, the party and the
 * drill id), so it cannot be replayed into another drill, key or party:
 *
 *   k  = H("glacis-drill-nonce", 32 random bytes ‖ SerializeScalar(s_i))   (hedged, as RFC 9591 §4.1)
 *   R  = k·G
 *   c  = H("glacis-drill", canonical {suite, keyId, partyId, drillId, nonce, verifyingShare, R})
 *   z  = k + c·s_i                      proof = SerializeElement(R) ‖ SerializeScalar(z)
 *
 * valid iff z·G = R + c·Y_i. H is the suite's hash-to-scalar with the DST contextString ‖ label
 * (suites-hash.ts). Repair uses the same proof (repair.ts) to show the repaired share is held.
 */
import { concatBytes, fromHex, type Rng, toHex } from '../bytes.js';
import { canonicalBytes } from '../canonical.js';
import { ProtocolError } from '../errors.js';
import { mulBaseSecret, mulPublic } from '../fast/group.js';
import type { KeyShare, PublicKeyPackage } from '../keys.js';
import { type GroupPoint, getSuite, type Suite } from '../suites.js';
import type { MessageBody } from '../wire/messages.js';

/** What a drill proof is bound to. `nonce` is the coordinator's fresh 32 bytes (hex). */
export interface DrillChallenge {
  readonly keyId: string;
  readonly partyId: string;
  readonly drillId: string;
  readonly nonce: string;
}

/** The proof a holder returns (the `drill_proof` body). */
export type DrillProof = MessageBody<'drill_proof'>;

function challengeScalar(suite: Suite, ch: DrillChallenge, verifyingShare: string, R: Uint8Array): bigint {
  const input = canonicalBytes('glacis/drill/v1', {
    suite: suite.id,
    keyId: ch.keyId,
    partyId: ch.partyId,
    drillId: ch.drillId,
    nonce: ch.nonce,
    verifyingShare,
    commitment: toHex(R),
  });
  return suite.hashes.hashToScalar(input, 'glacis-drill');
}

/**
 * Proves `share` intact for `challenge`. Refuses (`drill_share_mismatch`, nobody named) when the
 * stored share does not match its own verifying share: the share is damaged, and no proof of it
 * could verify.
 */
export function proveShareIntact(share: KeyShare, challenge: DrillChallenge, rng: Rng): DrillProof {
  const suite = getSuite(share.public.suite);
  const { Fn } = suite;
  if (challenge.keyId !== share.keyId || challenge.partyId !== share.partyId) {
    throw new ProtocolError('wrong_key', `drill for ${challenge.keyId}/${challenge.partyId} asked of ${share.keyId}/${share.partyId}`);
  }
  const verifyingShare = share.public.verifyingShares[share.partyId];
  const s = Fn.fromBytes(share.frostSecret.signingShare);
  if (verifyingShare === undefined || toHex(mulBaseSecret(suite, s).toBytes()) !== verifyingShare) {
    throw new ProtocolError(
      'drill_share_mismatch',
      `stored share of ${share.partyId} for ${share.keyId} does not match its verifying share`,
    );
  }
  const sBytes = Fn.toBytes(s);
  const k = suite.hashes.hashToScalar(concatBytes(rng(32), sBytes), 'glacis-drill-nonce');
  sBytes.fill(0);
  const R = mulBaseSecret(suite, k).toBytes();
  const c = challengeScalar(suite, challenge, verifyingShare, R);
  const z = Fn.add(k, Fn.mul(c, s));
  return {
    keyId: challenge.keyId,
    drillId: challenge.drillId,
    verifyingShare,
    proof: toHex(concatBytes(R, Fn.toBytes(z))),
  };
}

/**
 * Checks a drill proof against the key's certified verifying share of `challenge.partyId`. Throws
 * `drill_invalid_proof` naming that party when the proof is for another drill or key, states
 * another verifying share, is malformed, or does not verify.
 */
export function verifyShareDrill(key: PublicKeyPackage, challenge: DrillChallenge, proof: DrillProof): void {
  const suite = getSuite(key.suite);
  const party = challenge.partyId;
  const invalid = (why: string, cause?: unknown) =>
    new ProtocolError('drill_invalid_proof', `drill ${challenge.drillId} of ${party}: ${why}`, [party], { cause });
  if (key.keyId !== challenge.keyId) throw new ProtocolError('wrong_key', `drill for ${challenge.keyId} checked against ${key.keyId}`);
  const Y = key.verifyingShares[party];
  if (Y === undefined) throw new ProtocolError('not_in_committee', `${party} holds no share of ${key.keyId}`);
  if (proof.keyId !== challenge.keyId || proof.drillId !== challenge.drillId) throw invalid('proof answers another drill');
  if (proof.verifyingShare !== Y) throw invalid('proof is for another verifying share than the certified one');
  const yPoint = suite.parseElement(fromHex(Y), `verifying share of ${party}`);
  let R: GroupPoint;
  let z: bigint;
  let rBytes: Uint8Array;
  try {
    const bytes = fromHex(proof.proof, 'drill proof');
    if (bytes.length !== suite.elementLength + suite.scalarLength) throw invalid(`proof has ${bytes.length} bytes`);
    rBytes = bytes.subarray(0, suite.elementLength);
    R = suite.parseElement(rBytes, 'drill proof R', party);
    z = suite.parseScalar(bytes.subarray(suite.elementLength), 'drill proof z', { culprit: party });
  } catch (e) {
    throw e instanceof ProtocolError && e.code === 'drill_invalid_proof' ? e : invalid('malformed proof', e);
  }
  const c = challengeScalar(suite, challenge, Y, rBytes);
  if (!mulPublic(suite, suite.Point.BASE, z).equals(R.add(mulPublic(suite, yPoint, c)))) throw invalid('proof does not verify');
}
