/**
 * The signer state machine is the last line of defence of a party's nonces: whatever a malicious
 * coordinator puts in a signing package, a nonce signs at most once, only for the key it belongs
 * to, and a package the signer refuses leaves its state untouched.
 */
import { describe, expect, it } from 'vitest';
import { createSigner, type MessageBody, type ProtocolErrorCode, type Signer, toHex, utf8 } from '../src/index.js';
import { cluster, entry, expectCode, rawPackage, signRaw } from './harness.js';
import { rng } from './sim.js';

const c = cluster('ed25519', 3, 2);
const [a, b, d] = c.names as [string, string, string];
const message = toHex(utf8('transfer 5'));

/** A raw package for `message` over these commitments (`over` replaces any field). */
const pkgOf = (commitments: MessageBody<'signing_package'>['commitments'], over: Partial<MessageBody<'signing_package'>> = {}) =>
  rawPackage(c, commitments, { intent: { type: 'raw', message }, ...over });
/** A commitment of a fresh signer of `name` (a co-signer whose nonce is beside the point). */
const fresh = (name: string) => createSigner(c.share(name), rng).commit();
/** `signer` refuses, with `code`, to sign the package of these commitments (and `over`). */
function refuses(
  signer: Signer,
  commitments: MessageBody<'signing_package'>['commitments'],
  code: ProtocolErrorCode,
  over: Partial<MessageBody<'signing_package'>> = {},
): void {
  expectCode(() => signRaw(signer, pkgOf(commitments, over)), code);
}

describe('signer refuses', () => {
  it('a second package for the same nonce: nonce_reused', () => {
    const sa = createSigner(c.share(a), rng);
    const sb = createSigner(c.share(b), rng);
    const ca = sa.commit();
    signRaw(sa, pkgOf([entry(a, ca), entry(b, sb.commit())]));
    // Another message, another co-signer, same commitment: signing would leak the share.
    refuses(sa, [entry(a, ca), entry(b, sb.commit())], 'nonce_reused', { intent: { type: 'raw', message: toHex(utf8('transfer 500')) } });
    refuses(sa, [entry(a, ca), entry(b, sb.commit())], 'nonce_reused');
  });

  it('a commitment it never issued: unknown_commitment', () => {
    const sa = createSigner(c.share(a), rng);
    const other = createSigner(c.share(a), rng);
    sa.commit();
    refuses(sa, [entry(a, other.commit()), entry(b, fresh(b))], 'unknown_commitment');
  });

  it('a commitment it discarded: unknown_commitment', () => {
    const sa = createSigner(c.share(a), rng);
    const ca = sa.commit();
    sa.discardAll();
    expect(sa.pending).toBe(0);
    refuses(sa, [entry(a, ca), entry(b, fresh(b))], 'unknown_commitment');
  });

  it('a commitment evicted from a full pool: unknown_commitment', () => {
    const sa = createSigner(c.share(a), rng, { maxPending: 2 });
    const first = sa.commit();
    sa.commit();
    sa.commit();
    expect(sa.pending).toBe(2);
    refuses(sa, [entry(a, first), entry(b, fresh(b))], 'unknown_commitment');
  });

  it('a package for another key: wrong_key', () => {
    const sa = createSigner(c.share(a), rng);
    refuses(sa, [entry(a, sa.commit()), entry(b, fresh(b))], 'wrong_key', { keyId: 'other-key' });
  });

  it('fewer than t signers: too_few_signers', () => {
    const sa = createSigner(c.share(a), rng);
    refuses(sa, [entry(a, sa.commit())], 'too_few_signers');
  });

  it('more signers than the committee has: too_many_signers', () => {
    const sa = createSigner(c.share(a), rng);
    refuses(sa, [entry(a, sa.commit()), entry(b, fresh(b)), entry(d, fresh(d)), entry(b, fresh(b))], 'too_many_signers');
  });

  it('a package without its own commitment: missing_own_commitment', () => {
    const sa = createSigner(c.share(a), rng);
    sa.commit();
    refuses(sa, [entry(b, fresh(b)), entry(d, fresh(d))], 'missing_own_commitment');
  });

  it('a refused package does not consume the nonce', () => {
    const sa = createSigner(c.share(a), rng);
    const ca = sa.commit();
    const cb = fresh(b);
    refuses(sa, [entry(a, ca), entry(b, cb)], 'wrong_key', { keyId: 'other-key' });
    const identity = `01${'00'.repeat(31)}`;
    refuses(sa, [entry(a, ca), entry(b, { ...cb, binding: identity })], 'invalid_point');
    expect(sa.pending).toBe(1);
    expect(signRaw(sa, pkgOf([entry(a, ca), entry(b, cb)])).consumed).toEqual([ca]);
    expect(sa.pending).toBe(0);
  });
});
