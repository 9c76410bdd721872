import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENESIS_HASH, verifyAuditChain } from '@glacis/protocol';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { settledFlags } from '../../../../test/support/settled-flags.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import { openSqliteStore } from './sqlite-store.js';
import type { NewKey, NewSignature, Store } from './types.js';

let dir: string;
let path: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'glacis-store-'));
  path = join(dir, 'sub', 'coordinator.sqlite');
  store = openSqliteStore({ path });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const newKey = (over: Partial<NewKey> = {}): NewKey => ({
  keyId: `key_${++n}`,
  operationId: `op_${n}`,
  label: null,
  suite: 'ed25519',
  threshold: 2,
  parties: ['alice', 'bob'],
  createdAt: new Date().toISOString(),
  requestedBy: 'test',
  ...over,
});
const newSig = (keyId: string, over: Partial<NewSignature> = {}): NewSignature => ({
  signatureId: `sig_${++n}`,
  keyId,
  message: '00',
  context: null,
  approvals: [],
  createdAt: new Date().toISOString(),
  deadline: new Date(Date.now() + 60_000).toISOString(),
  requestedBy: 'test',
  ...over,
});
const material = { publicKey: 'aa', verifyingShares: { alice: '01', bob: '02' }, groupCommitment: ['03', '04'], certificate: [] };
async function activeKey(): Promise<string> {
  const k = newKey();
  await store.createKey(k);
  await store.markKeyActive(k.keyId, material);
  return k.keyId;
}

