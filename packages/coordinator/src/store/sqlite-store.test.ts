import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENESIS_HASH, verifyAuditChain } from '@glacis/protocol';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
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

describe('lifecycle operations', () => {
  const op = (keyId: string, type: 'refresh' | 'repair' | 'reshare' | 'drill', params = {}) => ({
    operationId: `op_l${++n}`,
    keyId,
    type,
    params,
    createdAt: new Date().toISOString(),
    requestedBy: 'test',
  });
  const link = { operation: 'refresh' as const, sessionId: 'refresh-op_x', confirmations: [] };
  const audit = (type: string) => ({ type, data: { test: true } });

  test('createOperation persists a pending operation and its <type>_requested event; the key must be active', async () => {
    const keyId = await activeKey();
    const created = await store.createOperation(op(keyId, 'repair', { partyId: 'bob' }));
    expect(created).toMatchObject({
      created: true,
      record: { type: 'repair', status: 'pending', params: { partyId: 'bob' }, progress: null, requestedBy: 'test' },
    });
    const { items } = await store.listAudit({ limit: 100, cursor: null });
    expect(items.at(-1)).toMatchObject({ type: 'repair_requested', data: { keyId, partyId: 'bob', requestedBy: 'test' } });
    const pending = newKey();
    await store.createKey(pending);
    await expect(store.createOperation(op(pending.keyId, 'refresh'))).rejects.toMatchObject({ code: 'key_not_active' });
    await expect(store.createOperation(op('nope', 'refresh'))).rejects.toMatchObject({ code: 'not_found' });
  });

  test('one share-changing operation per key at a time (operation_in_progress, nothing written); drills run beside', async () => {
    const keyId = await activeKey();
    await store.createOperation(op(keyId, 'refresh'));
    const before = (await store.listAudit({ limit: 100, cursor: null })).items.length;
    for (const type of ['refresh', 'repair', 'reshare'] as const) {
      await expect(store.createOperation(op(keyId, type))).rejects.toMatchObject({ code: 'operation_in_progress' });
    }
    expect((await store.listAudit({ limit: 100, cursor: null })).items).toHaveLength(before);
    expect((await store.createOperation(op(keyId, 'drill'))).created).toBe(true);
    expect((await store.listPendingOperations()).map((o) => o.type)).toEqual(['refresh', 'drill']);
  });

  test('completeOperation switches the key in the same transaction: material, generation, lineage, the operation, its audit event', async () => {
    const keyId = await activeKey();
    const { record } = (await store.createOperation(op(keyId, 'reshare', { threshold: 2, parties: ['alice', 'carol'] }))) as {
      record: { operationId: string };
    };
    const material = {
      threshold: 2,
      parties: ['alice', 'carol'],
      verifyingShares: { alice: '05', carol: '06' },
      groupCommitment: ['03', '07'],
    };
    await store.completeOperation(
      record.operationId,
      { expectedGeneration: 0, link: { ...link, operation: 'reshare' }, material },
      audit('key_reshared'),
    );
    expect(await store.getKey(keyId)).toMatchObject({
      parties: ['alice', 'carol'],
      verifyingShares: material.verifyingShares,
      groupCommitment: material.groupCommitment,
      generation: 1,
      lineage: [{ operation: 'reshare', sessionId: 'refresh-op_x' }],
      publicKey: 'aa',
    });
    expect(await store.getOperation(record.operationId)).toMatchObject({ status: 'completed', completedAt: expect.any(String) });
    const { items } = await store.listAudit({ limit: 100, cursor: null });
    expect(items.at(-1)?.type).toBe('key_reshared');
    // A repair links without a new generation.
    const repair = (await store.createOperation(op(keyId, 'repair', { partyId: 'carol' }))) as { record: { operationId: string } };
    await store.completeOperation(repair.record.operationId, { expectedGeneration: 1, link: { ...link, operation: 'repair' } });
    expect(await store.getKey(keyId)).toMatchObject({ generation: 1, lineage: [{ operation: 'reshare' }, { operation: 'repair' }] });
  });

  test('a switch fenced on another generation changes nothing (operation_conflict): key, operation and audit as they were', async () => {
    const keyId = await activeKey();
    const { record } = (await store.createOperation(op(keyId, 'refresh'))) as { record: { operationId: string } };
    const before = { key: await store.getKey(keyId), audit: (await store.listAudit({ limit: 100, cursor: null })).items.length };
    const material = {
      threshold: 2,
      parties: ['alice', 'bob'],
      verifyingShares: { alice: '09', bob: '0a' },
      groupCommitment: ['03', '0b'],
    };
    await expect(
      store.completeOperation(record.operationId, { expectedGeneration: 5, link, material }, audit('key_refreshed')),
    ).rejects.toMatchObject({
      code: 'operation_conflict',
    });
    expect(await store.getKey(keyId)).toEqual(before.key);
    expect((await store.getOperation(record.operationId))?.status).toBe('pending');
    expect((await store.listAudit({ limit: 100, cursor: null })).items).toHaveLength(before.audit);
  });

  test('failOperation settles once with its audit event; progress is recorded, also after settling (late abandonments)', async () => {
    const keyId = await activeKey();
    const { record } = (await store.createOperation(op(keyId, 'refresh'))) as { record: { operationId: string } };
    await store.setOperationProgress(record.operationId, { phase: 'running', participants: ['alice', 'bob'] });
    await store.failOperation(record.operationId, { code: 'lifecycle_timeout', message: 'late' }, audit('refresh_failed'));
    await store.failOperation(record.operationId, { code: 'other', message: 'again' }, audit('refresh_failed'));
    await store.setOperationProgress(record.operationId, { phase: 'running', abandonments: [] });
    expect(await store.getOperation(record.operationId)).toMatchObject({
      status: 'failed',
      error: { code: 'lifecycle_timeout' },
      progress: { phase: 'running', abandonments: [] },
    });
    expect((await store.listAudit({ limit: 100, cursor: null })).items.filter((e) => e.type === 'refresh_failed')).toHaveLength(1);
    expect(await store.listPendingOperations()).toEqual([]);
  });

  test('listActiveKeysOf: the active keys whose committee holds the party', async () => {
    const a = await activeKey();
    const b = newKey({ parties: ['bob', 'carol'] });
    await store.createKey(b);
    await store.markKeyActive(b.keyId, { ...material, verifyingShares: { bob: '01', carol: '02' } });
    await store.createKey(newKey());
    expect((await store.listActiveKeysOf('bob')).map((k) => k.keyId)).toEqual([a, b.keyId]);
    expect((await store.listActiveKeysOf('alice')).map((k) => k.keyId)).toEqual([a]);
    expect(await store.listActiveKeysOf('dave')).toEqual([]);
  });

  test('a version-2 database keeps its operations and keys through the migration', async () => {
    await store.close();
    const d = mkdtempSync(join(tmpdir(), 'glacis-v2-'));
    const v2 = new Database(join(d, 'db.sqlite'));
    migrate(v2, () => 'x', 2);
    v2.exec(`INSERT INTO keys (key_id, operation_id, suite, threshold, parties, status, created_at, requested_by)
             VALUES ('key_old', 'op_old', 'ed25519', 2, '["alice","bob"]', 'active', 'x', 't');
             INSERT INTO operations (operation_id, key_id, type, status, created_at) VALUES ('op_old', 'key_old', 'dkg', 'completed', 'x');`);
    v2.close();
    store = openSqliteStore({ path: join(d, 'db.sqlite') });
    expect(await store.getKey('key_old')).toMatchObject({ generation: 0, lineage: [] });
    expect(await store.getOperation('op_old')).toMatchObject({
      type: 'dkg',
      status: 'completed',
      params: {},
      progress: null,
      requestedBy: null,
    });
    await store.close();
    rmSync(d, { recursive: true, force: true });
    store = openSqliteStore({ path: ':memory:' });
  });
});
