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
  intent: { type: 'raw', message: '00' },
  status: 'pending',
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

  test('requests of a version-2 database read back as raw intents; approver tokens can be stored after the upgrade', async () => {
    await store.close();
    const dir = mkdtempSync(join(tmpdir(), 'glacis-v2-'));
    const v2 = new Database(join(dir, 'db.sqlite'));
    migrate(v2, () => 'x', 2);
    v2.exec(`INSERT INTO keys (key_id, operation_id, suite, threshold, parties, status, created_at, requested_by)
             VALUES ('k1', 'op1', 'ed25519', 2, '["a","b"]', 'active', 'x', 't');
             INSERT INTO signatures (signature_id, key_id, message, approvals, status, signature, signers, created_at, deadline, requested_by)
             VALUES ('s1', 'k1', 'c0ffee', '[]', 'completed', 'ff', '["a","b"]', 'x', 'x', 't');`);
    v2.close();
    store = openSqliteStore({ path: join(dir, 'db.sqlite') });
    expect(await store.getSignature('s1')).toMatchObject({
      intent: { type: 'raw', message: 'c0ffee' },
      message: 'c0ffee',
      signature: 'ff',
      signatures: ['ff'],
      finalized: null,
    });
    await store.putToken('alice', 'approver', 'c'.repeat(64));
    expect(await store.findToken('c'.repeat(64))).toMatchObject({ role: 'approver' });
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

  test('a typed intent is stored as given; message is null for it, the raw bytes for a raw intent', async () => {
    const keyId = await activeKey();
    const intent = { type: 'bitcoin-psbt' as const, psbt: 'cHNidP8BAAoCAAAAAAAAAAAAAAAA', inputs: [0, 2] };
    const typed = newSig(keyId, { intent });
    await store.createSignature(typed);
    expect(await store.getSignature(typed.signatureId)).toMatchObject({ intent, message: null });
    const raw = newSig(keyId, { intent: { type: 'raw', message: 'c0ffee' } });
    await store.createSignature(raw);
    expect(await store.getSignature(raw.signatureId)).toMatchObject({ intent: { type: 'raw', message: 'c0ffee' }, message: 'c0ffee' });
    const [requested] = (await store.listAudit({ limit: 100, cursor: null })).items.filter((e) => e.type === 'signature_requested');
    expect(requested?.data).toMatchObject({ intentType: 'bitcoin-psbt', intentSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  test('completion keeps every signature and the finalized PSBT', async () => {
    const keyId = await activeKey();
    const s = newSig(keyId);
    await store.createSignature(s);
    const finalized = { psbt: 'cHNidP8=', transactionHex: '0200', txid: 'aa'.repeat(32) };
    await store.completeSignature(s.signatureId, { signature: 'f1', signatures: ['f1', 'f2'], signers: ['alice'], finalized });
    expect(await store.getSignature(s.signatureId)).toMatchObject({ signature: 'f1', signatures: ['f1', 'f2'], finalized });
    const plain = newSig(keyId);
    await store.createSignature(plain);
    await store.completeSignature(plain.signatureId, { signature: 'f3', signers: ['alice'] });
    expect(await store.getSignature(plain.signatureId)).toMatchObject({ signatures: ['f3'], finalized: null });
  });

  test('lists across keys, all or by status, each list with its own cursors', async () => {
    const a = await activeKey();
    const b = await activeKey();
    const waiting = newSig(a, { status: 'awaiting_approval' });
    await store.createSignature(waiting);
    await store.createSignature(newSig(b));
    const other = newSig(b, { status: 'awaiting_approval' });
    await store.createSignature(other);
    const all = await store.listAllSignatures({ limit: 10, cursor: null });
    expect(all.items).toHaveLength(3);
    const p1 = await store.listAllSignatures({ limit: 1, cursor: null }, 'awaiting_approval');
    const p2 = await store.listAllSignatures({ limit: 1, cursor: p1.nextCursor }, 'awaiting_approval');
    expect([...p1.items, ...p2.items].map((s) => s.signatureId)).toEqual([waiting.signatureId, other.signatureId]);
    await expect(store.listAllSignatures({ limit: 1, cursor: p1.nextCursor })).rejects.toMatchObject({ code: 'invalid_cursor' });
    expect((await store.listUnsettledSignatures()).map((s) => s.status).sort()).toEqual([
      'awaiting_approval',
      'awaiting_approval',
      'pending',
    ]);
  });
});

describe('approvals workflow', () => {
  const approval = (key: string, nonce = key) => ({
    approverKey: key.repeat(32),
    signature: 'cd'.repeat(64),
    nonce: nonce.repeat(16),
    expiresAt: '2030-01-01T00:00:00Z',
    policyVersion: 2,
  });
  async function waiting() {
    const keyId = await activeKey();
    const s = newSig(keyId, { status: 'awaiting_approval' });
    await store.createSignature(s);
    return s;
  }

  test('an approval is appended with its audit event; a release moves the request to pending with its signing deadline', async () => {
    const s = await waiting();
    const first = await store.addApproval(
      s.signatureId,
      approval('a1'),
      { expected: 0, release: null },
      { type: 'approval_added', data: {} },
    );
    expect(first).toMatchObject({ status: 'awaiting_approval', approvals: [approval('a1')] });
    const deadline = '2031-01-01T00:00:00.000Z';
    const second = await store.addApproval(s.signatureId, approval('b2'), { expected: 1, release: { deadline } });
    expect(second).toMatchObject({ status: 'pending', deadline, approvals: [approval('a1'), approval('b2')] });
    const types = (await store.listAudit({ limit: 100, cursor: null })).items.map((e) => e.type);
    expect(types.filter((t) => t === 'approval_added')).toHaveLength(1);
  });

  test('stale when the approvals changed since the caller decided; nothing changes', async () => {
    const s = await waiting();
    await store.addApproval(s.signatureId, approval('a1'), { expected: 0, release: null });
    expect(await store.addApproval(s.signatureId, approval('b2'), { expected: 0, release: { deadline: 'x' } })).toBe('stale');
    expect(await store.getSignature(s.signatureId)).toMatchObject({ status: 'awaiting_approval', approvals: [approval('a1')] });
  });

  test('the same approver, or the same nonce, twice: approval_exists; a request not awaiting approval: 409', async () => {
    const s = await waiting();
    await store.addApproval(s.signatureId, approval('a1'), { expected: 0, release: null });
    await expect(store.addApproval(s.signatureId, approval('a1', 'ff'), { expected: 1, release: null })).rejects.toMatchObject({
      code: 'approval_exists',
    });
    await expect(store.addApproval(s.signatureId, approval('b2', 'a1'), { expected: 1, release: null })).rejects.toMatchObject({
      code: 'approval_exists',
    });
    const running = newSig(await activeKey());
    await store.createSignature(running);
    await expect(store.addApproval(running.signatureId, approval('a1'), { expected: 0, release: null })).rejects.toMatchObject({
      code: 'signature_not_awaiting_approval',
    });
    await expect(store.addApproval('nope', approval('a1'), { expected: 0, release: null })).rejects.toMatchObject({ code: 'not_found' });
  });

  test('settleAwaiting ends only a waiting request, once, with its audit event, and wakes waiters', async () => {
    const s = await waiting();
    const woken = store.waitForSettled('signature', s.signatureId, 5_000);
    const error = { code: 'rejected', message: 'no' };
    expect(await store.settleAwaiting(s.signatureId, 'rejected', error, { type: 'signature_rejected', data: {} })).toBe(true);
    expect(await woken).toBe(true);
    expect(await store.settleAwaiting(s.signatureId, 'failed', { code: 'approval_timeout', message: 'late' })).toBe(false);
    expect(await store.getSignature(s.signatureId)).toMatchObject({ status: 'rejected', error });
    const running = newSig(await activeKey());
    await store.createSignature(running);
    expect(await store.settleAwaiting(running.signatureId, 'rejected', error)).toBe(false);
    expect((await store.getSignature(running.signatureId))?.status).toBe('pending');
    const types = (await store.listAudit({ limit: 100, cursor: null })).items.map((e) => e.type);
    expect(types.filter((t) => t === 'signature_rejected')).toHaveLength(1);
  });

  test('a request awaiting approval counts against the in-flight caps', async () => {
    const keyId = await activeKey();
    await store.createSignature(newSig(keyId, { status: 'awaiting_approval' }));
    await expect(store.createSignature(newSig(keyId), undefined, { maxInFlight: 10, maxInFlightPerKey: 1 })).rejects.toMatchObject({
      code: 'capacity_exceeded',
    });
  });
});

describe('distributed policies', () => {
  const stored = (version: number, digest: string) => ({
    signed: { policy: { version, rules: [] }, signatures: [{ adminKey: 'aa'.repeat(32), signature: 'bb'.repeat(64) }] },
    version,
    digest,
    distributedAt: '2030-01-01T00:00:00.000Z',
    distributedBy: 'admin',
  });

  test('the latest is kept; versions only move forward; the same document again changes nothing', async () => {
    expect(await store.getPolicy()).toBeUndefined();
    expect(await store.putPolicy(stored(2, 'd2'))).toBe(true);
    expect(await store.putPolicy(stored(2, 'd2'))).toBe(false);
    await expect(store.putPolicy(stored(2, 'other'))).rejects.toMatchObject({ code: 'policy_version_conflict' });
    await expect(store.putPolicy(stored(1, 'd1'))).rejects.toMatchObject({ code: 'policy_version_conflict' });
    expect(await store.putPolicy(stored(3, 'd3'))).toBe(true);
    expect(await store.getPolicy()).toEqual(stored(3, 'd3'));
    const events = (await store.listAudit({ limit: 100, cursor: null })).items.filter((e) => e.type === 'policy_distributed');
    expect(events.map((e) => e.data.version)).toEqual([2, 3]);
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
