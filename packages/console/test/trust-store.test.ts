/**
 * What the user pins: trust files read as `glacis keys verify --trust` reads them (the same files
 * accepted, the same refused), fingerprints as the protocol prints them, and storage that a damaged
 * entry cannot turn into a pin.
 */

import { randomBytes } from 'node:crypto';
import { generateIdentity, identityFingerprint, toHex } from '@glacis/protocol';
import { describe, expect, test } from 'vitest';
import { parseTrustFile as cliParse } from '../../client/src/trust-file.js';
import { isConsoleError } from '../src/errors.js';
import { fingerprint } from '../src/format.js';
import { checkPin, loadAnchors, loadPins, loadRetired, parseTrustFile, saveAnchors, savePins, saveRetired } from '../src/trust-store.js';

const key = () => toHex(generateIdentity((n = 32) => new Uint8Array(randomBytes(n))).publicKey);

/** A Storage in memory. */
function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, String(v)),
  };
}

describe('trust files', () => {
  const good = key();
  const cases: [string, string][] = [
    ['one party', JSON.stringify({ parties: { 'party-1': good } })],
    ['several', JSON.stringify({ parties: { 'party-1': good, 'party-2': key(), p3: key() } })],
    ['no party', JSON.stringify({ parties: {} })],
    ['not JSON', '{"parties":'],
    ['an array', '[]'],
    ['an unknown field', JSON.stringify({ parties: { 'party-1': good }, extra: 1 })],
    ['uppercase hex', JSON.stringify({ parties: { 'party-1': good.toUpperCase() } })],
    ['a short key', JSON.stringify({ parties: { 'party-1': good.slice(2) } })],
    ['a number for a key', JSON.stringify({ parties: { 'party-1': 7 } })],
    ['a bad party id', JSON.stringify({ parties: { 'Party 1': good } })],
    ['parties not an object', JSON.stringify({ parties: [good] })],
    ['retired keys', JSON.stringify({ parties: { 'party-1': good }, retired: { 'party-1': [key(), key()] } })],
    ['retired not a list', JSON.stringify({ parties: { 'party-1': good }, retired: { 'party-1': key() } })],
    ['a short retired key', JSON.stringify({ parties: { 'party-1': good }, retired: { 'party-1': [good.slice(2)] } })],
    ['too many retired keys', JSON.stringify({ parties: { 'party-1': good }, retired: { 'party-1': Array.from({ length: 65 }, key) } })],
  ];
  test.each(cases)('%s: the console accepts exactly what the CLI accepts', (_name, text) => {
    let cli: { parties: Record<string, string>; retired: Record<string, string[]> } | 'refused';
    try {
      const parsed = cliParse(text, 'trust.json');
      cli = { parties: parsed.parties, retired: parsed.retired ?? {} };
    } catch {
      cli = 'refused';
    }
    let browser: { parties: Record<string, string>; retired: Record<string, string[]> } | 'refused';
    try {
      browser = parseTrustFile(text);
    } catch (e) {
      expect(isConsoleError(e, 'invalid_trust_file')).toBe(true);
      browser = 'refused';
    }
    expect(browser).toEqual(cli);
  });

  test('one pin typed by hand may have spaces around it or uppercase; never another length', () => {
    expect(checkPin('party-1', ` ${good.toUpperCase()} `)).toBe(good);
    expect(() => checkPin('party-1', `${good}00`)).toThrow();
    expect(() => checkPin('-party', good)).toThrow();
  });
});

describe('fingerprints', () => {
  test('are the protocol’s identityFingerprint', async () => {
    for (let i = 0; i < 20; i++) {
      const id = generateIdentity((n = 32) => new Uint8Array(randomBytes(n))).publicKey;
      expect(await fingerprint(globalThis.crypto.subtle, id)).toBe(identityFingerprint(id));
    }
  });
});

describe('storage', () => {
  test('pins and anchors round-trip; damaged entries are dropped, not trusted', () => {
    const s = memoryStorage();
    const pins = { 'party-1': key(), 'party-2': key() };
    savePins(pins, s);
    expect(loadPins(s)).toEqual(pins);
    s.setItem('glacis.console.pins', JSON.stringify({ 'party-1': 'zz', 'party-2': pins['party-2'], 'Bad Id': key() }));
    expect(loadPins(s)).toEqual({ 'party-2': pins['party-2'] });
    s.setItem('glacis.console.pins', '{not json');
    expect(loadPins(s)).toEqual({});
    const anchor = { seq: 4, hash: 'ab'.repeat(32) };
    saveAnchors([anchor], s);
    expect(loadAnchors(s)).toEqual([anchor]);
    s.setItem('glacis.console.anchors', JSON.stringify(['4:xyz', `5:${'cd'.repeat(32)}`, 7]));
    expect(loadAnchors(s)).toEqual([{ seq: 5, hash: 'cd'.repeat(32) }]);
    const retired = { 'party-2': [key()] };
    saveRetired(retired, s);
    expect(loadRetired(s)).toEqual(retired);
    s.setItem('glacis.console.retired', JSON.stringify({ 'party-2': ['zz', retired['party-2'][0]], 'Bad Id': [key()], p3: 'x' }));
    expect(loadRetired(s)).toEqual(retired);
  });
});
