import { sessionIdSchema } from '@glacis/protocol';
import { describe, expect, it } from 'vitest';
import { encodeSessionId, newEpoch, parseSessionId, type SessionRef } from './session-id.js';

const epoch = newEpoch(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
const refs: SessionRef[] = [
  { kind: 'dkg', keyId: 'key_01J9Z3ABCDEFGHJKMNPQRSTVWX' },
  { kind: 'pool', epoch, n: 0, keyId: 'key_01J9Z3ABCDEFGHJKMNPQRSTVWX' },
  { kind: 'commit', epoch, signatureId: 'sig_01J9Z3ABCDEFGHJKMNPQRSTVWX' },
  { kind: 'sign', epoch, n: 12, signatureId: 'sig_01J9Z3ABCDEFGHJKMNPQRSTVWX' },
  // Ids may hold the separator: the id is last, so they still parse.
  { kind: 'sign', epoch, n: 3, signatureId: 'a-b_c-1-2' },
  { kind: 'pool', epoch, n: 7, keyId: 'k-1' },
  { kind: 'refresh', operationId: 'op_01J9Z3ABCDEFGHJKMNPQRSTVWX' },
  { kind: 'repair', operationId: 'op_01J9Z3ABCDEFGHJKMNPQRSTVWX' },
  { kind: 'reshare', operationId: 'op_1-2' },
  { kind: 'drill', operationId: 'op_01J9Z3ABCDEFGHJKMNPQRSTVWX' },
];

describe('session ids', () => {
  it('round-trip every kind, and every encoding is a valid wire session id', () => {
    for (const ref of refs) {
      const id = encodeSessionId(ref);
      expect(sessionIdSchema.safeParse(id).success).toBe(true);
      expect(parseSessionId(id)).toEqual(ref);
    }
  });

  it('keep the DKG id parties already bind into their transcripts', () => {
    expect(encodeSessionId({ kind: 'dkg', keyId: 'k1' })).toBe('dkg-k1');
  });

  it('parse nothing the coordinator does not make: other prefixes, non-canonical numbers, bad epochs, empty ids', () => {
    for (const id of [
      'key-sync',
      's1',
      'dkg-',
      `sign-${epoch}-01-sig_1`,
      `sign-${epoch}-x-sig_1`,
      `sign-${epoch}-1`,
      'sign-XYZ-1-sig_1',
      `commit-${epoch}`,
      `pool-${epoch}-1-`,
      `sig_1-${epoch}-s0`,
      'refresh-',
      'drills-op_1',
    ])
      expect(parseSessionId(id), id).toBeUndefined();
  });

  it('refuse to encode an id that would not fit on the wire', () => {
    expect(() => encodeSessionId({ kind: 'sign', epoch, n: 0, signatureId: 'x'.repeat(128) })).toThrow(RangeError);
    expect(() => encodeSessionId({ kind: 'commit', epoch, signatureId: 'a.b' })).toThrow(RangeError);
    expect(() => encodeSessionId({ kind: 'dkg', keyId: '' })).toThrow(RangeError);
  });

  it('differ between coordinator lives', () => {
    const other = newEpoch(new Uint8Array([8, 7, 6, 5, 4, 3, 2, 1]));
    expect(encodeSessionId({ kind: 'sign', epoch, n: 0, signatureId: 's' })).not.toBe(
      encodeSessionId({ kind: 'sign', epoch: other, n: 0, signatureId: 's' }),
    );
  });
});
