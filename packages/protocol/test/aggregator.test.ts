/**
 * The aggregator state machine at the coordinator: it holds only public data, but a relay or a
 * confused driver must not be able to feed it shares out of turn or finish a session twice.
 */
import { describe, expect, it } from 'vitest';
import { createAggregator, createKeyCache, createSigner, type KeyCache, toHex, utf8 } from '../src/index.js';
import { cluster, commitmentOf, expectCode, rawSigning, session, shareOf } from './harness.js';
import { rng } from './sim.js';

const c = cluster('secp256k1', 3, 2);
const [a, b, d] = c.names as [string, string, string];
const msg = utf8('m');

describe('aggregator', () => {
  it('refuses a share from a party that is not a signer of the session', () => {
    const s = session(c, [a, b], msg);
    expectCode(() => s.addShare(d, s.shares.get(a) as string), 'unexpected_signature_share');
  });

  it('refuses a second share from the same signer', () => {
    const s = session(c, [a, b], msg);
    expect(s.addShare(a, s.shares.get(a) as string)).toBe(false);
    expectCode(() => s.addShare(a, s.shares.get(a) as string), 'unexpected_signature_share');
  });

  it('will not finish before every signer answered, naming nobody', () => {
    const s = session(c, [a, b], msg);
    s.addShare(a, s.shares.get(a) as string);
    expectCode(() => s.finish(), 'missing_signature_share', []);
  });

  it('is closed after it completed: no more commitments, packages, shares or finishes', () => {
    const agg = createAggregator({ key: c.pub, requestId: 'r', ...rawSigning(msg) });
    const signers = [a, b].map((n) => [n, createSigner(c.share(n), rng)] as const);
    for (const [n, s] of signers) agg.addCommitment(n, [commitmentOf(c.suite, s, n)]);
    const pkg = agg.buildPackage();
    const shares = signers.map(([n, s]) => [n, toHex(shareOf(s, pkg))] as const);
    for (const [n, h] of shares) agg.addShare(n, [h]);
    const [sig] = agg.finish();
    expect(c.suite.verify(sig as Uint8Array, msg, Buffer.from(c.pub.publicKey, 'hex'))).toBe(true);
    expect(agg.state.phase).toBe('completed');
    expectCode(() => agg.finish(), 'session_closed');
    expectCode(() => agg.addShare(a, [shares[0]![1]]), 'session_closed');
    expectCode(() => agg.addCommitment(d, [commitmentOf(c.suite, createSigner(c.share(d), rng), d)]), 'session_closed');
    expectCode(() => agg.buildPackage(), 'session_closed');
  });

  it('refuses to fix a package with fewer than t signers', () => {
    const agg = createAggregator({ key: c.pub, requestId: 'r', ...rawSigning(msg) });
    agg.addCommitment(a, [commitmentOf(c.suite, createSigner(c.share(a), rng), a)]);
    expectCode(() => agg.buildPackage(), 'too_few_signers');
    expect(agg.state.phase).toBe('awaiting_commitments');
  });

  it('computes the session after the package is fixed, not while fixing it: once, by prepare, and finish reuses it', () => {
    // The package goes to the signers first; the arithmetic (which starts by taking the key) follows.
    const cache = createKeyCache();
    let taken = 0;
    const keys: KeyCache = {
      get: (pkg) => {
        taken++;
        return cache.get(pkg);
      },
      get size() {
        return cache.size;
      },
    };
    const agg = createAggregator({ key: c.pub, requestId: 'r', keys, ...rawSigning(msg) });
    const signers = [a, b].map((n) => [n, createSigner(c.share(n), rng)] as const);
    for (const [n, s] of signers) agg.addCommitment(n, [commitmentOf(c.suite, s, n)]);
    agg.prepare(); // before the package: nothing to prepare
    const pkg = agg.buildPackage();
    expect(taken, 'fixing the package computes nothing').toBe(0);
    agg.prepare();
    agg.prepare();
    expect(taken, 'prepare computes the session once').toBe(1);
    for (const [n, s] of signers) agg.addShare(n, [toHex(shareOf(s, pkg))]);
    const [sig] = agg.finish();
    expect(taken, 'finish uses what prepare computed').toBe(1);
    expect(c.suite.verify(sig as Uint8Array, msg, Buffer.from(c.pub.publicKey, 'hex'))).toBe(true);
  });

  it('finishes the same without prepare (a driver that never feeds it): the session is computed at the last share', () => {
    const agg = createAggregator({ key: c.pub, requestId: 'r', ...rawSigning(msg) });
    const signers = [a, b].map((n) => [n, createSigner(c.share(n), rng)] as const);
    for (const [n, s] of signers) agg.addCommitment(n, [commitmentOf(c.suite, s, n)]);
    const pkg = agg.buildPackage();
    for (const [n, s] of signers) agg.addShare(n, [toHex(shareOf(s, pkg))]);
    const [sig] = agg.finish();
    expect(c.suite.verify(sig as Uint8Array, msg, Buffer.from(c.pub.publicKey, 'hex'))).toBe(true);
  });
});