describe('opening', () => {
  test('creates the directory, runs migrations once, and uses a WAL journal', async () => {
    await store.close();
    store = openSqliteStore({ path });
    const db = new Database(path, { readonly: true });
    try {
      const versions = Array.from({ length: SCHEMA_VERSION }, (_, i) => ({ version: i + 1 }));
      expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual(versions);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
    expect(await store.ping()).toBe(true);
  });

  test('tokens of a version-1 database keep working; env-admin is known to come from the environment', async () => {
    await store.close();
    const dir = mkdtempSync(join(tmpdir(), 'glacis-v1-'));
    const v1 = new Database(join(dir, 'db.sqlite'));
    migrate(v1, () => 'x', 1);
    v1.exec(`INSERT INTO tokens VALUES ('env-admin', '${'a'.repeat(64)}', 'admin', 'x'), ('desk', '${'b'.repeat(64)}', 'requester', 'x');`);
    v1.close();
    store = openSqliteStore({ path: join(dir, 'db.sqlite') });
    expect((await store.listTokens()).map((t) => [t.name, t.source])).toEqual([
      ['desk', 'cli'],
      ['env-admin', 'env'],
    ]);
    expect(await store.findToken('b'.repeat(64))).toMatchObject({ name: 'desk', role: 'requester' });
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    store = openSqliteStore({ path: ':memory:' });
  });

  test('refuses a database written by a newer coordinator', async () => {
    await store.close();
    const db = new Database(path);
    db.prepare("INSERT INTO schema_migrations (version, description, applied_at) VALUES (999, 'future', 'x')").run();
    db.close();
    expect(() => openSqliteStore({ path })).toThrow(/newer than this coordinator/);
    store = openSqliteStore({ path: ':memory:' });
  });

  test('a closed store answers ping false and refuses work with store_unavailable', async () => {
    await store.close();
    expect(await store.ping()).toBe(false);
    await expect(store.getKey('x')).rejects.toMatchObject({ code: 'store_unavailable' });
  });
});

describe('keys', () => {
  test('pending → active once: a second settle changes nothing', async () => {
    const k = newKey();
    const created = await store.createKey(k);
    expect(created).toMatchObject({ created: true, record: { keyId: k.keyId, status: 'pending', operationId: k.operationId } });
    expect((await store.listPendingKeys()).map((x) => x.keyId)).toEqual([k.keyId]);
    await store.markKeyActive(k.keyId, material);
    await store.markKeyFailed(k.keyId, { code: 'late', message: 'too late' });
    const key = await store.getKey(k.keyId);
    expect(key).toMatchObject({
      status: 'active',
      publicKey: 'aa',
      verifyingShares: material.verifyingShares,
      groupCommitment: ['03', '04'],
      error: null,
    });
    expect(key?.certificate).toEqual([]);
    expect(await store.listPendingKeys()).toEqual([]);
    expect(await store.getOperation(k.operationId)).toMatchObject({ type: 'dkg', status: 'completed' });
  });

  test('settling an unknown key throws not_found', async () => {
    await expect(store.markKeyActive('nope', material)).rejects.toMatchObject({ code: 'not_found' });
    await expect(store.markKeyFailed('nope', { code: 'x', message: 'y' })).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('signatures', () => {
  test('only for an active key', async () => {
    const k = newKey();
    await store.createKey(k);
    await expect(store.createSignature(newSig(k.keyId))).rejects.toMatchObject({ code: 'key_not_active' });
    await expect(store.createSignature(newSig('nope'))).rejects.toMatchObject({ code: 'not_found' });
  });

  test('pending → signing → completed; first settle wins', async () => {
    const keyId = await activeKey();
    const s = newSig(keyId, {
      context: { ticket: 'T' },
      approvals: [{ approverKey: 'ab', signature: 'cd', nonce: 'ef', expiresAt: '2030-01-01T00:00:00Z', policyVersion: 1 }],
    });
    await store.createSignature(s);
    await store.markSigning(s.signatureId);
    await store.markSigning(s.signatureId);
    expect((await store.listUnsettledSignatures()).map((x) => [x.signatureId, x.status])).toEqual([[s.signatureId, 'signing']]);
    await store.completeSignature(s.signatureId, { signature: 'ff', signers: ['alice', 'bob'] });
    await store.failSignature(s.signatureId, { code: 'insufficient_parties', message: 'late timer' });
    await store.rejectSignature(s.signatureId, { code: 'policy', message: 'late refusal' });
    await store.markSigning(s.signatureId);
    const sig = await store.getSignature(s.signatureId);
    expect(sig).toMatchObject({ status: 'completed', signature: 'ff', signers: ['alice', 'bob'], error: null, context: { ticket: 'T' } });
    expect(sig?.completedAt).toEqual(expect.any(String));
    expect(await store.listUnsettledSignatures()).toEqual([]);
  });

  test('a settle and its audit event commit together; a second settle appends no event', async () => {
    const keyId = await activeKey();
    const s = newSig(keyId);
    await store.createSignature(s);
    const audit = (type: string) => ({ type, data: { signatureId: s.signatureId } });
    await store.completeSignature(s.signatureId, { signature: 'ff', signers: ['alice', 'bob'] }, audit('signature_completed'));
    await store.failSignature(s.signatureId, { code: 'insufficient_parties', message: 'late timer' }, audit('signature_failed'));
    const { items } = await store.listAudit({ limit: 100, cursor: null });
    expect(items.map((e) => e.type).filter((t) => t.startsWith('signature_'))).toEqual(['signature_requested', 'signature_completed']);
  });

  test('failed and rejected carry their error', async () => {
    const keyId = await activeKey();
    const a = newSig(keyId);
    const b = newSig(keyId);
    await store.createSignature(a);
    await store.createSignature(b);
    await store.failSignature(a.signatureId, { code: 'insufficient_parties', message: '1 of 2' });
    await store.rejectSignature(b.signatureId, { code: 'policy_refused', message: 'no' });
    expect(await store.getSignature(a.signatureId)).toMatchObject({ status: 'failed', error: { code: 'insufficient_parties' } });
    expect(await store.getSignature(b.signatureId)).toMatchObject({ status: 'rejected', error: { code: 'policy_refused' } });
  });

  test('exclusions accumulate, each (party, reason) once', async () => {
    const keyId = await activeKey();
    const s = newSig(keyId);
    await store.createSignature(s);
    await store.addExcluded(s.signatureId, { partyId: 'bob', reason: 'timeout' });
    await store.addExcluded(s.signatureId, { partyId: 'bob', reason: 'timeout' });
    await store.addExcluded(s.signatureId, { partyId: 'carol', reason: 'invalid_signature_share' });
    expect((await store.getSignature(s.signatureId))?.excluded).toEqual([
      { partyId: 'bob', reason: 'timeout' },
      { partyId: 'carol', reason: 'invalid_signature_share' },
    ]);
    await expect(store.addExcluded('nope', { partyId: 'x', reason: 'y' })).rejects.toMatchObject({ code: 'not_found' });
  });

  test('lists page by key', async () => {
    const a = await activeKey();
    const b = await activeKey();
    const ids = [];
    for (let i = 0; i < 5; i++) {
      const s = newSig(a);
      ids.push(s.signatureId);
      await store.createSignature(s);
      await store.createSignature(newSig(b));
    }
    const p1 = await store.listSignatures(a, { limit: 3, cursor: null });
    const p2 = await store.listSignatures(a, { limit: 3, cursor: p1.nextCursor });
    expect([...p1.items, ...p2.items].map((s) => s.signatureId)).toEqual(ids);
    expect(p2.nextCursor).toBeNull();
  });
});

describe('idempotency', () => {
  test('a second create under the same scope returns the first record and inserts nothing', async () => {
    const scope = { key: 'k', route: 'POST /v1/keys', tokenName: 'admin' };
    const claim = { scope, requestHash: 'h1', response: { statusCode: 202, body: { keyId: 'first' } } };
    const first = await store.createKey(newKey(), claim);
    const second = await store.createKey(newKey(), { ...claim, requestHash: 'h2' });
    expect(first.created).toBe(true);
    expect(second).toMatchObject({
      created: false,
      previous: { requestHash: 'h1', response: { statusCode: 202, body: { keyId: 'first' } } },
    });
    expect((await store.listKeys({ limit: 10, cursor: null })).items).toHaveLength(1);
    expect(await store.getIdempotency(scope)).toMatchObject({ requestHash: 'h1' });
    expect(await store.getIdempotency({ ...scope, tokenName: 'other' })).toBeUndefined();
  });
});

describe('tokens', () => {
  test('stored by hash, replaced by name, deleted', async () => {
    await store.putToken('ops', 'admin', 'a'.repeat(64));
    expect(await store.findToken('a'.repeat(64))).toMatchObject({ name: 'ops', role: 'admin' });
    await store.putToken('ops', 'auditor', 'b'.repeat(64));
    expect(await store.findToken('a'.repeat(64))).toBeUndefined();
    expect((await store.listTokens()).map((t) => [t.name, t.role])).toEqual([['ops', 'auditor']]);
    expect(await store.deleteToken('ops')).toBe(true);
    expect(await store.deleteToken('ops')).toBe(false);
  });
});

describe('audit log', () => {
  test('chains from 64 zeros and verifies', async () => {
    for (let i = 0; i < 5; i++) await store.appendAudit('party_connected', { partyId: `p${i}` });
    const { items } = await store.listAudit({ limit: 100, cursor: null });
    expect(items[0]?.prevHash).toBe(GENESIS_HASH);
    expect(verifyAuditChain(items)).toEqual({ ok: true, events: 5, head: items[4]?.hash, headSeq: 5 });
  });

  test('never refuses an event for its payload', async () => {
    await store.appendAudit('odd', { ratio: 0.5, when: new Date(0), big: 10n, nothing: undefined, nested: { f: () => 1 } });
    const [e] = (await store.listAudit({ limit: 1, cursor: null })).items;
    expect(e?.data).toEqual({ ratio: '0.5', when: '1970-01-01T00:00:00.000Z', big: '10', nested: {} });
    expect(verifyAuditChain((await store.listAudit({ limit: 10, cursor: null })).items).ok).toBe(true);
  });

  test('the database refuses updates and deletes of audit rows', async () => {
    await store.appendAudit('a', {});
    const db = new Database(path);
    try {
      expect(() => db.prepare("UPDATE audit SET type = 'b'").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    } finally {
      db.close();
    }
  });

  test('editing one row behind the triggers is caught at that row', async () => {
    for (let i = 1; i <= 5; i++) await store.appendAudit('signature_requested', { n: i });
    const db = new Database(path);
    try {
      db.exec('DROP TRIGGER audit_no_update');
      db.prepare('UPDATE audit SET data = ? WHERE seq = 3').run(JSON.stringify({ n: 33 }));
    } finally {
      db.close();
    }
    const { items } = await store.listAudit({ limit: 100, cursor: null });
    expect(verifyAuditChain(items)).toMatchObject({ ok: false, brokenAt: 3, reason: expect.stringContaining('edited') });
  });

  test('deleting a row behind the triggers is caught at the next one', async () => {
    for (let i = 1; i <= 4; i++) await store.appendAudit('e', { n: i });
    const db = new Database(path);
    try {
      db.exec('DROP TRIGGER audit_no_delete');
      db.prepare('DELETE FROM audit WHERE seq = 2').run();
    } finally {
      db.close();
    }
    const { items } = await store.listAudit({ limit: 100, cursor: null });
    expect(verifyAuditChain(items)).toMatchObject({ ok: false, brokenAt: 3 });
  });
});

describe('waitForSettled', () => {
  test('true when the row settles, false on timeout, at once for settled or unknown rows', async () => {
    const k = newKey();
    await store.createKey(k);
    expect(await store.waitForSettled('key', k.keyId, 20)).toBe(false);
    const waiting = store.waitForSettled('key', k.keyId, 5_000);
    await store.markKeyActive(k.keyId, material);
    expect(await waiting).toBe(true);
    expect(await store.waitForSettled('key', k.keyId, 5_000)).toBe(true);
    expect(await store.waitForSettled('operation', k.operationId, 5_000)).toBe(true);
    expect(await store.waitForSettled('signature', 'nope', 5_000)).toBe(false);
  });

  test('close and abort release waiters with false', async () => {
    const k = newKey();
    await store.createKey(k);
    const ctrl = new AbortController();
    const aborted = store.waitForSettled('key', k.keyId, 30_000, ctrl.signal);
    ctrl.abort();
    expect(await aborted).toBe(false);
    const closing = store.waitForSettled('key', k.keyId, 30_000);
    await store.close();
    expect(await closing).toBe(false);
  });
});

describe('group commit: a write is acknowledged only once the WAL is on disk', () => {
  /** A WAL fsync the test holds, then releases (or fails) by hand. */
  function heldWalSync() {
    const calls: { release: () => void; fail: (e: Error) => void }[] = [];
    const walSync = () => new Promise<void>((resolve, reject) => void calls.push({ release: resolve, fail: reject }));
    return { walSync, calls };
  }
  const tick = () => new Promise((r) => setTimeout(r, 10));

  test('concurrent requests share one fsync; none is acknowledged, announced or readable before the fsync covering it', async () => {
    await store.close();
    store = openSqliteStore({ path });
    const keyId = await activeKey();
    const sig = newSig(keyId);
    await store.createSignature(sig);
    await store.close();
    const { walSync, calls } = heldWalSync();
    store = openSqliteStore({ path, walSync });

    const settled = store.waitForSettled('signature', sig.signatureId, 5_000);
    const completion = store.completeSignature(sig.signatureId, { signature: 'ab', signers: ['alice', 'bob'] });
    const created = [store.createSignature(newSig(keyId)), store.createSignature(newSig(keyId))];
    const read = store.getSignature(sig.signatureId);
    const done = settledFlags([completion, ...created, read, settled]);
    await tick();
    expect(calls, 'one fsync under way; the others wait for the next').toHaveLength(1);
    expect(done, 'nothing acknowledged, announced or read while it is not durable').toEqual([false, false, false, false, false]);

    calls[0]?.release();
    await tick();
    expect(done.slice(0, 1), 'the completion was covered by the first fsync').toEqual([true]);
    expect(done.slice(1, 4), 'the two requests and the read share the second').toEqual([false, false, false]);
    expect(calls).toHaveLength(2);
    calls[1]?.release();
    await Promise.all([...created, read]);
    expect((await read)?.status).toBe('completed');
    expect(await settled).toBe(true);
    expect(calls, 'four transactions and a read, two fsyncs').toHaveLength(2);
  });

  test('a failed fsync: that write and every later one answer store_unavailable', async () => {
    await store.close();
    const { walSync, calls } = heldWalSync();
    store = openSqliteStore({ path, walSync });
    const first = store.createKey(newKey());
    await tick();
    calls[0]?.fail(new Error('EIO'));
    await expect(first).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(store.createKey(newKey())).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(store.listKeys({ limit: 10 })).rejects.toMatchObject({ code: 'store_unavailable' });
  });
});
