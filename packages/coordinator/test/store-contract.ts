/**
 * The Store contract: one suite that every store runs (sqlite-store.test.ts, pg-store.test.ts),
 * parameterised by a harness that opens a fresh store of its kind. What is specific to one
 * database (SQLite's file and journal, PostgreSQL's concurrent sessions) stays in its own file.
 */
import { GENESIS_HASH, verifyAuditChain } from '@glacis/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { LeaseFence, OrchestratorStore } from '../src/orchestrator/store-port.js';
import type { LifecycleType, NewKey, NewOperation, NewSignature, Store } from '../src/store/types.js';

const APPROVAL = { approverKey: 'ab', signature: 'cd', nonce: 'ef', expiresAt: '2030-01-01T00:00:00Z', policyVersion: 1 };

/** How the contract reaches one kind of store. */
export interface StoreHarness {
  /** A store on a fresh, empty database. */
  open(): Promise<Store>;
  /** Another store on the database `open` (or `create`) made: a second coordinator instance, or a restart. */
  openAgain(): Promise<Store>;
  /**
   * Instead of `open`: makes a fresh database at schema `version`, as an older coordinator left it,
   * without opening a store on it (`openAgain` then migrates it).
   */
  create(version: number): Promise<void>;
  /** Lets `ms` pass on the clock leases are measured with. */
  elapse(ms: number): Promise<void>;
  /** Runs a statement directly on the database, behind the store (an operator with database access). */
  exec(sql: string): Promise<void>;
  /** The statement that drops one of the audit table's triggers. */
  dropTrigger(name: string): string;
  /** Removes the database. */
  dispose(): Promise<void>;
}

