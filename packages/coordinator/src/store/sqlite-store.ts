/**
 * The SQLite Store: one file under the data directory, WAL journal. Every write method is one
 * transaction (better-sqlite3 is synchronous, so nothing else in this process interleaves with
 * it), then waits until the transaction is on disk before it resolves — a group fsync of the WAL
 * off the event loop (wal-durability.ts), shared by the transactions committed meanwhile — so a
 * commit is durable before the API answers 2xx or announces a settlement (DESIGN.md invariant 3).
 * Every read first waits until what was committed before it is durable.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { nextAuditEvent } from '@glacis/protocol';
import Database from 'better-sqlite3';
import { normalizeAuditData } from '../audit.js';
import { CoordinatorError } from '../errors.js';
import { approvalUpdate } from './approval-update.js';
import { type CursorScope, decodeCursor, pageOf } from './cursor.js';
import { migrate } from './migrations.js';
import { createNotifier } from './notifier.js';
import { keyRequestedEvent, policyDistributedEvent, signatureRequestedEvent } from './request-events.js';
import { errorColumn, isSettledStatus, type SettleTransactions, settleMethods, signatureColumns } from './settlements.js';
import { createSqliteLeases } from './sqlite-leases.js';
import { createSqliteOffline } from './sqlite-offline.js';
import {
  auditFromRow,
  idempotencyFromRow,
  type KeyRow,
  keyChangeColumns,
  keyFromRow,
  type OperationRow,
  operationFromRow,
  policyFromRow,
  type SignatureRow,
  signatureFromRow,
  type TokenRow,
  tokenFromRow,
} from './sqlite-rows.js';
import { prepareStatements } from './sqlite-statements.js';
import type {
  IdempotencyClaim,
  IdempotencyRecord,
  InFlightCaps,
  KeyChange,
  Page,
  PageRequest,
  SettleKind,
  SignatureRecord,
  Store,
} from './types.js';
import { createWalDurability, type WalSync } from './wal-durability.js';
import {
  assertKeyActive,
  assertNoShareOperation,
  assertUnderCap,
  isNewPolicy,
  isStoredAs,
  revocationAudit,
  revokedByConfiguration,
  withExclusion,
} from './write-rules.js';

/** Options of openSqliteStore. */
export interface SqliteStoreOptions {
  /** The database file; its directory is created (mode 0700) if missing. `:memory:` for throwaway stores. */
  path: string;
  /** Clock for audit and settle times (ms since the epoch). */
  now?: () => number;
  /** How the WAL is made durable (default fdatasync); tests pass one they hold or fail. */
  walSync?: WalSync;
}

// Errors that mean "the disk or the lock is not available", not "the request was wrong".
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|READONLY|CANTOPEN|CORRUPT|NOTADB)/;

/**
 * Opens (creating and migrating if needed) a SQLite-backed Store. One coordinator process serves a
 * SQLite file: its work leases exist so the same drivers run on both stores, and at start it takes
 * every lease an earlier life of it held (ClaimRequest.takeLive).
 */
