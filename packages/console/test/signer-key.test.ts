/**
 * Signer key files between the console and the `glacis` CLI (protocol `signer-key-file.ts`): a
 * file the CLI's code sealed opens in the console to the same key, and one the console sealed
 * opens in the CLI's code; the console's signatures verify under the stated public key. A wrong
 * passphrase, and every edit to a field the file binds, are refused; the file's fields are read as
 * strictly as the protocol's schema reads them.
 */
import { randomBytes } from 'node:crypto';
import { createSignerKeyFile, fromHex, openSignerKeyFile as protocolOpen, type Rng, verifyIdentitySignature } from '@glacis/protocol';
import { describe, expect, test } from 'vitest';
import { isConsoleError } from '../src/errors.js';
import { createSignerKey, openSignerKeyFile, parseSignerKeyFile } from '../src/signer-key.js';

const subtle = globalThis.crypto.subtle;
const rng: Rng = (n = 32) => new Uint8Array(randomBytes(n));
// The format's lowest cost, so the suite stays fast; the cost is a field of the file, like any other.
const logN = 10;
const message = new TextEncoder().encode('an approval digest, say');

describe('signer key files in the console', () => {
  test('a file the CLI sealed opens to its key, which signs what the protocol verifies', async () => {
    for (const role of ['approver', 'policy-admin'] as const) {
      const { file, identity } = createSignerKeyFile('correct horse', role, rng, { logN });
      const key = await openSignerKeyFile(subtle, JSON.stringify(file, null, 2), 'correct horse');
      expect(key.publicKey).toBe(file.publicKey);
      expect(key.role).toBe(role);
      const sig = await key.sign(message);
      expect(verifyIdentitySignature(sig, message, identity.publicKey)).toBe(true);
      expect(Buffer.from(identity.sign(message)).toString('hex')).toBe(Buffer.from(sig).toString('hex'));
    }
  });

  test('a key the console made opens in the CLI’s code with its passphrase, to the same public key', async () => {
    const { key, file } = await createSignerKey(subtle, 'pässwört', 'approver', rng, { logN });
    const opened = protocolOpen(JSON.parse(JSON.stringify(file)), 'pa\u0308sswo\u0308rt'); // the same passphrase, decomposed: NFC on both sides
    expect(Buffer.from(opened.identity.publicKey).toString('hex')).toBe(key.publicKey);
    expect(opened.role).toBe('approver');
    expect(verifyIdentitySignature(await key.sign(message), message, fromHex(key.publicKey))).toBe(true);
    // And the console reopens its own file.
    expect((await openSignerKeyFile(subtle, JSON.stringify(file), 'pässwört')).publicKey).toBe(key.publicKey);
  });

  test('a wrong passphrase, or any bound field edited, does not open: wrong_passphrase, as the protocol', async () => {
    const { file } = createSignerKeyFile('right', 'approver', rng, { logN });
    await expect(openSignerKeyFile(subtle, JSON.stringify(file), 'wrong')).rejects.toSatisfy((e) => isConsoleError(e, 'wrong_passphrase'));
    const flip = (h: string) => `${h.slice(0, -1)}${h.endsWith('0') ? '1' : '0'}`;
    const edits = [
      { ...file, role: 'policy-admin' },
      { ...file, kdf: { ...file.kdf, salt: flip(file.kdf.salt) } },
      { ...file, cipher: { ...file.cipher, nonce: flip(file.cipher.nonce) } },
      { ...file, ciphertext: flip(file.ciphertext) },
      { ...file, kdf: { ...file.kdf, r: 7 } },
    ];
    for (const edited of edits) {
      expect(() => protocolOpen(edited, 'right')).toThrow(/passphrase/);
      await expect(openSignerKeyFile(subtle, JSON.stringify(edited), 'right')).rejects.toSatisfy((e) =>
        isConsoleError(e, 'wrong_passphrase'),
      );
    }
  });

  test('a file stating another public key than its sealed seed’s is refused: invalid_key_file', async () => {
    // Sealed consistently (the AEAD covers the stated key), but over the seed of a different key.
    const a = createSignerKeyFile('pw', 'approver', rng, { logN });
    const b = createSignerKeyFile('pw', 'approver', rng, { logN });
    const { xchacha20poly1305 } = await import('@noble/ciphers/chacha.js');
    const { scrypt } = await import('@noble/hashes/scrypt.js');
    const { canonicalBytes } = await import('@glacis/protocol');
    const seedB = protocolOpen(b.file, 'pw');
    expect(seedB.role).toBe('approver');
    const { ciphertext: _, ...header } = a.file;
    const k = scrypt(new TextEncoder().encode('pw'), fromHex(header.kdf.salt), { N: 2 ** logN, r: 8, p: 1, dkLen: 32 });
    const bSeed = xchacha20poly1305(
      scrypt(new TextEncoder().encode('pw'), fromHex(b.file.kdf.salt), { N: 2 ** logN, r: 8, p: 1, dkLen: 32 }),
      fromHex(b.file.cipher.nonce),
      canonicalBytes('glacis/signer-key/v1', (({ ciphertext: __, ...h }) => h)(b.file)),
    ).decrypt(fromHex(b.file.ciphertext));
    const forged = {
      ...header,
      ciphertext: Buffer.from(
        xchacha20poly1305(k, fromHex(header.cipher.nonce), canonicalBytes('glacis/signer-key/v1', header)).encrypt(bSeed),
      ).toString('hex'),
    };
    expect(() => protocolOpen(forged, 'pw')).toThrow(/not the public key it states/);
    await expect(openSignerKeyFile(subtle, JSON.stringify(forged), 'pw')).rejects.toSatisfy((e) => isConsoleError(e, 'invalid_key_file'));
  });

  test('reads the file as strictly as the protocol’s schema: unknown fields, bad hex, costs out of range', () => {
    const { file } = createSignerKeyFile('pw', 'approver', rng, { logN });
    const bad: unknown[] = [
      { ...file, extra: 1 },
      { ...file, publicKey: file.publicKey.toUpperCase() },
      { ...file, kdf: { ...file.kdf, logN: 23 } },
      { ...file, kdf: { ...file.kdf, logN: 9 } },
      { ...file, kdf: { ...file.kdf, name: 'pbkdf2' } },
      { ...file, cipher: { ...file.cipher, name: 'aes-256-gcm' } },
      { ...file, version: 2 },
      { ...file, role: 'admin' },
      (({ ciphertext: _, ...rest }) => rest)(file),
      [file],
    ];
    for (const b of bad) {
      expect(() => protocolOpen(b, 'pw')).toThrow();
      expect(() => parseSignerKeyFile(JSON.stringify(b))).toThrow(expect.objectContaining({ code: 'invalid_key_file' }));
    }
    expect(() => parseSignerKeyFile('not json')).toThrow(expect.objectContaining({ code: 'invalid_key_file' }));
  });
});
