/**
 * The keystore secrets committed in deploy/secrets/ are public: a party refuses to be sealed or
 * unlocked with them unless GLACIS_DEMO=1 says this is the local demo, so a deployment that lost
 * its own secrets directory stops instead of sealing shares under a published passphrase.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { resolveUnlockSource } from '../src/keystore/unlock.js';

const secret = (name: string) => new URL(`../../../deploy/secrets/${name}`, import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'glacis-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('demo keystore secrets', () => {
  test.each([
    ['GLACIS_PASSPHRASE_FILE', 'party-1.passphrase'],
    ['GLACIS_KEK_FILE', 'party-2.kek'],
    ['GLACIS_KEK_FILE', 'party-3.kek'],
  ])('%s=deploy/secrets/%s is refused outside GLACIS_DEMO=1', (variable, file) => {
    expect(() => resolveUnlockSource({}, { [variable]: secret(file) })).toThrow(
      expect.objectContaining({
        name: 'PartyError',
        code: 'demo_secret_refused',
        message: expect.stringMatching(/public demo secret.*GLACIS_DEMO=1/),
      }),
    );
    expect(() => resolveUnlockSource({}, { [variable]: secret(file), GLACIS_DEMO: 'true' })).toThrow(/public demo secret/);
    expect(resolveUnlockSource({}, { [variable]: secret(file), GLACIS_DEMO: '1' }).kind).toBe(
      variable === 'GLACIS_KEK_FILE' ? 'kek' : 'passphrase',
    );
  });

  test('the same secret given by a flag or a variable is refused too', () => {
    expect(() => resolveUnlockSource({ kekFile: secret('party-2.kek') }, {})).toThrow(/public demo secret/);
    const copy = join(dir, 'copied.passphrase');
    writeFileSync(copy, `local-demo-only passphrase for party-1 8f22da4fecf31bf7\n`);
    expect(() => resolveUnlockSource({ passphraseFile: copy }, {})).toThrow(/public demo secret/);
  });

  test('any other secret unlocks without GLACIS_DEMO', () => {
    expect(resolveUnlockSource({}, { GLACIS_KEK: 'ab'.repeat(32) }).kind).toBe('kek');
    expect(resolveUnlockSource({}, { GLACIS_PASSPHRASE: 'a passphrase of our own' }).kind).toBe('passphrase');
  });
});
