/**
 * The key-lifecycle message schemas (src/wire/messages.ts): one strict, bounded zod schema per
 * type, so a validly signed but malformed or oversized body is refused at the edge, naming its
 * sender (`invalid_message`); and every lifecycle code is documented in docs/errors.md.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BROADCAST, type MessageType, messageBodySchemas, PROTOCOL_ERROR_CODES } from '../src/index.js';
import { cluster, expectCode } from './harness.js';

const hex = (bytes: number) => 'ab'.repeat(bytes);
const box = { epk: hex(32), nonce: hex(24), ciphertext: hex(48) };
const digest = hex(32);

/** A valid body of every lifecycle message type. */
const VALID: Partial<Record<MessageType, Record<string, unknown>>> = {
  refresh_start: { keyId: 'k1', suite: 'ed25519', threshold: 2, committee: ['a', 'b'], predecessor: digest },
  refresh_round1: { keyId: 'k1', commitment: [hex(32)] },
  refresh_round2: { keyId: 'k1', transcriptHash: digest, box },
  repair_start: { keyId: 'k1', suite: 'ed25519', target: 'c', helpers: ['a', 'b'], predecessor: digest },
  repair_commit: { keyId: 'k1', target: 'c', commitments: { a: hex(32), b: hex(32) } },
  repair_delta: { keyId: 'k1', transcriptHash: digest, box },
  repair_sigma: { keyId: 'k1', transcriptHash: digest, box },
  repair_confirm: { keyId: 'k1', verifyingShare: hex(32), proof: hex(64) },
  reshare_start: { keyId: 'k1', suite: 'ed25519', threshold: 3, committee: ['a', 'b', 'c'], dealers: ['a', 'b'], predecessor: digest },
  reshare_round1: { keyId: 'k1', commitment: [hex(32), hex(32)] },
  reshare_round2: { keyId: 'k1', commitmentHash: digest, box },
  lifecycle_confirm: {
    keyId: 'k1',
    suite: 'ed25519',
    operation: 'refresh',
    predecessor: digest,
    threshold: 2,
    transcriptHash: digest,
    publicKey: hex(32),
    groupCommitment: [hex(32), hex(32)],
    verifyingShares: { a: hex(32), b: hex(32) },
  },
  lifecycle_complete: { keyId: 'k1', operation: 'reshare', confirmations: [] },
  lifecycle_abort: { keyId: 'k1', operation: 'repair', code: 'lifecycle_invalid_share', message: 'm', culprits: ['a'] },
  lifecycle_test_request: { keyId: 'k1' },
  lifecycle_test_commitment: { keyId: 'k1', commitment: { hiding: hex(32), binding: hex(32) } },
  lifecycle_test_package: { keyId: 'k1', commitments: [{ partyId: 'a', hiding: hex(32), binding: hex(32) }] },
  lifecycle_test_share: { keyId: 'k1', share: hex(32) },
  drill_request: { keyId: 'k1', drillId: 'd1', nonce: digest },
  drill_proof: { keyId: 'k1', drillId: 'd1', verifyingShare: hex(32), proof: hex(64) },
};

const parse = (type: MessageType, body: unknown) => messageBodySchemas[type].safeParse(body).success;

describe('lifecycle message schemas', () => {
  for (const [type, body] of Object.entries(VALID) as [MessageType, Record<string, unknown>][]) {
    it(`${type}: accepts a valid body; refuses an unknown field, a missing keyId, another keyId form`, () => {
      expect(parse(type, body)).toBe(true);
      expect(parse(type, { ...body, extra: 1 })).toBe(false);
      const { keyId: _k, ...noKey } = body;
      expect(parse(type, noKey)).toBe(false);
      expect(parse(type, { ...body, keyId: 'k 1' })).toBe(false);
    });
  }

  it('every lifecycle type has a case above', () => {
    const lifecycle = Object.keys(messageBodySchemas).filter((t) => /^(refresh|repair|reshare|lifecycle|drill)_/.test(t));
    expect(lifecycle.sort()).toEqual(Object.keys(VALID).sort());
  });

  it('bounds: oversized elements, boxes, lists and maps are refused', () => {
    expect(parse('refresh_round1', { keyId: 'k1', commitment: [hex(58)] })).toBe(false);
    expect(parse('refresh_round1', { keyId: 'k1', commitment: [] })).toBe(false);
    expect(parse('refresh_round1', { keyId: 'k1', commitment: Array(255).fill(hex(32)) })).toBe(false);
    expect(parse('reshare_round1', { keyId: 'k1', commitment: [hex(32)] })).toBe(false);
    expect(parse('refresh_round2', { keyId: 'k1', transcriptHash: digest, box: { ...box, ciphertext: hex(74) } })).toBe(false);
    expect(parse('refresh_round2', { keyId: 'k1', transcriptHash: digest, box: { ...box, epk: hex(33) } })).toBe(false);
    expect(parse('refresh_round2', { keyId: 'k1', transcriptHash: hex(31), box })).toBe(false);
    const many = Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`p${i}`, hex(32)]));
    expect(parse('repair_commit', { keyId: 'k1', target: 'c', commitments: many })).toBe(false);
    expect(parse('lifecycle_confirm', { ...VALID.lifecycle_confirm, operation: 'repair' })).toBe(false);
    expect(parse('lifecycle_confirm', { ...VALID.lifecycle_confirm, threshold: 1 })).toBe(false);
    expect(parse('drill_proof', { ...VALID.drill_proof, proof: hex(115) })).toBe(false);
    expect(parse('drill_request', { ...VALID.drill_request, nonce: hex(16) })).toBe(false);
    expect(parse('repair_commit', { keyId: 'k1', target: 'c', commitments: { A: hex(32) } })).toBe(false);
  });

  it('repair and reshare starts may carry the key for newcomers: a whole public package and its generation, nothing else', () => {
    const key = {
      keyId: 'k1',
      suite: 'ed25519',
      threshold: 2,
      committee: ['a', 'b'],
      publicKey: hex(32),
      groupCommitment: [hex(32), hex(32)],
      verifyingShares: { a: hex(32), b: hex(32) },
    };
    expect(parse('repair_start', { ...VALID.repair_start, key, generation: 3 })).toBe(true);
    expect(parse('reshare_start', { ...VALID.reshare_start, key, generation: 0 })).toBe(true);
    expect(parse('repair_start', { ...VALID.repair_start, key: { ...key, secret: '00' } })).toBe(false);
    expect(parse('repair_start', { ...VALID.repair_start, key, generation: -1 })).toBe(false);
    expect(parse('reshare_start', { ...VALID.reshare_start, key: { ...key, threshold: 1 } })).toBe(false);
  });

  it('a validly signed but malformed lifecycle body is refused at the envelope, naming its sender', () => {
    const c = cluster('ed25519', 3, 2);
    const env = c.world.parties.get('p02')!.sealer.seal({
      type: 'refresh_round1',
      sessionId: 'refresh-1',
      to: BROADCAST,
      body: { keyId: c.pub.keyId, commitment: [hex(32)], extra: true } as never,
    });
    expectCode(() => c.world.open('p01', env), 'invalid_message', ['p02']);
  });
});

describe('lifecycle error codes', () => {
  it('every lifecycle and drill code is explained in docs/errors.md', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Key lifecycle'));
    const codes = PROTOCOL_ERROR_CODES.filter((c) => /^(lifecycle|drill)_/.test(c));
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) expect(section, code).toMatch(new RegExp(`^\\| \`${code}\` \\|`, 'm'));
  });
});