export function openSqliteStore(opts: SqliteStoreOptions): Store {
  const clock = opts.now ?? Date.now;
  const iso = () => new Date(clock()).toISOString();
  if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
  const db = new Database(opts.path);
  db.pragma('journal_mode = WAL');
  // Commits are made durable by the store's own group fsync of the WAL (wal-durability.ts).
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, iso);
  const notifier = createNotifier();

  const q = prepareStatements(db);
  const leases = createSqliteLeases(db, clock);
  const wal = createWalDurability(opts.path, opts.walSync);
  const switchListeners = new Set<(keyId: string) => void>();
  const offline = createSqliteOffline(db, iso);

  /** Runs `fn`, turning "database unavailable" failures into a 503-mapped error. */
  function guard<T>(fn: () => T): T {
    if (!db.open) throw new CoordinatorError('store_unavailable', 'the store is closed');
    try {
      return fn();
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string' && UNAVAILABLE.test(code))
        throw new CoordinatorError('store_unavailable', 'the store is unavailable', { cause: e });
      throw e;
    }
  }

  /** A write: `fn` (its transaction), then the fsync that makes it durable. */
  async function write<T>(fn: () => T): Promise<T> {
    const result = guard(fn);
    await wal.committed().catch((e: unknown) => {
      throw new CoordinatorError('store_unavailable', 'the store could not make a write durable', { cause: e });
    });
    return result;
  }

  /** A read: `fn` once everything committed before it is durable. */
  async function read<T>(fn: () => T): Promise<T> {
    await wal.visible().catch((e: unknown) => {
      throw new CoordinatorError('store_unavailable', 'the store could not make a write durable', { cause: e });
    });
    return guard(fn);
  }

  function appendAuditTx(type: string, data: Record<string, unknown>): void {
    const event = nextAuditEvent(q.lastAudit.get(), iso(), type, normalizeAuditData(data));
    q.insertAudit.run({ ...event, data: JSON.stringify(event.data) });
  }

  /**
   * Refuses a new signing request while a cap's worth are unsettled. Counted in the creating
   * transaction, so concurrent requests cannot overshoot; bounded by the caps themselves.
   */
  function assertCapacity(keyId: string, caps: InFlightCaps): void {
    assertUnderCap(q.unsettledCountOfKey.get(keyId)?.n ?? 0, caps.maxInFlightPerKey, 'this key');
    assertUnderCap(q.unsettledCount.get()?.n ?? 0, caps.maxInFlight, 'the coordinator');
  }

  function claimIdempotency(claim: IdempotencyClaim | undefined) {
    if (!claim) return undefined;
    const row = q.idem.get(claim.scope.key, claim.scope.route, claim.scope.tokenName);
    return row ? idempotencyFromRow(row) : undefined;
  }
  function recordIdempotency(claim: IdempotencyClaim | undefined, createdAt: string): void {
    if (!claim) return;
    q.insertIdem.run({
      ...claim.scope,
      requestHash: claim.requestHash,
      statusCode: claim.response.statusCode,
      response: JSON.stringify(claim.response.body),
      createdAt,
    });
  }

  /** One page of the list `scope`: `fetch(after, limit + 1)` reads one row more to know if there is a next page. */
  function page<R extends { seq: number }, T>(
    scope: CursorScope,
    p: PageRequest,
    fetch: (after: number, limit: number) => R[],
    map: (r: R) => T,
  ): Page<T> {
    return pageOf(scope, fetch(decodeCursor(scope, p.cursor), p.limit + 1), p.limit, map);
  }

  const settleKey: SettleTransactions['settleKey'] = async (keyId, columns, audit, fence) => {
    const opId = await write(() =>
      db
        .transaction(() => {
          const row = q.key.get(keyId);
          if (!row) throw new CoordinatorError('not_found', `no key ${keyId}`);
          if (fence) leases.check(fence);
          const changed = q.settleKey.run({ keyId, at: iso(), ...columns }).changes > 0;
          if (!changed) return undefined;
          const status = columns.status === 'active' ? 'completed' : 'failed';
          q.settleOp.run({ id: row.operation_id, status, error: columns.error, at: iso() });
          leases.remove('key', keyId);
          if (audit) appendAuditTx(audit.type, audit.data);
          return row.operation_id;
        })
        .immediate(),
    );
    if (opId !== undefined) {
      notifier.settled('key', keyId);
      notifier.settled('operation', opId);
    }
  };

  const settleSignature: SettleTransactions['settleSignature'] = async (id, status, fields, audit, fence) => {
    const changed = await write(() =>
      db
        .transaction(() => {
          if (!q.sig.get(id)) throw new CoordinatorError('not_found', `no signature ${id}`);
          if (fence) leases.check(fence);
          const changed = q.settleSig.run({ id, status, ...signatureColumns(fields), at: iso() }).changes > 0;
          if (changed) leases.remove('signature', id);
          if (changed && audit) appendAuditTx(audit.type, audit.data);
          return changed;
        })
        .immediate(),
    );
    if (changed) notifier.settled('signature', id);
  };

  /** Announced (settled, key switched) once durable. */
  const settleOperation: SettleTransactions['settleOperation'] = async (id, status, error, change, audit, fence) => {
    const settled = await write(() =>
      db
        .transaction(() => {
          const op = q.op.get(id);
          if (!op) throw new CoordinatorError('not_found', `no operation ${id}`);
          if (fence) leases.check(fence);
          if (op.status !== 'pending') return undefined;
          if (change) applyKeyChange(op.key_id, change);
          q.settleOp.run({ id, status, error: error ? JSON.stringify(error) : null, at: iso() });
          leases.remove('operation', id);
          if (audit) appendAuditTx(audit.type, audit.data);
          return { keyId: op.key_id, switched: change?.material !== undefined };
        })
        .immediate(),
    );
    if (!settled) return;
    notifier.settled('operation', id);
    if (settled.switched) for (const l of [...switchListeners]) l(settled.keyId);
  };

  function applyKeyChange(keyId: string, change: KeyChange): void {
    const row = q.key.get(keyId);
    if (!row) throw new CoordinatorError('not_found', `no key ${keyId}`);
    const columns = keyChangeColumns(keyFromRow(row), change);
    if (q.changeKey.run({ keyId, expectedGeneration: change.expectedGeneration, ...columns }).changes === 0) {
      throw new CoordinatorError('operation_conflict', `key ${keyId} is not at generation ${change.expectedGeneration} (or not active)`);
    }
    // The parties drop their nonces of the key on a switch or repair: its unused commitments die with them.
    offline.retireForKey(keyId, change.link.sessionId);
  }

  const rowOf = { key: q.key, signature: q.sig, operation: q.op } satisfies Record<SettleKind, unknown>;
  function isSettled(kind: SettleKind, id: string): boolean | undefined {
    if (!db.open) return undefined;
    const r = rowOf[kind].get(id);
    return r ? isSettledStatus(kind, r.status) : undefined;
  }

  const store: Store = {
    async ping() {
      try {
        if (!db.open) return false;
        q.lastAudit.get();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      notifier.close();
      await wal.close();
      switchListeners.clear();
      if (db.open) db.close();
    },

    async createKey(key, claim) {
      return write(() =>
        db
          .transaction(() => {
            const previous = claimIdempotency(claim);
            if (previous) return { created: false as const, previous };
            q.insertKey.run({ ...key, parties: JSON.stringify(key.parties) });
            q.insertOp.run({ operationId: key.operationId, keyId: key.keyId, type: 'dkg', createdAt: key.createdAt });
            leases.insert('key', key.keyId);
            appendAuditTx('key_requested', keyRequestedEvent(key));
            recordIdempotency(claim, key.createdAt);
            return { created: true as const, record: keyFromRow(q.key.get(key.keyId) as KeyRow) };
          })
          .immediate(),
      );
    },
    async getKey(keyId) {
      return read(() => {
        const r = q.key.get(keyId);
        return r ? keyFromRow(r) : undefined;
      });
    },
    async listKeys(p) {
      return read(() => page('keys', p, (after, n) => q.keysAfter.all(after, n), keyFromRow));
    },
    async listPendingKeys() {
      return read(() => q.pendingKeys.all().map(keyFromRow));
    },
    ...settleMethods({ settleKey, settleSignature, settleOperation }),

    async createSignature(sig, claim, caps) {
      return write(() =>
        db
          .transaction(() => {
            const previous = claimIdempotency(claim);
            if (previous) return { created: false as const, previous };
            assertKeyActive(q.key.get(sig.keyId));
            if (caps) assertCapacity(sig.keyId, caps);
            const message = sig.intent.type === 'raw' ? sig.intent.message : null;
            q.insertSig.run({
              ...sig,
              message,
              intent: JSON.stringify(sig.intent),
              context: sig.context === null ? null : JSON.stringify(sig.context),
              approvals: JSON.stringify(sig.approvals),
            });
            leases.insert('signature', sig.signatureId);
            appendAuditTx('signature_requested', signatureRequestedEvent(sig));
            recordIdempotency(claim, sig.createdAt);
            return { created: true as const, record: signatureFromRow(q.sig.get(sig.signatureId) as SignatureRow) };
          })
          .immediate(),
      );
    },
    async getSignature(id) {
      return read(() => {
        const r = q.sig.get(id);
        return r ? signatureFromRow(r) : undefined;
      });
    },
    async listSignatures(keyId, p) {
      return read(() => page(`signatures:${keyId}`, p, (after, n) => q.sigsAfter.all(keyId, after, n), signatureFromRow));
    },
    async listAllSignatures(p, status) {
      return read(() =>
        status === undefined
          ? page('signatures', p, (after, n) => q.allSigsAfter.all(after, n), signatureFromRow)
          : page(`signatures:status:${status}`, p, (after, n) => q.sigsInStatusAfter.all(status, after, n), signatureFromRow),
      );
    },
    async listUnsettledSignatures() {
      return read(() => q.unsettledSigs.all().map(signatureFromRow));
    },
    async markSigning(id, fence) {
      await write(() =>
        db
          .transaction(() => {
            if (!q.sig.get(id)) throw new CoordinatorError('not_found', `no signature ${id}`);
            if (fence) leases.check(fence);
            q.markSigning.run(id);
          })
          .immediate(),
      );
    },
    async addExcluded(id, e, audit, fence) {
      await write(() =>
        db
          .transaction(() => {
            const row = q.sig.get(id);
            if (!row) throw new CoordinatorError('not_found', `no signature ${id}`);
            if (fence) leases.check(fence);
            const excluded = withExclusion(row.excluded, e);
            if (excluded === undefined) return;
            q.setExcluded.run(excluded, id);
            if (audit) appendAuditTx(audit.type, audit.data);
          })
          .immediate(),
      );
    },

    async addApproval(id, approval, opts, audit) {
      const result = await write(() =>
        db
          .transaction((): SignatureRecord | 'stale' | IdempotencyRecord => {
            const previous = claimIdempotency(opts.idempotency);
            if (previous) return previous;
            const update = approvalUpdate(q.sig.get(id), approval, opts);
            if (update === 'stale') return 'stale';
            q.setApprovals.run({ id, ...update });
            if (opts.release) leases.free('signature', id);
            if (audit) appendAuditTx(audit.type, audit.data);
            const updated = signatureFromRow(q.sig.get(id) as SignatureRow);
            recordIdempotency(opts.idempotency, iso());
            return updated;
          })
          .immediate(),
      );
      return result;
    },
    async settleAwaiting(id, status, error, audit, claim, fence) {
      const changed = await write(() =>
        db
          .transaction(() => {
            if (!q.sig.get(id)) throw new CoordinatorError('not_found', `no signature ${id}`);
            if (fence) leases.check(fence);
            const changed = q.settleAwaiting.run({ id, status, error: errorColumn(error), at: iso() }).changes > 0;
            if (!changed) return false;
            leases.remove('signature', id);
            if (audit) appendAuditTx(audit.type, audit.data);
            recordIdempotency(claim, iso());
            return true;
          })
          .immediate(),
      );
      if (changed) notifier.settled('signature', id);
      return changed;
    },

    async getPolicy() {
      return read(() => {
        const r = q.policy.get();
        return r ? policyFromRow(r) : undefined;
      });
    },
    async putPolicy(p) {
      return write(() =>
        db
          .transaction(() => {
            if (!isNewPolicy(q.policy.get(), p)) return false;
            q.insertPolicy.run({
              version: p.version,
              digest: p.digest,
              signed: JSON.stringify(p.signed),
              distributedAt: p.distributedAt,
              distributedBy: p.distributedBy,
            });
            appendAuditTx('policy_distributed', policyDistributedEvent(p));
            return true;
          })
          .immediate(),
      );
    },

    async getOperation(id) {
      return read(() => {
        const r = q.op.get(id);
        return r ? operationFromRow(r) : undefined;
      });
    },
    async createOperation(op, claim) {
      return write(() =>
        db
          .transaction(() => {
            const previous = claimIdempotency(claim);
            if (previous) return { created: false as const, previous };
            assertKeyActive(q.key.get(op.keyId));
            if (op.type !== 'drill') assertNoShareOperation(q.pendingShareOpsOfKey.get(op.keyId)?.n ?? 0);
            q.insertLifecycleOp.run({ ...op, params: JSON.stringify(op.params) });
            leases.insert('operation', op.operationId);
            const { operationId, keyId, type, params, requestedBy } = op;
            appendAuditTx(`${type}_requested`, { operationId, keyId, ...params, requestedBy });
            recordIdempotency(claim, op.createdAt);
            return { created: true as const, record: operationFromRow(q.op.get(operationId) as OperationRow) };
          })
          .immediate(),
      );
    },
    async setOperationProgress(id, progress, fence) {
      await write(() =>
        db
          .transaction(() => {
            if (!q.op.get(id)) throw new CoordinatorError('not_found', `no operation ${id}`);
            if (fence) leases.check(fence);
            q.setOpProgress.run(JSON.stringify(progress), id);
          })
          .immediate(),
      );
    },
    async listActiveKeysOf(partyId) {
      return read(() => q.activeKeysOf.all(partyId).map(keyFromRow));
    },

    async getIdempotency(scope) {
      return read(() => {
        const r = q.idem.get(scope.key, scope.route, scope.tokenName);
        return r ? idempotencyFromRow(r) : undefined;
      });
    },

    async putToken(name, role, tokenSha256, source = 'cli') {
      return write(() => {
        q.putToken.run({ name, hash: tokenSha256, role, source, createdAt: iso() });
        return tokenFromRow(q.tokenByName.get(name) as TokenRow);
      });
    },
    async syncConfiguredTokens(tokens) {
      return write(() =>
        db
          .transaction(() => {
            const revoked = revokedByConfiguration(q.tokens.all(), tokens);
            for (const t of revoked) {
              q.deleteToken.run(t.name);
              appendAuditTx('token_revoked', revocationAudit(t));
            }
            // The same secret hashed under another name would collide on the unique hash: the
            // configuration's name wins, as `token create` under an existing name replaces it.
            for (const t of tokens) {
              const holder = q.tokenByHash.get(t.sha256);
              if (holder && holder.name !== t.name) q.deleteToken.run(holder.name);
              if (isStoredAs(q.tokenByName.get(t.name), t)) continue;
              q.putToken.run({ name: t.name, hash: t.sha256, role: t.role, source: t.source, createdAt: iso() });
            }
            return revoked.map((t) => t.name);
          })
          .immediate(),
      );
    },
    async findToken(tokenSha256) {
      return read(() => {
        const r = q.tokenByHash.get(tokenSha256);
        return r ? tokenFromRow(r) : undefined;
      });
    },
    async listTokens() {
      return read(() => q.tokens.all().map(tokenFromRow));
    },
    async deleteToken(name) {
      return write(() => q.deleteToken.run(name).changes > 0);
    },

    async appendAudit(type, data) {
      await write(() => db.transaction(() => appendAuditTx(type, data)).immediate());
    },
    async listAudit(p) {
      return read(() => page('audit', p, (after, n) => q.auditAfter.all(after, n), auditFromRow));
    },

    // Lease writes do not wait for a WAL fsync of their own (they would put one on every request's
    // way to its first signing package): nothing leaves the process on a lease's strength that a
    // power cut could contradict. A result write it fences comes later in the WAL, so it is durable
    // only if the claim is, and a restarted process takes every lease anyway (takeLive).
    async claimWork(req) {
      return guard(() => db.transaction(() => leases.claim(req)).immediate());
    },
    async renewLeases(owner, held, ttlMs) {
      return guard(() => db.transaction(() => leases.renew(owner, held, ttlMs)).immediate());
    },
    async releaseLeases(owner) {
      return guard(() => leases.release(owner));
    },

    onKeySwitched(listener) {
      switchListeners.add(listener);
      return () => switchListeners.delete(listener);
    },

    async lastInboxSequence(partyId) {
      return read(() => offline.lastInboxSequence(partyId));
    },
    async acceptInbox(partyId, sequence, commitments) {
      return write(() => offline.acceptInbox(partyId, sequence, commitments));
    },
    async drawOfflineCommitments(partyId, keyId, count, usedBy) {
      return write(() => offline.draw(partyId, keyId, count, usedBy));
    },
    async countOfflineCommitments(partyId, keyId) {
      return read(() => offline.count(partyId, keyId));
    },
    async nextOutboxSequence(partyId, now) {
      return write(() => offline.nextOutboxSequence(partyId, now));
    },

    waitForSettled(kind, id, ms, signal) {
      return notifier.wait(kind, id, ms, () => isSettled(kind, id), signal);
    },
  };
  return Object.freeze(store);
}
