import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, type Rng } from '@glacis/protocol';
import { describe, expect, it } from 'vitest';
import { initKeystore, KeystoreError, openKeystore } from '../src/keystore/keystore.js';
import type { UnlockSource } from '../src/keystore/sealing.js';

const rng: Rng = (n = 32) => new Uint8Array(randomBytes(n));
const pass = (p: string): UnlockSource => ({ kind: 'passphrase', passphrase: p });
const fresh = () => mkdtempSync(join(tmpdir(), 'glacis-ks-'));

describe('keystore at rest', () => {
  it('a wrong passphrase is a clear error that names the header file and changes nothing', () => {
    const dir = fresh();
    const ks = initKeystore(dir, pass('right'), { scryptLogN: 10 });
    ks.createIdentity(generateIdentity(rng));
    const before = Object.fromEntries(readdirSync(dir).map((f) => [f, statSync(join(dir, f)).mtimeMs]));
    const err = (() => {
      try {
        openKeystore(dir, pass('wrong'));
      } catch (e) {
        return e as KeystoreError;
      }
      throw new Error('opened with a wrong passphrase');
    })();
    expect(err).toBeInstanceOf(KeystoreError);
    expect(err.code).toBe('wrong_passphrase');
    expect(err.message).toContain(join(dir, 'keystore.json'));
    const after = Object.fromEntries(readdirSync(dir).map((f) => [f, statSync(join(dir, f)).mtimeMs]));
    expect(after).toEqual(before);
  });

  it('a key-encryption key cannot open a passphrase keystore (and says so)', () => {
    const dir = fresh();
    initKeystore(dir, pass('pw'), { scryptLogN: 10 });
    expect(() => openKeystore(dir, { kind: 'kek', kek: rng(32) })).toThrowError(expect.objectContaining({ code: 'wrong_passphrase' }));
  });

  it('the identity round-trips and is never on disk in clear', () => {
    const dir = fresh();
    const id = generateIdentity(rng);
    initKeystore(dir, { kind: 'kek', kek: rng(32) }).createIdentity(id);
    const seedHex = Buffer.from(id.exportSeed()).toString('hex');
    for (const f of readdirSync(dir))
      if (statSync(join(dir, f)).isFile()) expect(readFileSync(join(dir, f), 'utf8')).not.toContain(seedHex);
  });

  for (const damage of ['flipped byte', 'truncated', 'swapped'] as const) {
    it(`a ${damage} identity file is detected, named, and not used`, () => {
      const dir = fresh();
      const kek = { kind: 'kek' as const, kek: rng(32) };
      const ks = initKeystore(dir, kek);
      ks.createIdentity(generateIdentity(rng));
      const path = join(dir, 'identity.json');
      if (damage === 'flipped byte') {
        const f = JSON.parse(readFileSync(path, 'utf8'));
        f.ciphertext = (f.ciphertext[0] === 'a' ? 'b' : 'a') + f.ciphertext.slice(1);
        writeFileSync(path, JSON.stringify(f));
      } else if (damage === 'truncated') {
        truncateSync(path, statSync(path).size - 20);
      } else {
        // A sealed file for another purpose (another key's file) moved into place.
        const f = JSON.parse(readFileSync(path, 'utf8'));
        f.purpose = 'key:key_other';
        writeFileSync(path, JSON.stringify(f));
      }
      expect(() => openKeystore(dir, kek).loadIdentity()).toThrowError(
        expect.objectContaining({ code: 'corrupt_file', message: expect.stringContaining(path) }),
      );
    });
  }
});
