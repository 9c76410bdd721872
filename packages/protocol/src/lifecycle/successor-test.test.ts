import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../bytes.js';
import type { PublicKeyPackage } from '../keys.js';
import { successorTestMessage } from './successor-test.js';

const pkg: PublicKeyPackage = {
  keyId: 'key_1',
  suite: 'ed25519',
  threshold: 2,
  committee: ['a', 'b'],
  publicKey: '11'.repeat(32),
  groupCommitment: ['11'.repeat(32), '22'.repeat(32)],
  verifyingShares: { a: '33'.repeat(32), b: '44'.repeat(32) },
};

describe('successorTestMessage', () => {
  it('is pinned: domain, then the canonical key, session and successor hash', () => {
    const m = successorTestMessage('refresh-op_1', pkg);
    const text = new TextDecoder().decode(m);
    expect(text.startsWith('glacis/successor-test/v1\u0000{"keyId":"key_1","sessionId":"refresh-op_1","successor":"')).toBe(true);
    expect(toHex(sha256(m))).toMatchSnapshot();
  });

  it('a coordinator cannot have a staged share sign for another session or another successor', () => {
    const base = toHex(successorTestMessage('s1', pkg));
    expect(toHex(successorTestMessage('s2', pkg))).not.toBe(base);
    expect(toHex(successorTestMessage('s1', { ...pkg, verifyingShares: { ...pkg.verifyingShares, b: '55'.repeat(32) } }))).not.toBe(base);
    expect(toHex(successorTestMessage('s1', { ...pkg, keyId: 'key_2' }))).not.toBe(base);
    // Never the bytes a desk asks to sign: a raw message cannot start with the domain by chance.
    expect(base.startsWith(toHex(utf8('glacis/successor-test/v1')))).toBe(true);
  });
});
