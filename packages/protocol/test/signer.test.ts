/**
 * The signer state machine is the last line of defence of a party's nonces: whatever a malicious
 * coordinator puts in a signing package, a nonce signs at most once, only for the key it belongs
 * to, and a package the signer refuses leaves its state untouched.
 */
import { describe, expect, it } from 'vitest';
import { createSigner, type MessageBody, toHex, utf8 } from '../src/index.js';
import { cluster, expectCode, signRaw } from './harness.js';
import { rng } from './sim.js';

const c = cluster('ed25519', 3, 2);
const [a, b, d] = c.names as [string, string, string];
const message = toHex(utf8('transfer 5'));

function pkgOf(entries: [string, { hiding: string; binding: string }][], over: Partial<MessageBody<'signing_package'>> = {}) {
  const pkg: MessageBody<'signing_package'> = {
    keyId: c.pub.keyId,
    requestId: 'r1',
    intent: { type: 'raw', message },
    approvals: [],
    commitments: entries.map(([partyId, cm]) => ({ partyId, ...cm })),
    ...over,
  };
  return pkg;
}

describe('signer refuses', () => {
  it('a second package for the same nonce: nonce_reused', () => {
    const sa = createSigner(c.share(a), rng);
    const sb = createSigner(c.share(b), rng);
    const ca = sa.commit();
    signRaw(
      sa,
      pkgOf([
        [a, ca],
        [b, sb.commit()],
      ]),
    );
    // Another message, another co-signer, same commitment: signing would leak the share.
    expectCode(
      () =>
        signRaw(
          sa,
          pkgOf(
            [
              [a, ca],
              [b, sb.commit()],
            ],
            { intent: { type: 'raw', message: toHex(utf8('transfer 500')) } },
          ),
        ),
      'nonce_reused',
    );
    expectCode(
      () =>
        signRaw(
          sa,
          pkgOf([
            [a, ca],
            [b, sb.commit()],
          ]),
        ),
      'nonce_reused',
    );
  });

  it('a commitment it never issued: unknown_commitment', () => {
    const sa = createSigner(c.share(a), rng);
    const other = createSigner(c.share(a), rng);
    sa.commit();
    expectCode(
      () =>
        signRaw(
          sa,
          pkgOf([
            [a, other.commit()],
            [b, createSigner(c.share(b), rng).commit()],
          ]),
        ),
      'unknown_commitment',
    );
  });

  it('a commitment it discarded: unknown_commitment', () => {
    const sa = createSigner(c.share(a), rng);
    const ca = sa.commit();
    sa.discardAll();
    expect(sa.pending).toBe(0);
    expectCode(
      () =>
        signRaw(
          sa,
          pkgOf([
            [a, ca],
            [b, createSigner(c.share(b), rng).commit()],
          ]),
        ),
      'unknown_commitment',
    );
  });

  it('a commitment evicted from a full pool: unknown_commitment', () => {
    const sa = createSigner(c.share(a), rng, { maxPending: 2 });
    const first = sa.commit();
    sa.commit();
    sa.commit();
    expect(sa.pending).toBe(2);
    expectCode(
      () =>
        signRaw(
          sa,
          pkgOf([
            [a, first],
            [b, createSigner(c.share(b), rng).commit()],
          ]),
        ),
      'unknown_commitment',
    );
  });

  it('a package for another key: wrong_key', () => {
    const sa = createSigner(c.share(a), rng);
    expectCode(
      () =>
        signRaw(
          sa,
          pkgOf(
            [
              [a, sa.commit()],
              [b, createSigner(c.share(b), rng).commit()],
            ],
            { keyId: 'other-key' },
          ),
        ),
      'wrong_key',
    );
  });

  it('fewer than t signers: too_few_signers', () => {
    const sa = createSigner(c.share(a), rng);
    expectCode(() => signRaw(sa, pkgOf([[a, sa.commit()]])), 'too_few_signers');
  });

  it('more signers than the committee has: too_many_signers', () => {
    const sa = createSigner(c.share(a), rng);
    const cm = (n: string) => createSigner(c.share(n), rng).commit();
    expectCode(
      () =>
        signRaw(
          sa,
          pkgOf([
            [a, sa.commit()],
            [b, cm(b)],
            [d, cm(d)],
            [b, cm(b)],
          ]),
        ),
      'too_many_signers',
    );
  });

  it('a package without its own commitment: missing_own_commitment', () => {
    const sa = createSigner(c.share(a), rng);
    sa.commit();
    const cm = (n: string) => createSigner(c.share(n), rng).commit();
    expectCode(
      () =>
        signRaw(
          sa,
          pkgOf([
            [b, cm(b)],
            [d, cm(d)],
          ]),
        ),
      'missing_own_commitment',
    );
  });

  it('a refused package does not consume the nonce', () => {
    const sa = createSigner(c.share(a), rng);
    const ca = sa.commit();
    const cb = createSigner(c.share(b), rng).commit();
    expectCode(
      () =>
        signRaw(
          sa,
          pkgOf(
            [
              [a, ca],
              [b, cb],
            ],
            { keyId: 'other-key' },
          ),
        ),
      'wrong_key',
    );
    const identity = `01${'00'.repeat(31)}`;
    expectCode(
      () =>
        signRaw(
          sa,
          pkgOf([
            [a, ca],
            [b, { ...cb, binding: identity }],
          ]),
        ),
      'invalid_point',
    );
    expect(sa.pending).toBe(1);
    expect(
      signRaw(
        sa,
        pkgOf([
          [a, ca],
          [b, cb],
        ]),
      ).consumed,
    ).toEqual([ca]);
    expect(sa.pending).toBe(0);
  });
});
