/**
 * Secret scalars between two parties (refresh and reshare shares, repair's Δ and σ): the scalar's
 * SerializeScalar in an end-to-end box (crypto/box.ts) bound to suite, session, round (the message
 * type), sender and recipient, so the coordinator relays ciphertext only and cannot move a box to
 * another session, round or recipient.
 */
import { fromHex, type Rng, toHex } from '../bytes.js';
import { type BoxContext, openBox, sealBox } from '../crypto/box.js';
import { ProtocolError } from '../errors.js';
import type { IdentityKey } from '../identity.js';
import type { Suite } from '../suites.js';
import type { SealedBoxWire } from '../wire/messages.js';

/** Encrypts `value` to the holder of `recipientKey` (its pinned identity key). */
export function sealScalar(suite: Suite, value: bigint, recipientKey: Uint8Array | undefined, ctx: BoxContext, rng: Rng): SealedBoxWire {
  if (recipientKey === undefined) throw new ProtocolError('unknown_party', `no pinned identity key for ${ctx.to}`);
  const bytes = suite.Fn.toBytes(value);
  const box = sealBox(bytes, recipientKey, ctx, rng);
  bytes.fill(0);
  return { epk: toHex(box.epk), nonce: toHex(box.nonce), ciphertext: toHex(box.ciphertext) };
}

/**
 * Decrypts a boxed scalar sent to `identity`. A box that does not open (`decryption_failed`) or
 * holds no canonical scalar (`invalid_scalar`) names its sender: the envelope carrying it is signed.
 */
export function openScalar(suite: Suite, wire: SealedBoxWire, identity: IdentityKey, ctx: BoxContext): bigint {
  const plaintext = openBox(
    { epk: fromHex(wire.epk, 'box.epk'), nonce: fromHex(wire.nonce, 'box.nonce'), ciphertext: fromHex(wire.ciphertext, 'box.ciphertext') },
    identity,
    ctx,
  );
  try {
    return suite.parseScalar(plaintext, `${ctx.round} from ${ctx.from}`, { culprit: ctx.from });
  } finally {
    plaintext.fill(0);
  }
}
