/**
 * Replays one RFC 9591-layout signing vector through the suite layer (`getSuite(id)`): the dealer
 * key, nonce generation from the vector's randomness, signature shares (noble's signShare and the
 * fast path's, from the same nonces), aggregation and the suite's standard verifier, each compared
 * byte-for-byte with the vector.
 */
import type { FrostPublic, FrostSecret, NonceCommitments, Nonces } from '@noble/curves/abstract/frost.js';
import { expect } from 'vitest';
import { prepareKey, prepareSession, prepareSignerSecret } from '../src/fast/index.js';
import { evaluateVss, fromHex, getSuite, type SuiteId, toHex } from '../src/index.js';
import { parsedCommitments } from './harness.js';
import { bufferRng, type SigningVector } from './load-vectors.js';

export function checkSigningVector(id: SuiteId, v: SigningVector): void {
  const suite = getSuite(id);
  const { frost } = suite;
  const idOf = (n: number) => frost.Identifier.fromNumber(n);
  const signers = { min: Number(v.config.MIN_PARTICIPANTS), max: Number(v.config.MAX_PARTICIPANTS) };
  const message = fromHex(v.inputs.message);
  const groupKeyHex = v.inputs.group_public_key ?? v.inputs.verifying_key_key;
  if (groupKeyHex === undefined) throw new Error('vector has no group public key');

  // The dealer's polynomial, rebuilt from the vector's secret and coefficients.
  const poly = frost.utils.generateSecretPolynomial(
    signers,
    fromHex(v.inputs.group_secret_key),
    v.inputs.share_polynomial_coefficients.map((c) => suite.parseScalar(fromHex(c), 'coefficient')),
  );
  expect(toHex(poly.commitment[0] as Uint8Array)).toBe(groupKeyHex);
  const points = poly.commitment.map((c, i) => suite.parseElement(c, `commitment[${i}]`));

  const secrets = new Map<number, FrostSecret>();
  const verifyingShares: Record<string, Uint8Array<ArrayBuffer>> = {};
  for (const { identifier, participant_share } of v.inputs.participant_shares) {
    const share = fromHex(participant_share);
    const s = suite.parseScalar(share, `share ${identifier}`, { nonzero: true });
    const vs = suite.Point.BASE.multiply(s);
    // RFC 9591 App. C.2 vss_verify, through the VSS evaluation the DKG state machine uses.
    expect(vs.equals(evaluateVss(suite, points, idOf(identifier)))).toBe(true);
    verifyingShares[idOf(identifier)] = vs.toBytes() as Uint8Array<ArrayBuffer>;
    secrets.set(identifier, { identifier: idOf(identifier), signingShare: share });
  }
  const pub: FrostPublic = { signers, commitments: poly.commitment, verifyingShares };
  for (const n of v.inputs.participant_list) frost.validateSecret(secrets.get(n) as FrostSecret, pub);

  // Round one: RFC nonce = H3(randomness || SerializeScalar(share)), hiding drawn before binding.
  const nonces = new Map<number, Nonces>();
  const list: NonceCommitments[] = [];
  for (const out of v.round_one_outputs.outputs) {
    const rng = bufferRng([out.hiding_nonce_randomness, out.binding_nonce_randomness]);
    const gen = frost.commit(secrets.get(out.identifier) as FrostSecret, rng);
    expect(rng.remaining()).toBe(0);
    expect(toHex(gen.nonces.hiding)).toBe(out.hiding_nonce);
    expect(toHex(gen.nonces.binding)).toBe(out.binding_nonce);
    expect(toHex(gen.commitments.hiding)).toBe(out.hiding_nonce_commitment);
    expect(toHex(gen.commitments.binding)).toBe(out.binding_nonce_commitment);
    // The commitments must pass the same validation a peer's commitments get.
    suite.parseElement(gen.commitments.hiding, 'hiding');
    suite.parseElement(gen.commitments.binding, 'binding');
    nonces.set(out.identifier, gen.nonces);
    list.push(gen.commitments);
  }
  expect(v.round_one_outputs.outputs.map((o) => o.identifier)).toEqual(v.inputs.participant_list);

  // Round two, through the fast path (as a Glacis signer computes it: each commitment parsed once).
  const key = prepareKey(suite, pub);
  const session = prepareSession(key, parsedCommitments(suite, list), message);
  for (const out of v.round_two_outputs.outputs) {
    const n = nonces.get(out.identifier) as Nonces;
    const secret = prepareSignerSecret(key, secrets.get(out.identifier) as FrostSecret);
    const ours = session.signShare(secret, { hiding: suite.Fn.fromBytes(n.hiding), binding: suite.Fn.fromBytes(n.binding) });
    expect(toHex(ours)).toBe(out.sig_share);
  }

  // Round two through noble (which zeroes the nonces it used).
  const shares: Record<string, Uint8Array> = {};
  for (const out of v.round_two_outputs.outputs) {
    const share = frost.signShare(secrets.get(out.identifier) as FrostSecret, pub, nonces.get(out.identifier) as Nonces, list, message);
    expect(toHex(share)).toBe(out.sig_share);
    suite.parseScalar(share, 'sig_share');
    expect(frost.verifyShare(pub, list, message, idOf(out.identifier), share)).toBe(true);
    shares[idOf(out.identifier)] = share;
  }

  const signature = frost.aggregate(pub, list, message, shares);
  expect(toHex(signature)).toBe(v.final_output.sig);
  expect(signature.length).toBe(suite.signatureLength);
  const publicKey = suite.encodePublicKey(pub);
  expect(publicKey.length).toBe(suite.publicKeyLength);
  expect(suite.verify(signature, message, publicKey)).toBe(true);
  // The verifier must be able to say no, or the line above proves nothing.
  const bent = signature.slice();
  bent[bent.length - 1] = (bent[bent.length - 1] as number) ^ 1;
  expect(suite.verify(bent, message, publicKey)).toBe(false);
  expect(suite.verify(signature, new Uint8Array([...message, 0]), publicKey)).toBe(false);
}
