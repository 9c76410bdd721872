import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openSqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/types.js';
import { generateToken, hashToken, installTokens, issueToken } from './tokens.js';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'glacis-tokens-'));
  store = openSqliteStore({ path: join(dir, 'db.sqlite') });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tokens', () => {
  test('a token is shown once and only its hash reaches the database file', async () => {
    const { token, record } = await issueToken(store, 'desk-1', 'requester');
    expect(token).toMatch(/^glc_[A-Za-z0-9_-]{43}$/);
    expect(record).toMatchObject({ name: 'desk-1', role: 'requester' });
    expect(await store.findToken(hashToken(token))).toMatchObject({ name: 'desk-1' });
    await store.close();
    const bytes = ['db.sqlite', 'db.sqlite-wal'].map((f) => {
      try {
        return readFileSync(join(dir, f)).toString('latin1');
      } catch {
        return '';
      }
    });
    expect(bytes.join('')).not.toContain(token);
    store = openSqliteStore({ path: join(dir, 'db.sqlite') });
  });

  test('configured tokens work from their secret or their hash', async () => {
    await installTokens(store, [
      { name: 'env-admin', role: 'admin', token: 'glc_from_env_0123' },
      { name: 'audit', role: 'auditor', sha256: hashToken('glc_audit_secret') },
    ]);
    expect(await store.findToken(hashToken('glc_from_env_0123'))).toMatchObject({ role: 'admin' });
    expect(await store.findToken(hashToken('glc_audit_secret'))).toMatchObject({ role: 'auditor' });
  });

  test('a token removed from the configuration is revoked at the next start; CLI-made tokens stay', async () => {
    const made = await issueToken(store, 'desk-cli', 'requester');
    await installTokens(store, [
      { name: 'env-admin', role: 'admin', token: 'glc_from_env_0123' },
      { name: 'audit', role: 'auditor', sha256: hashToken('glc_audit_secret') },
      { name: 'ops', role: 'admin', sha256: hashToken('glc_ops_secret') },
    ]);
    // Next start: GLACIS_ADMIN_TOKEN unset, `audit` deleted from coordinator.json, `ops` kept.
    await installTokens(store, [{ name: 'ops', role: 'admin', sha256: hashToken('glc_ops_secret') }]);
    expect(await store.findToken(hashToken('glc_from_env_0123'))).toBeUndefined();
    expect(await store.findToken(hashToken('glc_audit_secret'))).toBeUndefined();
    expect(await store.findToken(hashToken('glc_ops_secret'))).toMatchObject({ name: 'ops', source: 'config' });
    expect(await store.findToken(hashToken(made.token))).toMatchObject({ name: 'desk-cli', source: 'cli' });
    const revoked = (await store.listAudit({ limit: 10, cursor: null })).items.filter((e) => e.type === 'token_revoked');
    expect(revoked.map((e) => e.data)).toEqual([
      { name: 'audit', source: 'config', reason: 'removed from the configuration' },
      { name: 'env-admin', source: 'env', reason: 'removed from the configuration' },
    ]);
  });

  test('a changed configured secret replaces the old one at the next start', async () => {
    await installTokens(store, [{ name: 'env-admin', role: 'admin', token: 'glc_old_admin_0123' }]);
    await installTokens(store, [{ name: 'env-admin', role: 'admin', token: 'glc_new_admin_0123' }]);
    expect(await store.findToken(hashToken('glc_old_admin_0123'))).toBeUndefined();
    expect(await store.findToken(hashToken('glc_new_admin_0123'))).toMatchObject({ name: 'env-admin', role: 'admin' });
  });

  test('generateToken is random and hashToken is SHA-256 hex', () => {
    expect(generateToken()).not.toBe(generateToken());
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
