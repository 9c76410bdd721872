/** Signer key files: what opens, and every change an attacker with the file could make, refused. */
import { describe, expect, it } from 'vitest';
import { createSignerKeyFile, openSignerKeyFile, type SignerKeyFile, toHex, utf8, verifyIdentitySignature } from '../src/index.js';
import { expectCode } from './harness.js';
import { rng } from './sim.js';

const LOG_N = 10; // the cheapest scrypt the format accepts: these tests are about the format
const make = (role: 'approver' | 'policy-admin' = 'approver') => createSignerKeyFile('correct horse', role, rng, { logN: LOG_N });

describe('signer key files', () => {
  it('open with their passphrase to the key they state; the key signs', () => {
    const { file, identity } = make();
    expect(file).toMatchObject({ format: 'glacis-signer-key', version: 1, role: 'approver', publicKey: toHex(identity.publicKey) });
    const opened = openSignerKeyFile(JSON.parse(JSON.stringify(file)), 'correct horse');
    expect(opened.role).toBe('approver');
    expect(toHex(opened.identity.publicKey)).toBe(file.publicKey);
    const sig = opened.identity.sign(utf8('approve'));
    expect(verifyIdentitySignature(sig, utf8('approve'), opened.identity.publicKey)).toBe(true);
    expect(JSON.stringify(file)).not.toContain(toHex(identity.sign(utf8('x'))));
  });

  it('the passphrase is NFC-normalised: the same words typed either way open the file', () => {
    const { file } = createSignerKeyFile('café', 'approver', rng, { logN: LOG_N });
    expect(() => openSignerKeyFile(file, 'cafe\u0301')).not.toThrow();
  });

  it('a wrong passphrase: keyfile_wrong_passphrase', () => {
    expectCode(() => openSignerKeyFile(make().file, 'wrong'), 'keyfile_wrong_passphrase');
  });

  const edits: [string, (f: SignerKeyFile) => SignerKeyFile][] = [
    ['another public key stated (a swap)', (f) => ({ ...f, publicKey: toHex(rng(32)) })],
    ['the role changed', (f) => ({ ...f, role: 'policy-admin' })],
    ['a cheaper KDF stated', (f) => ({ ...f, kdf: { ...f.kdf, logN: 11 } })],
    ['a flipped ciphertext bit', (f) => ({ ...f, ciphertext: (f.ciphertext[0] === '0' ? '1' : '0') + f.ciphertext.slice(1) })],
  ];
  for (const [name, edit] of edits) {
    it(`an edited file does not open: ${name}`, () => {
      expectCode(() => openSignerKeyFile(edit(make().file), 'correct horse'), 'keyfile_wrong_passphrase');
    });
  }

  it('not a signer key file, or an unknown version: keyfile_invalid; an empty passphrase is refused', () => {
    expectCode(() => openSignerKeyFile({ format: 'glacis-keystore' }, 'x'), 'keyfile_invalid');
    expectCode(() => openSignerKeyFile({ ...make().file, version: 2 }, 'correct horse'), 'keyfile_invalid');
    expectCode(() => openSignerKeyFile({ ...make().file, extra: 1 }, 'correct horse'), 'keyfile_invalid');
    expectCode(() => createSignerKeyFile('', 'approver', rng), 'keyfile_invalid');
  });
});
