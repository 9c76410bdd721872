import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, type Rng } from '@glacis/protocol';
import { describe, expect, it } from 'vitest';
import { cluster } from '../../protocol/test/harness.js';
import { PartyError } from '../src/errors.js';
import { initKeystore, openKeystore } from '../src/keystore/keystore.js';
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
        return e as PartyError;
      }
      throw new Error('opened with a wrong passphrase');
    })();
    expect(err).toBeInstanceOf(PartyError);
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

/**
 * DESIGN.md invariant 6: an active share is never replaced or deleted. The keystore has no call
 * that could: each is tried against a stored share, and the file's bytes must not change.
 */
describe('a key file opened once is read from disk at every use', () => {
  // The keystore keeps what it opened and checked by the file's exact text (the AEAD and the VSS
  // check cost a third to a half of a party's CPU per signature): what changed on disk since must
  // still be seen at the next read.
  const c = cluster('ed25519', 3, 2);
  const other = cluster('ed25519', 3, 2);
  const kek = { kind: 'kek' as const, kek: rng(32) };
  const setup = () => {
    const dir = fresh();
    const ks = initKeystore(dir, kek);
    ks.createPending(c.share('p01'));
    ks.activate(c.share('p01').keyId, []);
    const path = join(dir, 'keys', `${c.share('p01').keyId}.json`);
    expect(ks.get(c.share('p01').keyId)?.status).toBe('active');
    return { dir, ks, path };
  };

  it('a byte flipped in a key file after it was read is refused at the next read (corrupt_file)', () => {
    const { ks, path } = setup();
    const text = readFileSync(path, 'utf8');
    const at = text.indexOf('"ciphertext":"') + 20;
    writeFileSync(path, text.slice(0, at) + (text[at] === '0' ? '1' : '0') + text.slice(at + 1));
    expect(() => ks.get(c.share('p01').keyId)).toThrowError(expect.objectContaining({ code: 'corrupt_file' }));
    expect(ks.usable().damaged).toEqual([c.share('p01').keyId]);
  });

  it("another key's file swapped in after a read is refused, not served from what was read before", () => {
    const { ks, path, dir } = setup();
    ks.createPending(other.share('p01'));
    writeFileSync(path, readFileSync(join(dir, 'keys', `${other.share('p01').keyId}.json`)));
    expect(() => ks.get(c.share('p01').keyId)).toThrowError(expect.objectContaining({ code: 'corrupt_file' }));
  });

  it('a key file deleted after a read is gone at the next read', () => {
    const { ks, path } = setup();
    rmSync(path);
    expect(ks.get(c.share('p01').keyId)).toBeUndefined();
  });

  it('a share zeroed by its holder (a signer whose key was switched) is not zeroed for the next reader', () => {
    const { ks } = setup();
    const keyId = c.share('p01').keyId;
    const first = ks.get(keyId);
    const bytes = first?.share.frostSecret.signingShare.slice();
    first?.share.frostSecret.signingShare.fill(0);
    expect(ks.get(keyId)?.share.frostSecret.signingShare).toEqual(bytes);
    expect(bytes?.some((b) => b !== 0)).toBe(true);
  });

  it('a status written by another opening of the keystore (a CLI command) is seen at the next read', () => {
    const { ks, dir } = setup();
    const key = other.share('p01');
    ks.createPending(key);
    expect(ks.get(key.keyId)?.status).toBe('pending');
    openKeystore(dir, kek).activate(key.keyId, []);
    expect(ks.get(key.keyId)?.status).toBe('active');
  });
});

describe('key files are never replaced', () => {
  const c = cluster('ed25519', 3, 2);
  const share = c.share('p01');
  const other = cluster('ed25519', 3, 2); // the same key id, other shares: a second DKG's output
  const otherShare = { ...other.share('p01'), keyId: share.keyId, public: { ...other.share('p01').public, keyId: share.keyId } };
  const kek = { kind: 'kek' as const, kek: rng(32) };
  const setup = () => {
    const dir = fresh();
    const ks = initKeystore(dir, kek);
    const path = join(dir, 'keys', `${share.keyId}.json`);
    return { dir, ks, path, bytes: () => readFileSync(path, 'utf8') };
  };

  it('a second pending share for a stored key is refused with key_exists, whatever the status', () => {
    const { ks, bytes } = setup();
    ks.createPending(share);
    for (const status of ['pending', 'failed', 'active'] as const) {
      if (status === 'failed') ks.markFailed(share.keyId);
      if (status === 'active') ks.activate(share.keyId, []);
      const before = bytes();
      expect(() => ks.createPending(otherShare)).toThrowError(expect.objectContaining({ code: 'key_exists' }));
      expect(() => ks.restore({ share: otherShare, status: 'active', certificate: [], generation: 0 })).toThrowError(
        expect.objectContaining({ code: 'key_exists' }),
      );
      expect(bytes()).toBe(before);
      expect(ks.get(share.keyId)?.status).toBe(status);
    }
  });

  it('an active share is not rewritten by activate or markFailed', () => {
    const { ks, bytes } = setup();
    ks.createPending(share);
    ks.activate(share.keyId, []);
    const before = bytes();
    expect(ks.activate(share.keyId, [])).toMatchObject({ status: 'active' });
    expect(ks.markFailed(share.keyId)).toBe(false);
    expect(bytes()).toBe(before);
  });

  it('a failed share is kept and still turns active on its certificate', () => {
    const { ks } = setup();
    ks.createPending(share);
    expect(ks.markFailed(share.keyId)).toBe(true);
    expect(ks.list().map((s) => s.status)).toEqual(['failed']);
    expect(ks.activate(share.keyId, [])).toMatchObject({ status: 'active' });
  });

  it('what a crash leaves of an exclusive create (a temp file) is swept at open, never read as a key', () => {
    const { dir, ks } = setup();
    ks.createPending(share);
    const keys = join(dir, 'keys');
    // Above Linux's largest pid_max (2^22): the writer that crashed is certainly gone.
    writeFileSync(join(keys, `k2.json.tmp-99999999-abcd`), 'half a file');
    const reopened = openKeystore(dir, kek);
    expect(readdirSync(keys)).toEqual([`${share.keyId}.json`]);
    expect(reopened.list().map((s) => s.share.keyId)).toEqual([share.keyId]);
  });

  it('a temp file of a process still running (the party, while a CLI command opens its keystore) is left alone', () => {
    const { dir, ks } = setup();
    ks.createPending(share);
    const keys = join(dir, 'keys');
    // The parent of this test process stands in for a party daemon writing its next key file.
    const writing = `k2.json.tmp-${process.ppid}-abcd`;
    writeFileSync(join(keys, writing), 'being written');
    const reopened = openKeystore(dir, kek);
    expect(readdirSync(keys).sort()).toEqual([`${share.keyId}.json`, writing].sort());
    expect(reopened.list().map((s) => s.share.keyId)).toEqual([share.keyId]);
  });
});
