/**
 * Signatures from a DKG and threshold signing through Glacis's state machines verify under
 * verifiers that share no code with noble, and those verifiers are themselves checked against the
 * BIP-340 and RFC 9591 vectors first, so a broken verifier cannot make the suite pass.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, getSuite, type SuiteId, utf8 } from '../src/index.js';
import { libsecpVerify, opensslVerify } from './external-verifiers.js';
import { cluster, publicKeyBytes, sign } from './harness.js';
import { type SigningVector, vectorBytes, vectorJson } from './load-vectors.js';
import { rng } from './sim.js';

interface Bip340Row {
  index: string;
  publicKey: string;
  message: string;
  signature: string;
  expected: boolean;
  comment: string;
}

function bip340Rows(): Bip340Row[] {
  const lines = vectorBytes('bip340/test-vectors.csv').toString('utf8').trim().split(/\r?\n/);
  expect(lines[0]).toBe('index,secret key,public key,aux_rand,message,signature,verification result,comment');
  return lines.slice(1).map((line) => {
    const f = line.split(',');
    return {
      index: f[0] as string,
      publicKey: (f[2] as string).toLowerCase(),
      message: (f[4] as string).toLowerCase(),
      signature: (f[5] as string).toLowerCase(),
      expected: f[6] === 'TRUE',
      comment: f.slice(7).join(','),
    };
  });
}

describe('BIP-340 verifiers agree with test-vectors.csv', () => {
  const rows = bip340Rows();
  const suite = getSuite('secp256k1-tr');

  it('has all 19 cases, valid and invalid', () => {
    expect(rows.length).toBe(19);
    expect(rows.filter((r) => r.expected).length).toBeGreaterThan(0);
    expect(rows.filter((r) => !r.expected).length).toBeGreaterThan(0);
  });

  for (const r of rows) {
    it(`#${r.index} ${r.expected ? 'valid' : 'invalid'} ${r.comment}`, () => {
      const sig = fromHex(r.signature);
      const msg = fromHex(r.message);
      const pk = fromHex(r.publicKey);
      expect(suite.verify(sig, msg, pk)).toBe(r.expected);
      if (msg.length === 32) expect(libsecpVerify(sig, msg, pk)).toBe(r.expected);
      else expect(() => libsecpVerify(sig, msg, pk)).toThrow(/32-byte/);
    });
  }

  it('rows whose public key is invalid are rejected by suite.verify', () => {
    const bad = rows.filter((r) => /public key/.test(r.comment));
    expect(bad.map((r) => r.index)).toEqual(['5', '14']);
    for (const r of bad) expect(suite.verify(fromHex(r.signature), fromHex(r.message), fromHex(r.publicKey))).toBe(false);
  });
});

describe('OpenSSL agrees with the RFC 9591 vectors', () => {
  for (const [file, curve] of [
    ['frost-ed25519-sha512.json', 'Ed25519'],
    ['frost-ed448-shake256.json', 'Ed448'],
  ] as const) {
    it(`${curve}: ${file} final signature`, () => {
      const v = vectorJson<SigningVector>(`cfrg-draft-irtf-cfrg-frost/${file}`);
      const pk = fromHex(v.inputs.group_public_key as string);
      const sig = fromHex(v.final_output.sig);
      expect(opensslVerify(curve, sig, fromHex(v.inputs.message), pk)).toBe(true);
      expect(opensslVerify(curve, sig, utf8('tesu'), pk)).toBe(false);
    });
  }
});

describe('state-machine signatures verify independently', () => {
  const cases: [SuiteId, (s: Uint8Array, m: Uint8Array, p: Uint8Array) => boolean, Uint8Array][] = [
    ['ed25519', (s, m, p) => opensslVerify('Ed25519', s, m, p), utf8('pay 1 BTC to bc1q…')],
    ['ed448', (s, m, p) => opensslVerify('Ed448', s, m, p), utf8('pay 1 BTC to bc1q…')],
    // BIP-340 signers sign 32-byte digests (a sighash), the only length libsecp256k1's API takes.
    ['secp256k1-tr', libsecpVerify, rng(32)],
  ];
  for (const [id, verifier, message] of cases) {
    it(`${id}: 3-of-4 DKG, signers 1,3,4 → independent verifier accepts`, () => {
      const c = cluster(id, 4, 3);
      const sig = sign(c, [c.names[0], c.names[2], c.names[3]] as string[], message);
      const pk = publicKeyBytes(c);
      expect(verifier(sig, message, pk)).toBe(true);
      expect(c.suite.verify(sig, message, pk)).toBe(true);
      const bent = sig.slice();
      bent[3] = (bent[3] as number) ^ 0x10;
      expect(verifier(bent, message, pk)).toBe(false);
      const other = message.slice();
      other[0] = (other[0] as number) ^ 1;
      expect(verifier(sig, other, pk)).toBe(false);
    });
  }
});