let n = 0;
export const newKey = (over: Partial<NewKey> = {}): NewKey => ({
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
export const newSig = (keyId: string, over: Partial<NewSignature> = {}): NewSignature => ({
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
export const material = {
  publicKey: 'aa',
  verifyingShares: { alice: '01', bob: '02' },
  groupCommitment: ['03', '04'],
  certificate: [],
};

export const newOperation = (keyId: string, type: LifecycleType, params: NewOperation['params'] = {}): NewOperation => ({
  operationId: `op_l${++n}`,
  keyId,
  type,
  params,
  createdAt: new Date().toISOString(),
  requestedBy: 'test',
});

/** An active key in `store`. */
export async function activeKey(store: Store): Promise<string> {
  const k = newKey();
  await store.createKey(k);
  await store.markKeyActive(k.keyId, material);
  return k.keyId;
}

const TTL = 300;

/** Registers the contract suite for the store `harness` opens. */
export function storeContract(harness: () => StoreHarness): void {
  let h: StoreHarness;
  let store: Store;
  const others: Store[] = [];
  const again = async () => {
    const s = await h.openAgain();
    others.push(s);
    return s;
  };
  beforeEach(async () => {
    h = harness();
    store = await h.open();
  });
  afterEach(async () => {
    for (const s of others.splice(0)) await s.close();
    await store.close();
    await h.dispose();
  });
  const auditTypes = async (s: Store = store) => (await s.listAudit({ limit: 500, cursor: null })).items.map((e) => e.type);

  describe('opening', () => {
    test('a second open of the same database migrates nothing and sees the same rows', async () => {
      const keyId = await activeKey(store);
      expect((await (await again()).getKey(keyId))?.status).toBe('active');
    });

    test('refuses a database written by a newer coordinator', async () => {
      await h.exec("INSERT INTO schema_migrations (version, description, applied_at) VALUES (999, 'future', 'x')");
      await expect(h.openAgain()).rejects.toThrow(/newer than this coordinator/);
    });

    test('a closed store answers ping false and refuses work with store_unavailable', async () => {
      expect(await store.ping()).toBe(true);
      await store.close();
      expect(await store.ping()).toBe(false);
      await expect(store.getKey('x')).rejects.toMatchObject({ code: 'store_unavailable' });
      store = await again();
    });
  });

  describe('older schemas', () => {
    /** A database `build` filled at schema `version`, then opened (migrated) by this code. */
    async function upgraded(version: number, build: string): Promise<Store> {
      const old = harness();
      await old.create(version);
      try {
        await old.exec(build);
        return await old.openAgain();
      } finally {
        disposals.push(old);
      }
    }
    const disposals: StoreHarness[] = [];
    afterEach(async () => {
      for (const d of disposals.splice(0)) await d.dispose();
    });

    test('a database of schema 2 with unsettled work gets claimable leases for it when migrated', async () => {
      const migrated = await upgraded(
        2,
        `INSERT INTO keys (key_id, operation_id, suite, threshold, parties, status, created_at, requested_by)
           VALUES ('k1', 'op1', 'ed25519', 2, '["a","b"]', 'active', 'x', 't'),
                  ('k2', 'op2', 'ed25519', 2, '["a","b"]', 'pending', 'x', 't');
         INSERT INTO signatures (signature_id, key_id, message, approvals, status, created_at, deadline, requested_by)
           VALUES ('s1', 'k1', '00', '[]', 'signing', 'x', 'x', 't'), ('s2', 'k1', '00', '[]', 'completed', 'x', 'x', 't');`,
      );
      try {
        const claimed = await migrated.claimWork({ owner: 'a', ttlMs: 1_000, limit: 10 });
        expect(claimed.map((l) => [l.kind, l.id, l.epoch]).sort()).toEqual([
          ['key', 'k2', 2],
          ['signature', 's1', 2],
        ]);
      } finally {
        await migrated.close();
      }
    });

    test('requests of a schema-3 database read back as raw intents; approver tokens can be stored after the upgrade', async () => {
      const migrated = await upgraded(
        3,
        `INSERT INTO keys (key_id, operation_id, suite, threshold, parties, status, created_at, requested_by)
           VALUES ('k1', 'op1', 'ed25519', 2, '["a","b"]', 'active', 'x', 't');
         INSERT INTO signatures (signature_id, key_id, message, approvals, status, signature, signers, created_at, deadline, requested_by)
           VALUES ('s1', 'k1', 'c0ffee', '[]', 'completed', 'ff', '["a","b"]', 'x', 'x', 't');
         INSERT INTO tokens (name, token_sha256, role, created_at, source) VALUES ('desk', '${'b'.repeat(64)}', 'requester', 'x', 'cli');`,
      );
      try {
        expect(await migrated.getSignature('s1')).toMatchObject({
          intent: { type: 'raw', message: 'c0ffee' },
          message: 'c0ffee',
          signature: 'ff',
          signatures: ['ff'],
          finalized: null,
        });
        expect(await migrated.findToken('b'.repeat(64))).toMatchObject({ name: 'desk', role: 'requester' });
        await migrated.putToken('alice', 'approver', 'c'.repeat(64));
        expect(await migrated.findToken('c'.repeat(64))).toMatchObject({ role: 'approver' });
        const s = newSig('k1', { status: 'awaiting_approval' });
        await migrated.createSignature(s);
        const listed = async (status?: 'awaiting_approval') =>
          (await migrated.listAllSignatures({ limit: 10, cursor: null }, status)).items.map((x) => x.signatureId);
        expect(await listed('awaiting_approval')).toEqual([s.signatureId]);
        // The rebuilt or altered table keeps numbering after the rows it kept.
        expect(await listed()).toEqual(['s1', s.signatureId]);
      } finally {
        await migrated.close();
      }
    });

    test('keys, operations and work leases of a schema-4 database go through the offline and lifecycle migrations; the tables take drills, their leases and offline commitments', async () => {
      const migrated = await upgraded(
        4,
        `INSERT INTO keys (key_id, operation_id, suite, threshold, parties, status, created_at, requested_by)
           VALUES ('k1', 'op1', 'ed25519', 2, '["a","b"]', 'active', 'x', 't'),
                  ('k2', 'op2', 'ed25519', 2, '["a","b"]', 'pending', 'y', 't');
         INSERT INTO operations (operation_id, key_id, type, status, created_at)
           VALUES ('op1', 'k1', 'dkg', 'completed', 'x'), ('op2', 'k2', 'dkg', 'pending', 'y');
         INSERT INTO work_leases (kind, id, owner, epoch, expires_at) VALUES ('key', 'k2', 'c-1', 3, 0);`,
      );
      try {
        expect(await migrated.getKey('k1')).toMatchObject({ status: 'active', generation: 0, lineage: [] });
        expect(await migrated.getOperation('op1')).toMatchObject({
          type: 'dkg',
          status: 'completed',
          params: {},
          progress: null,
          requestedBy: null,
        });
        // The lease keeps its epoch: its next claim is a takeover, as before the migration.
        expect(await migrated.claimWork({ owner: 'a', ttlMs: 1_000, limit: 10 })).toMatchObject([{ kind: 'key', id: 'k2', epoch: 4 }]);
        const drill = await migrated.createOperation(newOperation('k1', 'drill'));
        expect(drill).toMatchObject({ created: true, record: { type: 'drill', status: 'pending' } });
        const leases = await migrated.claimWork({ owner: 'a', ttlMs: 1_000, limit: 10 });
        expect(leases.map((l) => [l.kind, l.epoch])).toEqual([['operation', 1]]);
        // Migration 5 ran on the way: the offline tables exist and work.
        expect(await migrated.acceptInbox('p3', 1, [{ keyId: 'k1', hiding: 'a1', binding: 'b1' }])).toBe(true);
        expect(await migrated.drawOfflineCommitments('p3', 'k1', 1, 's1')).toEqual([{ hiding: 'a1', binding: 'b1' }]);
      } finally {
        await migrated.close();
      }
    });

    test("a schema-5 database's offline commitments, bundle sequences and leases survive the lifecycle migration", async () => {
      const migrated = await upgraded(
        5,
        `INSERT INTO keys (key_id, operation_id, suite, threshold, parties, status, created_at, requested_by)
           VALUES ('k1', 'op1', 'ed25519', 2, '["a","p3"]', 'active', 'x', 't');
         INSERT INTO operations (operation_id, key_id, type, status, created_at) VALUES ('op1', 'k1', 'dkg', 'completed', 'x');
         INSERT INTO signatures (signature_id, key_id, message, approvals, status, created_at, deadline, requested_by)
           VALUES ('s1', 'k1', '00', '[]', 'signing', 'x', 'x', 't');
         INSERT INTO work_leases (kind, id, owner, epoch, expires_at) VALUES ('signature', 's1', 'c-1', 2, 0);
         INSERT INTO offline_commitments (party_id, key_id, hiding, binding, received_at, used_by, used_at)
           VALUES ('p3', 'k1', 'a1', 'b1', 'x', 's0', 'x'), ('p3', 'k1', 'a2', 'b2', 'x', NULL, NULL);
         INSERT INTO offline_bundles (party_id, inbox_sequence, outbox_sequence) VALUES ('p3', 7, 40);`,
      );
      try {
        expect(await migrated.getKey('k1')).toMatchObject({ status: 'active', generation: 0, lineage: [] });
        expect(await migrated.getOperation('op1')).toMatchObject({ type: 'dkg', params: {}, progress: null, requestedBy: null });
        expect(await migrated.claimWork({ owner: 'a', ttlMs: 1_000, limit: 10 })).toMatchObject([
          { kind: 'signature', id: 's1', epoch: 3 },
        ]);
        // The used commitment stays used; the unused one is drawn once.
        expect(await migrated.countOfflineCommitments('p3', 'k1')).toBe(1);
        expect(await migrated.drawOfflineCommitments('p3', 'k1', 1, 's1')).toEqual([{ hiding: 'a2', binding: 'b2' }]);
        expect(await migrated.lastInboxSequence('p3')).toBe(7);
        expect(await migrated.acceptInbox('p3', 7, [])).toBe(false);
        expect(await migrated.nextOutboxSequence('p3', 1)).toBe(41);
        expect(await migrated.createOperation(newOperation('k1', 'refresh'))).toMatchObject({ created: true, record: { type: 'refresh' } });
      } finally {
        await migrated.close();
      }
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

    test('keys list oldest first, a page at a time', async () => {
      const ids = [];
      for (let i = 0; i < 5; i++) {
        const k = newKey();
        ids.push(k.keyId);
        await store.createKey(k);
      }
      const p1 = await store.listKeys({ limit: 2, cursor: null });
      const p2 = await store.listKeys({ limit: 2, cursor: p1.nextCursor });
      const p3 = await store.listKeys({ limit: 2, cursor: p2.nextCursor });
      expect([...p1.items, ...p2.items, ...p3.items].map((k) => k.keyId)).toEqual(ids);
      expect(p3.nextCursor).toBeNull();
      await expect(store.listKeys({ limit: 2, cursor: 'bogus!' })).rejects.toMatchObject({ code: 'invalid_cursor' });
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
      const keyId = await activeKey(store);
      const s = newSig(keyId, { context: { ticket: 'T' }, approvals: [APPROVAL] });
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
      expect(sig?.approvals).toEqual([APPROVAL]);
      expect(sig?.completedAt).toEqual(expect.any(String));
      expect(await store.listUnsettledSignatures()).toEqual([]);
    });

    test('a settle and its audit event commit together; a second settle appends no event', async () => {
      const keyId = await activeKey(store);
      const s = newSig(keyId);
      await store.createSignature(s);
      const audit = (type: string) => ({ type, data: { signatureId: s.signatureId } });
      await store.completeSignature(s.signatureId, { signature: 'ff', signers: ['alice', 'bob'] }, audit('signature_completed'));
      await store.failSignature(s.signatureId, { code: 'insufficient_parties', message: 'late timer' }, audit('signature_failed'));
      expect((await auditTypes()).filter((t) => t.startsWith('signature_'))).toEqual(['signature_requested', 'signature_completed']);
    });

    test('failed and rejected carry their error', async () => {
      const keyId = await activeKey(store);
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
      const keyId = await activeKey(store);
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
      const a = await activeKey(store);
      const b = await activeKey(store);
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
      const keyId = await activeKey(store);
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
      const keyId = await activeKey(store);
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
      const a = await activeKey(store);
      const b = await activeKey(store);
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
      expect(p2.nextCursor).toBeNull();
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
      const keyId = await activeKey(store);
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
      expect((await auditTypes()).filter((t) => t === 'approval_added')).toHaveLength(1);
    });

    test('stale when the approvals changed since the caller decided; nothing changes', async () => {
      const s = await waiting();
      await store.addApproval(s.signatureId, approval('a1'), { expected: 0, release: null });
      const before = await auditTypes();
      const audit = { type: 'approval_added', data: {} };
      expect(await store.addApproval(s.signatureId, approval('b2'), { expected: 0, release: { deadline: 'x' } }, audit)).toBe('stale');
      expect(await store.getSignature(s.signatureId)).toMatchObject({ status: 'awaiting_approval', approvals: [approval('a1')] });
      expect(await auditTypes()).toEqual(before);
    });

    test('an approval under an idempotency key that already has an answer returns that record and changes nothing', async () => {
      const s = await waiting();
      const scope = { key: 'ik', route: `POST /v1/signatures/${s.signatureId}/approvals`, tokenName: 'alice' };
      const idempotency = { scope, requestHash: 'h', response: { statusCode: 200, body: { signatureId: s.signatureId } } };
      expect(await store.addApproval(s.signatureId, approval('a1'), { expected: 0, release: null, idempotency })).toMatchObject({
        approvals: [approval('a1')],
      });
      expect(await store.addApproval(s.signatureId, approval('b2'), { expected: 1, release: null, idempotency })).toMatchObject({
        requestHash: 'h',
        response: { statusCode: 200 },
      });
      expect((await store.getSignature(s.signatureId))?.approvals).toEqual([approval('a1')]);
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
      const running = newSig(await activeKey(store));
      await store.createSignature(running);
      await expect(store.addApproval(running.signatureId, approval('a1'), { expected: 0, release: null })).rejects.toMatchObject({
        code: 'signature_not_awaiting_approval',
      });
      await expect(store.addApproval('nope', approval('a1'), { expected: 0, release: null })).rejects.toMatchObject({ code: 'not_found' });
    });

    test('settleAwaiting ends only a waiting request, once, with its audit event and idempotency record, and wakes waiters', async () => {
      const s = await waiting();
      const woken = store.waitForSettled('signature', s.signatureId, 5_000);
      const error = { code: 'rejected', message: 'no' };
      const scope = { key: 'rk', route: `POST /v1/signatures/${s.signatureId}/rejections`, tokenName: 'alice' };
      const claim = { scope, requestHash: 'h', response: { statusCode: 200, body: { signatureId: s.signatureId } } };
      expect(await store.settleAwaiting(s.signatureId, 'rejected', error, { type: 'signature_rejected', data: {} }, claim)).toBe(true);
      expect(await woken).toBe(true);
      expect(await store.getIdempotency(scope)).toMatchObject({ requestHash: 'h' });
      expect(await store.settleAwaiting(s.signatureId, 'failed', { code: 'approval_timeout', message: 'late' })).toBe(false);
      expect(await store.getSignature(s.signatureId)).toMatchObject({ status: 'rejected', error });
      const running = newSig(await activeKey(store));
      await store.createSignature(running);
      expect(await store.settleAwaiting(running.signatureId, 'rejected', error)).toBe(false);
      expect((await store.getSignature(running.signatureId))?.status).toBe('pending');
      expect((await auditTypes()).filter((t) => t === 'signature_rejected')).toHaveLength(1);
      await expect(store.settleAwaiting('nope', 'rejected', error)).rejects.toMatchObject({ code: 'not_found' });
    });

    test('a request awaiting approval counts against the in-flight caps', async () => {
      const keyId = await activeKey(store);
      await store.createSignature(newSig(keyId, { status: 'awaiting_approval' }));
      await expect(store.createSignature(newSig(keyId), undefined, { maxInFlight: 10, maxInFlightPerKey: 1 })).rejects.toMatchObject({
        code: 'capacity_exceeded',
      });
    });

    test('approvals of one request from two instances at once: one is added, the other is stale and decides again', async () => {
      const s = await waiting();
      const other = await again();
      const results = await Promise.all([
        store.addApproval(s.signatureId, approval('a1'), { expected: 0, release: null }),
        other.addApproval(s.signatureId, approval('b2'), { expected: 0, release: null }),
      ]);
      expect(results.filter((r) => r === 'stale')).toHaveLength(1);
      expect((await store.getSignature(s.signatureId))?.approvals).toHaveLength(1);
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

    test('versions up to 2^53 - 1 are kept exactly; another instance reads the same latest', async () => {
      const top = Number.MAX_SAFE_INTEGER;
      expect(await store.putPolicy(stored(top, 'dmax'))).toBe(true);
      expect(await (await again()).getPolicy()).toEqual(stored(top, 'dmax'));
    });

    test('two versions distributed on two instances at once: one is kept, the other is a conflict', async () => {
      const other = await again();
      const results = await Promise.allSettled([store.putPolicy(stored(5, 'x5')), other.putPolicy(stored(5, 'y5'))]);
      expect(results.filter((r) => r.status === 'fulfilled' && r.value === true)).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual([
        'policy_version_conflict',
      ]);
    });
  });

  describe('offline parties', () => offlineContract({ store: () => store, again }));

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
      expect(await store.putToken('ops', 'admin', 'a'.repeat(64))).toMatchObject({ name: 'ops', role: 'admin' });
      expect(await store.findToken('a'.repeat(64))).toMatchObject({ name: 'ops', role: 'admin' });
      await store.putToken('ops', 'auditor', 'b'.repeat(64));
      expect(await store.findToken('a'.repeat(64))).toBeUndefined();
      expect((await store.listTokens()).map((t) => [t.name, t.role])).toEqual([['ops', 'auditor']]);
      expect(await store.deleteToken('ops')).toBe(true);
      expect(await store.deleteToken('ops')).toBe(false);
    });

    test('configured tokens: installed with their source; one the configuration drops is revoked and audited; cli tokens stay', async () => {
      await store.putToken('cli-made', 'requester', 'c'.repeat(64));
      const configured = [
        { name: 'ops', role: 'admin' as const, sha256: 'a'.repeat(64), source: 'config' as const },
        { name: 'env-admin', role: 'admin' as const, sha256: 'b'.repeat(64), source: 'env' as const },
      ];
      expect(await store.syncConfiguredTokens(configured)).toEqual([]);
      expect((await store.listTokens()).map((t) => [t.name, t.source])).toEqual([
        ['cli-made', 'cli'],
        ['env-admin', 'env'],
        ['ops', 'config'],
      ]);
      expect(await store.syncConfiguredTokens(configured.slice(1))).toEqual(['ops']);
      expect(await store.findToken('a'.repeat(64))).toBeUndefined();
      expect((await store.listTokens()).map((t) => t.name)).toEqual(['cli-made', 'env-admin']);
      expect(await auditTypes()).toContain('token_revoked');
    });
  });

  describe('caps and cursors', () => {
    test('a signing request beyond a cap of unsettled requests is capacity_exceeded and creates nothing', async () => {
      const keyId = await activeKey(store);
      const caps = { maxInFlightPerKey: 2, maxInFlight: 3 };
      await store.createSignature(newSig(keyId), undefined, caps);
      await store.createSignature(newSig(keyId), undefined, caps);
      await expect(store.createSignature(newSig(keyId), undefined, caps)).rejects.toMatchObject({ code: 'capacity_exceeded' });
      const other = await activeKey(store);
      await store.createSignature(newSig(other), undefined, caps);
      await expect(store.createSignature(newSig(other), undefined, caps)).rejects.toMatchObject({ code: 'capacity_exceeded' });
      expect(await store.listUnsettledSignatures()).toHaveLength(3);
    });

    test('a cursor of one list is refused by another (invalid_cursor)', async () => {
      for (let i = 0; i < 3; i++) await activeKey(store);
      const keys = await store.listKeys({ limit: 1, cursor: null });
      expect(keys.nextCursor).not.toBeNull();
      await expect(store.listAudit({ limit: 1, cursor: keys.nextCursor })).rejects.toMatchObject({ code: 'invalid_cursor' });
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
      await expect(h.exec("UPDATE audit SET type = 'b'")).rejects.toThrow(/append-only/);
      await expect(h.exec('DELETE FROM audit')).rejects.toThrow(/append-only/);
      expect(await auditTypes()).toEqual(['a']);
    });

    test('editing one row behind the triggers is caught at that row', async () => {
      for (let i = 1; i <= 5; i++) await store.appendAudit('signature_requested', { n: i });
      await h.exec(h.dropTrigger('audit_no_update'));
      await h.exec(`UPDATE audit SET data = '${JSON.stringify({ n: 33 })}' WHERE seq = 3`);
      const { items } = await store.listAudit({ limit: 100, cursor: null });
      expect(verifyAuditChain(items)).toMatchObject({ ok: false, brokenAt: 3, reason: expect.stringContaining('edited') });
    });

    test('deleting a row behind the triggers is caught at the next one', async () => {
      for (let i = 1; i <= 4; i++) await store.appendAudit('e', { n: i });
      await h.exec(h.dropTrigger('audit_no_delete'));
      await h.exec('DELETE FROM audit WHERE seq = 2');
      const { items } = await store.listAudit({ limit: 100, cursor: null });
      expect(verifyAuditChain(items)).toMatchObject({ ok: false, brokenAt: 3 });
    });

    test('two instances append to one chain', async () => {
      const other = await again();
      for (let i = 0; i < 6; i++) await (i % 2 === 0 ? store : other).appendAudit('e', { i });
      const { items } = await other.listAudit({ limit: 100, cursor: null });
      expect(items.map((e) => e.data.i)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(verifyAuditChain(items).ok).toBe(true);
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
      store = await again();
    });
  });

  describe('work leases', () => {
    async function request(): Promise<string> {
      const s = newSig(await activeKey(store));
      await store.createSignature(s);
      return s.signatureId;
    }
    const claim = (s: Store, owner: string, over: object = {}) => s.claimWork({ owner, ttlMs: TTL, limit: 10, ...over });
    const fenceOf = (l: { kind: LeaseFence['kind']; id: string; owner: string; epoch: number }): LeaseFence => ({
      kind: l.kind,
      id: l.id,
      owner: l.owner,
      epoch: l.epoch,
    });

    test('accepted work is free to claim; one claim takes it, at epoch 1, and a second claim finds nothing', async () => {
      const k = newKey();
      await store.createKey(k);
      const id = await request();
      const leases = await claim(store, 'a');
      expect(leases.map((l) => [l.kind, l.id, l.owner, l.epoch]).sort()).toEqual(
        [
          ['key', k.keyId, 'a', 1],
          ['signature', id, 'a', 1],
        ].sort(),
      );
      expect(await claim(store, 'b')).toEqual([]);
    });

    test('a claim names one piece of work with target', async () => {
      const one = await request();
      await request();
      expect((await claim(store, 'a', { target: { kind: 'signature', id: one } })).map((l) => l.id)).toEqual([one]);
      expect(await claim(store, 'b', { target: { kind: 'signature', id: one } })).toEqual([]);
    });

    test('a lapsed lease is claimed again at a higher epoch, and the old holder can no longer write', async () => {
      const id = await request();
      const [first] = await claim(store, 'a');
      await h.elapse(TTL + 100);
      const [second] = await claim(await again(), 'b');
      expect(second).toMatchObject({ id, owner: 'b', epoch: (first?.epoch ?? 0) + 1 });
      const before = await auditTypes();
      const stale = fenceOf(first as LeaseFence);
      const done = { type: 'signature_completed', data: { signatureId: id } };
      await expect(store.completeSignature(id, { signature: 'ff', signers: ['alice'] }, done, stale)).rejects.toMatchObject({
        code: 'lease_lost',
      });
      await expect(store.addExcluded(id, { partyId: 'bob', reason: 'x' }, undefined, stale)).rejects.toMatchObject({ code: 'lease_lost' });
      await expect(store.markSigning(id, stale)).rejects.toMatchObject({ code: 'lease_lost' });
      expect(await store.getSignature(id)).toMatchObject({ status: 'pending', excluded: [], signature: null });
      expect(await auditTypes()).toEqual(before);
      await store.completeSignature(id, { signature: 'ff', signers: ['alice'] }, done, fenceOf(second as LeaseFence));
      expect(await store.getSignature(id)).toMatchObject({ status: 'completed', signature: 'ff' });
    });

    test('a write whose lease lapsed is refused even when no one claimed the work since', async () => {
      const k = newKey();
      await store.createKey(k);
      const [lease] = await claim(store, 'a');
      await h.elapse(TTL + 100);
      await expect(store.markKeyActive(k.keyId, material, undefined, fenceOf(lease as LeaseFence))).rejects.toMatchObject({
        code: 'lease_lost',
      });
      expect((await store.getKey(k.keyId))?.status).toBe('pending');
    });

    test('renewal keeps a lease from lapsing; only current leases renew', async () => {
      const id = await request();
      const [lease] = await claim(store, 'a');
      const fence = fenceOf(lease as LeaseFence);
      for (let i = 0; i < 3; i++) {
        await h.elapse(TTL / 2);
        expect((await store.renewLeases('a', [fence], TTL)).map((l) => l.id)).toEqual([id]);
      }
      expect(await claim(store, 'b')).toEqual([]);
      expect(await store.renewLeases('b', [fence], TTL)).toEqual([]);
      expect(await store.renewLeases('a', [{ ...fence, epoch: fence.epoch + 1 }], TTL)).toEqual([]);
      await h.elapse(TTL + 100);
      expect(await store.renewLeases('a', [fence], TTL)).toEqual([]);
      await store.markSigning(id);
      expect((await claim(store, 'b')).map((l) => l.id)).toEqual([id]);
    });

    test('release lets another instance take the work at once', async () => {
      const id = await request();
      await claim(store, 'a');
      expect(await store.releaseLeases('a')).toBe(1);
      expect((await claim(store, 'b')).map((l) => [l.id, l.owner])).toEqual([[id, 'b']]);
    });

    test('settled work has no lease left to claim', async () => {
      const k = newKey();
      await store.createKey(k);
      const id = await request();
      const [keyLease] = await claim(store, 'a', { target: { kind: 'key', id: k.keyId } });
      await store.markKeyFailed(k.keyId, { code: 'x', message: 'y' }, undefined, fenceOf(keyLease as LeaseFence));
      await store.failSignature(id, { code: 'insufficient_parties', message: 'none' });
      await h.elapse(TTL + 100);
      expect(await claim(store, 'b', { takeLive: true })).toEqual([]);
    });

    test('a request awaiting approval is work with a lease: an approval that does not release it leaves the lease with its holder', async () => {
      const s = newSig(await activeKey(store), { status: 'awaiting_approval' });
      await store.createSignature(s);
      const [held] = await claim(store, 'a');
      expect(held).toMatchObject({ kind: 'signature', id: s.signatureId, owner: 'a' });
      await store.addApproval(s.signatureId, APPROVAL, { expected: 0, release: null });
      expect(await claim(store, 'b')).toEqual([]);
      expect((await store.renewLeases('a', [fenceOf(held as LeaseFence)], TTL)).map((l) => l.id)).toEqual([s.signatureId]);
    });

    test('the approval that releases a request frees its lease: the holder can no longer write, and the next claim signs it', async () => {
      const s = newSig(await activeKey(store), { status: 'awaiting_approval' });
      await store.createSignature(s);
      const [held] = await claim(store, 'a');
      const stale = fenceOf(held as LeaseFence);
      const deadline = new Date(Date.now() + 60_000).toISOString();
      await (await again()).addApproval(s.signatureId, APPROVAL, { expected: 0, release: { deadline } });
      expect(await store.renewLeases('a', [stale], TTL)).toEqual([]);
      const timeout = { code: 'approval_timeout', message: 'late' };
      await expect(store.settleAwaiting(s.signatureId, 'failed', timeout, undefined, undefined, stale)).rejects.toMatchObject({
        code: 'lease_lost',
      });
      await expect(store.markSigning(s.signatureId, stale)).rejects.toMatchObject({ code: 'lease_lost' });
      expect(await store.getSignature(s.signatureId)).toMatchObject({ status: 'pending', deadline });
      const [next] = await claim(store, 'b', { target: { kind: 'signature', id: s.signatureId } });
      expect(next).toMatchObject({ owner: 'b', epoch: stale.epoch + 1 });
      await store.markSigning(s.signatureId, fenceOf(next as LeaseFence));
      expect((await store.getSignature(s.signatureId))?.status).toBe('signing');
    });

    test('an approval timeout by a holder whose lease lapsed is refused and changes nothing; by the holder, it settles and ends the lease', async () => {
      const s = newSig(await activeKey(store), { status: 'awaiting_approval' });
      await store.createSignature(s);
      const [first] = await claim(store, 'a');
      await h.elapse(TTL + 100);
      const timeout = { code: 'approval_timeout', message: 'late' };
      const audit = { type: 'signature_failed', data: { signatureId: s.signatureId } };
      const before = await auditTypes();
      await expect(
        store.settleAwaiting(s.signatureId, 'failed', timeout, audit, undefined, fenceOf(first as LeaseFence)),
      ).rejects.toMatchObject({ code: 'lease_lost' });
      expect((await store.getSignature(s.signatureId))?.status).toBe('awaiting_approval');
      expect(await auditTypes()).toEqual(before);
      const [second] = await claim(await again(), 'b');
      expect(await store.settleAwaiting(s.signatureId, 'failed', timeout, audit, undefined, fenceOf(second as LeaseFence))).toBe(true);
      expect(await store.getSignature(s.signatureId)).toMatchObject({ status: 'failed', error: timeout });
      await h.elapse(TTL + 100);
      expect(await claim(store, 'c', { takeLive: true })).toEqual([]);
    });

    test('a rejection ends the lease of a request awaiting approval', async () => {
      const s = newSig(await activeKey(store), { status: 'awaiting_approval' });
      await store.createSignature(s);
      const [held] = await claim(store, 'a');
      expect(await store.settleAwaiting(s.signatureId, 'rejected', { code: 'rejected', message: 'no' })).toBe(true);
      expect(await store.renewLeases('a', [fenceOf(held as LeaseFence)], TTL)).toEqual([]);
      expect(await claim(store, 'b', { takeLive: true })).toEqual([]);
    });

    test('takeLive takes leases that have not lapsed (one process alone on its database, restarting)', async () => {
      const id = await request();
      const [old] = await claim(store, 'life-1');
      const [taken] = await claim(store, 'life-2', { takeLive: true });
      expect(taken).toMatchObject({ id, owner: 'life-2', epoch: (old?.epoch ?? 0) + 1 });
      await expect(store.markSigning(id, fenceOf(old as LeaseFence))).rejects.toMatchObject({ code: 'lease_lost' });
    });
  });

  describe('lifecycle operations', () => {
    const link = { operation: 'refresh' as const, sessionId: 'refresh-op_x', confirmations: [] };
    const audit = (type: string) => ({ type, data: { test: true } });
    const successor = {
      threshold: 2,
      parties: ['alice', 'carol'],
      verifyingShares: { alice: '05', carol: '06' },
      groupCommitment: ['03', '07'],
    };
    async function pending(type: LifecycleType = 'refresh', params: NewOperation['params'] = {}) {
      const keyId = await activeKey(store);
      const created = await store.createOperation(newOperation(keyId, type, params));
      if (!created.created) throw new Error('not created');
      return { keyId, operationId: created.record.operationId };
    }
    const claimOp = async (s: Store, owner: string, operationId: string) => {
      const [lease] = await s.claimWork({ owner, ttlMs: TTL, limit: 1, target: { kind: 'operation', id: operationId } });
      if (!lease) throw new Error('no lease');
      return { kind: lease.kind, id: lease.id, owner: lease.owner, epoch: lease.epoch } satisfies LeaseFence;
    };

    test('createOperation persists a pending operation, its free lease and its <type>_requested event; the key must be active', async () => {
      const keyId = await activeKey(store);
      const created = await store.createOperation(newOperation(keyId, 'repair', { partyId: 'bob' }));
      expect(created).toMatchObject({
        created: true,
        record: { type: 'repair', status: 'pending', params: { partyId: 'bob' }, progress: null, requestedBy: 'test' },
      });
      const { items } = await store.listAudit({ limit: 100, cursor: null });
      expect(items.at(-1)).toMatchObject({ type: 'repair_requested', data: { keyId, partyId: 'bob', requestedBy: 'test' } });
      const id = created.created ? created.record.operationId : '';
      expect(await store.claimWork({ owner: 'a', ttlMs: TTL, limit: 10 })).toMatchObject([{ kind: 'operation', id, owner: 'a', epoch: 1 }]);
      const pendingKey = newKey();
      await store.createKey(pendingKey);
      await expect(store.createOperation(newOperation(pendingKey.keyId, 'refresh'))).rejects.toMatchObject({ code: 'key_not_active' });
      await expect(store.createOperation(newOperation('nope', 'refresh'))).rejects.toMatchObject({ code: 'not_found' });
    });

    test('one share-changing operation per key at a time (operation_in_progress, nothing written); drills run beside', async () => {
      const { keyId } = await pending('refresh');
      const before = await auditTypes();
      for (const type of ['refresh', 'repair', 'reshare'] as const) {
        await expect(store.createOperation(newOperation(keyId, type))).rejects.toMatchObject({ code: 'operation_in_progress' });
      }
      expect(await auditTypes()).toEqual(before);
      expect((await store.createOperation(newOperation(keyId, 'drill'))).created).toBe(true);
    });

    test('two instances asking for a share-changing operation of one key at once: one is created, the other is operation_in_progress', async () => {
      const keyId = await activeKey(store);
      const other = await again();
      const results = await Promise.allSettled([
        store.createOperation(newOperation(keyId, 'refresh')),
        other.createOperation(newOperation(keyId, 'repair', { partyId: 'bob' })),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'operation_in_progress' } });
    });

    test('completeOperation switches the key in one transaction: material, generation, lineage, the operation, its lease, its audit event', async () => {
      const { keyId, operationId } = await pending('reshare', { threshold: 2, parties: ['alice', 'carol'] });
      const fence = await claimOp(store, 'a', operationId);
      await store.completeOperation(
        operationId,
        { expectedGeneration: 0, link: { ...link, operation: 'reshare' }, material: successor },
        audit('key_reshared'),
        fence,
      );
      expect(await store.getKey(keyId)).toMatchObject({
        parties: ['alice', 'carol'],
        verifyingShares: successor.verifyingShares,
        groupCommitment: successor.groupCommitment,
        generation: 1,
        lineage: [{ operation: 'reshare', sessionId: 'refresh-op_x' }],
        publicKey: 'aa',
      });
      expect(await store.getOperation(operationId)).toMatchObject({ status: 'completed', completedAt: expect.any(String) });
      expect((await auditTypes()).at(-1)).toBe('key_reshared');
      await h.elapse(TTL + 100);
      expect(await store.claimWork({ owner: 'b', ttlMs: TTL, limit: 10, takeLive: true })).toEqual([]);
      // A repair links without a new generation.
      const repair = await store.createOperation(newOperation(keyId, 'repair', { partyId: 'carol' }));
      const repairId = repair.created ? repair.record.operationId : '';
      await store.completeOperation(repairId, { expectedGeneration: 1, link: { ...link, operation: 'repair' } });
      expect(await store.getKey(keyId)).toMatchObject({ generation: 1, lineage: [{ operation: 'reshare' }, { operation: 'repair' }] });
      expect(await store.listActiveKeysOf('carol')).toMatchObject([{ keyId }]);
    });

    test("a key change retires the key's unused offline commitments (the parties dropped their nonces), no other key's; a failed operation none", async () => {
      const wire = (i: number, k: string) => ({
        keyId: k,
        hiding: `0${i}`.repeat(32).slice(0, 64),
        binding: `1${i}`.repeat(32).slice(0, 64),
      });
      const { keyId, operationId: failing } = await pending('refresh');
      await store.acceptInbox('carol', 1, [wire(1, keyId), wire(2, keyId), wire(3, 'k-other')]);
      await store.failOperation(failing, { code: 'lifecycle_timeout', message: 'no' });
      expect(await store.countOfflineCommitments('carol', keyId)).toBe(2);
      const refresh = await store.createOperation(newOperation(keyId, 'refresh'));
      const refreshId = refresh.created ? refresh.record.operationId : '';
      await store.completeOperation(refreshId, { expectedGeneration: 0, link, material: successor });
      expect(await store.countOfflineCommitments('carol', keyId)).toBe(0);
      expect(await store.drawOfflineCommitments('carol', keyId, 1, 'sig_a')).toEqual([]);
      expect(await store.countOfflineCommitments('carol', 'k-other')).toBe(1);
      // Made after the switch: they count; a repair (the target's nonces dropped) retires them too.
      await store.acceptInbox('carol', 2, [wire(4, keyId)]);
      expect(await store.countOfflineCommitments('carol', keyId)).toBe(1);
      const repair = await store.createOperation(newOperation(keyId, 'repair', { partyId: 'carol' }));
      const repairId = repair.created ? repair.record.operationId : '';
      await store.completeOperation(repairId, { expectedGeneration: 1, link: { ...link, operation: 'repair' } });
      expect(await store.countOfflineCommitments('carol', keyId)).toBe(0);
    });

    test('a switch fenced on another generation changes nothing (operation_conflict): key, operation, lease and audit as they were', async () => {
      const { keyId, operationId } = await pending('refresh');
      const fence = await claimOp(store, 'a', operationId);
      const before = { key: await store.getKey(keyId), audit: await auditTypes() };
      await expect(
        store.completeOperation(operationId, { expectedGeneration: 5, link, material: successor }, audit('key_refreshed'), fence),
      ).rejects.toMatchObject({ code: 'operation_conflict' });
      expect(await store.getKey(keyId)).toEqual(before.key);
      expect((await store.getOperation(operationId))?.status).toBe('pending');
      expect(await auditTypes()).toEqual(before.audit);
      expect(await store.renewLeases('a', [fence], TTL)).toHaveLength(1);
    });

    test('an instance whose lease on the operation lapsed or moved writes nothing: no progress, no switch, no failure (lease_lost)', async () => {
      const { keyId, operationId } = await pending('refresh');
      const stale = await claimOp(store, 'a', operationId);
      await store.setOperationProgress(operationId, { phase: 'running' }, stale);
      await h.elapse(TTL + 100);
      const other = await again();
      const [taken] = await other.claimWork({ owner: 'b', ttlMs: TTL, limit: 10 });
      expect(taken).toMatchObject({ kind: 'operation', id: operationId, epoch: stale.epoch + 1 });
      const before = { key: await store.getKey(keyId), audit: await auditTypes() };
      const lost = { code: 'lease_lost' };
      await expect(store.setOperationProgress(operationId, { phase: 'certified' }, stale)).rejects.toMatchObject(lost);
      await expect(
        store.completeOperation(operationId, { expectedGeneration: 0, link, material: successor }, audit('key_refreshed'), stale),
      ).rejects.toMatchObject(lost);
      await expect(
        store.failOperation(operationId, { code: 'lifecycle_timeout', message: 'late' }, audit('refresh_failed'), stale),
      ).rejects.toMatchObject(lost);
      expect(await store.getKey(keyId)).toEqual(before.key);
      expect(await store.getOperation(operationId)).toMatchObject({ status: 'pending', progress: { phase: 'running' } });
      expect(await auditTypes()).toEqual(before.audit);
      // The instance that holds it now settles it, the key unchanged.
      const fence = { kind: 'operation' as const, id: operationId, owner: 'b', epoch: stale.epoch + 1 };
      const error = { code: 'coordinator_restarted', message: 'taken over' };
      await other.failOperation(operationId, error, audit('refresh_failed'), fence);
      expect(await store.getOperation(operationId)).toMatchObject({ status: 'failed', error });
      expect(await store.getKey(keyId)).toEqual(before.key);
    });

    test('failOperation settles once with its audit event, removing the lease; progress is taken after settling too (late abandonments)', async () => {
      const { operationId } = await pending('refresh');
      await store.setOperationProgress(operationId, { phase: 'running', participants: ['alice', 'bob'] });
      await store.failOperation(operationId, { code: 'lifecycle_timeout', message: 'late' }, audit('refresh_failed'));
      await store.failOperation(operationId, { code: 'other', message: 'again' }, audit('refresh_failed'));
      await store.setOperationProgress(operationId, { phase: 'running', abandonments: [] });
      expect(await store.getOperation(operationId)).toMatchObject({
        status: 'failed',
        error: { code: 'lifecycle_timeout' },
        progress: { phase: 'running', abandonments: [] },
      });
      expect((await auditTypes()).filter((t) => t === 'refresh_failed')).toHaveLength(1);
      expect(await store.claimWork({ owner: 'b', ttlMs: TTL, limit: 10, takeLive: true })).toEqual([]);
      expect(await store.waitForSettled('operation', operationId, 10)).toBe(true);
    });

    test('listActiveKeysOf: the active keys whose committee holds the party', async () => {
      const a = await activeKey(store);
      const b = newKey({ parties: ['bob', 'carol'] });
      await store.createKey(b);
      await store.markKeyActive(b.keyId, { ...material, verifyingShares: { bob: '01', carol: '02' } });
      await store.createKey(newKey());
      expect((await store.listActiveKeysOf('bob')).map((k) => k.keyId)).toEqual([a, b.keyId]);
      expect((await store.listActiveKeysOf('alice')).map((k) => k.keyId)).toEqual([a]);
      expect(await store.listActiveKeysOf('dave')).toEqual([]);
    });

    test('a switch is announced to onKeySwitched listeners after its commit; a repair or a failure is not', async () => {
      const heard: string[] = [];
      const stop = store.onKeySwitched((keyId) => heard.push(keyId));
      const { keyId, operationId } = await pending('refresh');
      await store.completeOperation(operationId, { expectedGeneration: 0, link: { ...link, operation: 'repair' } });
      const refresh = await store.createOperation(newOperation(keyId, 'refresh'));
      const refreshId = refresh.created ? refresh.record.operationId : '';
      await store.failOperation(refreshId, { code: 'x', message: 'y' });
      expect(heard).toEqual([]);
      const again = await store.createOperation(newOperation(keyId, 'refresh'));
      await store.completeOperation(again.created ? again.record.operationId : '', {
        expectedGeneration: 0,
        link,
        material: { ...successor, parties: ['alice', 'bob'], verifyingShares: { alice: '08', bob: '09' } },
      });
      await expect.poll(() => heard).toContain(keyId);
      expect((await store.getKey(keyId))?.generation).toBe(1);
      stop();
    });
  });
}

/** The stores the offline-party contract runs against: the one under test, and a second instance on its data. */
export interface OfflineContractStores {
  store(): OfflineStore;
  again(): Promise<OfflineStore>;
}
type OfflineStore = Pick<
  OrchestratorStore,
  'lastInboxSequence' | 'acceptInbox' | 'drawOfflineCommitments' | 'countOfflineCommitments' | 'nextOutboxSequence'
>;

/** What every store does for offline parties (also the in-memory test store, whose second instance is itself). */
export function offlineContract({ store: current, again }: OfflineContractStores): void {
  let store: OfflineStore;
  beforeEach(() => {
    store = current();
  });
  const c = (i: number, keyId = 'k1') => ({ keyId, hiding: `0${i}`.repeat(32).slice(0, 64), binding: `1${i}`.repeat(32).slice(0, 64) });

  test('an inbox bundle is accepted once: a sequence at or below the last changes nothing', async () => {
    expect(await store.lastInboxSequence('p3')).toBeUndefined();
    expect(await store.acceptInbox('p3', 10, [c(1), c(2)])).toBe(true);
    expect(await store.acceptInbox('p3', 10, [c(3)])).toBe(false);
    expect(await store.acceptInbox('p3', 9, [c(4)])).toBe(false);
    expect(await store.lastInboxSequence('p3')).toBe(10);
    expect(await store.countOfflineCommitments('p3', 'k1')).toBe(2);
    expect(await store.lastInboxSequence('p2')).toBeUndefined();
  });

  test('each commitment is drawn once, oldest first, also by a second instance and after a reopen; a short supply draws none', async () => {
    await store.acceptInbox('p3', 1, [c(1), c(2), c(3), c(4, 'k2')]);
    expect(await store.drawOfflineCommitments('p3', 'k1', 2, 'sig_a')).toEqual([
      { hiding: c(1).hiding, binding: c(1).binding },
      { hiding: c(2).hiding, binding: c(2).binding },
    ]);
    const other = await again();
    expect(await other.drawOfflineCommitments('p3', 'k1', 2, 'sig_b')).toEqual([]);
    expect(await other.countOfflineCommitments('p3', 'k1')).toBe(1);
    expect(await other.drawOfflineCommitments('p3', 'k1', 1, 'sig_b')).toEqual([{ hiding: c(3).hiding, binding: c(3).binding }]);
    expect(await store.drawOfflineCommitments('p3', 'k1', 1, 'sig_c')).toEqual([]);
    expect(await store.countOfflineCommitments('p3', 'k2')).toBe(1);
  });

  test('a used commitment received again in a later bundle stays used', async () => {
    await store.acceptInbox('p3', 1, [c(1)]);
    expect(await store.drawOfflineCommitments('p3', 'k1', 1, 'sig_a')).toHaveLength(1);
    expect(await store.acceptInbox('p3', 2, [c(1)])).toBe(true);
    expect(await store.countOfflineCommitments('p3', 'k1')).toBe(0);
    expect(await store.drawOfflineCommitments('p3', 'k1', 1, 'sig_b')).toEqual([]);
  });

  test('two instances drawing at once never get the same commitment', async () => {
    await store.acceptInbox('p3', 1, [c(1), c(2), c(3), c(4)]);
    const other = await again();
    const draws = await Promise.all([
      store.drawOfflineCommitments('p3', 'k1', 1, 'a'),
      other.drawOfflineCommitments('p3', 'k1', 1, 'b'),
      store.drawOfflineCommitments('p3', 'k1', 1, 'c'),
      other.drawOfflineCommitments('p3', 'k1', 1, 'd'),
    ]);
    expect(new Set(draws.flat().map((d) => d.hiding)).size).toBe(4);
  });

  test('outbox sequences only move forward: max(last + 1, now)', async () => {
    expect(await store.nextOutboxSequence('p3', 1000)).toBe(1000);
    expect(await store.nextOutboxSequence('p3', 1000)).toBe(1001);
    expect(await (await again()).nextOutboxSequence('p3', 500)).toBe(1002);
    expect(await store.nextOutboxSequence('p3', 5000)).toBe(5000);
    expect(await store.nextOutboxSequence('p2', 7)).toBe(7);
  });
}
