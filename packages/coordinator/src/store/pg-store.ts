/**
 * The PostgreSQL Store, for deployments that run several coordinator instances on one database
 * (docs/operations.md, "Several coordinators"). Same contract as the SQLite store: each method is
 * one transaction; a state change commits with its audit event.
 *
 * What several writers add, and where it is handled:
 *   - One audit chain: every append takes one advisory lock (LOCKS.audit) to the end of its
 *     transaction, so appends are serialised and each sees the previous one's head. Creates take it
 *     before they insert, so key and signature `seq` order is commit order and cursors never skip.
 *   - One request per idempotency key: the idempotency row is the primary key; of two creates at
 *     once the second waits for the lock, then finds the first one's record and answers with it.
 *   - Work leases with fencing epochs (pg-sql.ts `claim`, `lockLease`) on the server's clock.
 *   - `?wait=`: a settle commits with a NOTIFY; every instance LISTENs and also polls.
 *   - A key switched by a refresh or reshare on one instance: the switch commits with a NOTIFY, so
 *     every instance's signing stops using the old material (Store.onKeySwitched).
 */
import { nextAuditEvent } from '@glacis/protocol';
import type pg from 'pg';
import { normalizeAuditData } from '../audit.js';
import { CoordinatorError } from '../errors.js';
import type { KeyChange, LeaseFence } from '../orchestrator/store-port.js';
import { approvalUpdate } from './approval-update.js';
import { decodeCursor, pageOf } from './cursor.js';
import { assertFence, type LeaseRow, leaseFromRow } from './leases.js';
import { createNotifier } from './notifier.js';
import { createPgConnection, listenPg, migratePg, type PgConnectionOptions } from './pg-connection.js';
import { pgOffline, RETIRE_OFFLINE_COMMITMENTS } from './pg-offline.js';
import { LOCKS, SETTLED_CHANNEL, SQL } from './pg-sql.js';
import { keyRequestedEvent, policyDistributedEvent, signatureRequestedEvent } from './request-events.js';
import { waitPolled } from './settle-wait.js';
import { errorColumn, isSettledStatus, type SettleTransactions, settleMethods, signatureColumns } from './settlements.js';
import {
  type AuditRow,
  auditFromRow,
  type IdempotencyRow,
  idempotencyFromRow,
  type KeyRow,
  keyChangeColumns,
  keyFromRow,
  type OperationRow,
  operationFromRow,
  type PolicyRow,
  policyFromRow,
  type SignatureRow,
  signatureFromRow,
  type TokenRow,
  tokenFromRow,
} from './sqlite-rows.js';
import type { IdempotencyClaim, IdempotencyRecord, InFlightCaps, SettleKind, SignatureRecord, Store } from './types.js';
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

/** Options of openPostgresStore. */
export interface PostgresStoreOptions extends PgConnectionOptions {
  /** Clock for row and audit times (ms since the epoch); leases use the server's clock. */
  now?: () => number;
  /** How often a `?wait=` re-reads its row besides the notifications (default 1000 ms). */
  pollMs?: number;
}

const UNIQUE_VIOLATION = '23505';

type Tx = pg.PoolClient;

async function one<R extends pg.QueryResultRow>(c: Tx, text: string, values: unknown[]): Promise<R | undefined> {
  return (await c.query<R>(text, values)).rows[0];
}

/**
 * Refuses a new signing request when a cap of unsettled requests is reached (429
 * `capacity_exceeded` with Retry-After). Counted inside the create's transaction, which holds the
 * audit lock, so concurrent creates on every instance cannot overshoot.
 */
async function assertCapacity(c: Tx, keyId: string, caps: InFlightCaps): Promise<void> {
  assertUnderCap((await one<{ n: number }>(c, SQL.unsettledCountOfKey, [keyId]))?.n ?? 0, caps.maxInFlightPerKey, 'this key');
  assertUnderCap((await one<{ n: number }>(c, SQL.unsettledCount, []))?.n ?? 0, caps.maxInFlight, 'the coordinator');
}

/** Opens (migrating if needed) a PostgreSQL-backed Store on `url`. */
export async function openPostgresStore(opts: PostgresStoreOptions): Promise<Store> {
  const clock = opts.now ?? Date.now;
  const iso = () => new Date(clock()).toISOString();
  const conn = createPgConnection(opts);
  try {
    await migratePg(conn, iso);
  } catch (e) {
    await conn.end();
    throw e;
  }
  const notifier = createNotifier();
  const switchListeners = new Set<(keyId: string) => void>();
  const switched = (keyId: string) => {
    for (const l of [...switchListeners]) l(keyId);
  };
  const listener = listenPg(opts, SETTLED_CHANNEL, (payload) => {
    const i = payload.indexOf(':');
    const kind = payload.slice(0, i);
    if (kind === 'key' || kind === 'signature' || kind === 'operation') notifier.settled(kind, payload.slice(i + 1));
    else if (kind === 'key_switched') switched(payload.slice(i + 1));
  });

  /** Appends under the audit lock, which the caller may already hold (taking it twice is harmless). */
  async function appendAuditTx(c: Tx, type: string, data: Record<string, unknown>): Promise<void> {
    await c.query(SQL.lock, [LOCKS.audit]);
    const last = await one<{ seq: number; hash: string }>(c, SQL.lastAudit, []);
    const e = nextAuditEvent(last, iso(), type, normalizeAuditData(data));
    await c.query(SQL.insertAudit, [e.seq, e.at, e.type, JSON.stringify(e.data), e.prevHash, e.hash]);
  }
  /** Tells every instance (this one included, after commit) that a row settled. */
  const notify = (c: Tx, kind: SettleKind, id: string) => c.query(SQL.notify, [`${kind}:${id}`]);

  async function checkFence(c: Tx, fence: LeaseFence): Promise<void> {
    const row = await one<LeaseRow & { now_ms: number }>(c, SQL.lockLease, [fence.kind, fence.id]);
    assertFence(row, fence, row?.now_ms ?? 0);
  }

  async function previousFor(c: Tx, claim: IdempotencyClaim | undefined) {
    if (!claim) return undefined;
    const row = await one<IdempotencyRow>(c, SQL.idem, [claim.scope.key, claim.scope.route, claim.scope.tokenName]);
    return row ? idempotencyFromRow(row) : undefined;
  }
  async function recordIdempotency(c: Tx, claim: IdempotencyClaim | undefined, createdAt: string): Promise<void> {
    if (!claim) return;
    const { scope, requestHash, response } = claim;
    await c.query(SQL.insertIdem, [
      scope.key,
      scope.route,
      scope.tokenName,
      requestHash,
      response.statusCode,
      JSON.stringify(response.body),
      createdAt,
    ]);
  }

  /**
   * A create under an idempotency claim. The audit lock is taken first: it orders the insert (see
   * the module comment) and makes a concurrent create of the same key wait, then find its record.
   * The primary key is the backstop: if a duplicate still got through, the loser answers as a replay.
   */
  async function create<T>(claim: IdempotencyClaim | undefined, insert: (c: Tx) => Promise<T>) {
    try {
      return await conn.tx(async (c) => {
        await c.query(SQL.lock, [LOCKS.audit]);
        const previous = await previousFor(c, claim);
        if (previous) return { created: false as const, previous };
        return { created: true as const, record: await insert(c) };
      });
    } catch (e) {
      if ((e as { code?: unknown }).code !== UNIQUE_VIOLATION || !claim) throw e;
      const previous = await conn.tx((c) => previousFor(c, claim));
      if (!previous) throw e;
      return { created: false as const, previous };
    }
  }

  const settleKey: SettleTransactions['settleKey'] = async (keyId, columns, audit, fence) => {
    const { status, publicKey, verifyingShares, groupCommitment, certificate, error } = columns;
    const settled = await conn.tx(async (c) => {
      const row = await one<KeyRow>(c, SQL.key, [keyId]);
      if (!row) throw new CoordinatorError('not_found', `no key ${keyId}`);
      if (fence) await checkFence(c, fence);
      const at = iso();
      const values = [keyId, status, publicKey, verifyingShares, groupCommitment, certificate, error, at];
      if ((await c.query(SQL.settleKey, values)).rowCount === 0) return undefined;
      await c.query(SQL.settleOp, [row.operation_id, status === 'active' ? 'completed' : 'failed', error, at]);
      await c.query(SQL.removeLease, ['key', keyId]);
      if (audit) await appendAuditTx(c, audit.type, audit.data);
      await notify(c, 'key', keyId);
      await notify(c, 'operation', row.operation_id);
      return row.operation_id;
    });
    if (settled !== undefined) {
      notifier.settled('key', keyId);
      notifier.settled('operation', settled);
    }
  };

  const settleSignature: SettleTransactions['settleSignature'] = async (id, status, fields, audit, fence) => {
    const { signature, signatures, finalized, signers, error } = signatureColumns(fields);
    const changed = await conn.tx(async (c) => {
      if (!(await one(c, SQL.sig, [id]))) throw new CoordinatorError('not_found', `no signature ${id}`);
      if (fence) await checkFence(c, fence);
      const r = await c.query(SQL.settleSig, [id, status, signature, signatures, finalized, signers, error, iso()]);
      if (r.rowCount === 0) return false;
      await c.query(SQL.removeLease, ['signature', id]);
      if (audit) await appendAuditTx(c, audit.type, audit.data);
      await notify(c, 'signature', id);
      return true;
    });
    if (changed) notifier.settled('signature', id);
  };

  /** The operation row is updated first: its row lock makes a concurrent settle wait, then find it settled. */
  const settleOperation: SettleTransactions['settleOperation'] = async (id, status, error, change, audit, fence) => {
    const settled = await conn.tx(async (c) => {
      const op = await one<OperationRow>(c, SQL.op, [id]);
      if (!op) throw new CoordinatorError('not_found', `no operation ${id}`);
      if (fence) await checkFence(c, fence);
      if ((await c.query(SQL.settleOp, [id, status, error ? JSON.stringify(error) : null, iso()])).rowCount === 0) return undefined;
      if (change) await applyKeyChange(c, op.key_id, change);
      await c.query(SQL.removeLease, ['operation', id]);
      if (audit) await appendAuditTx(c, audit.type, audit.data);
      await notify(c, 'operation', id);
      if (change?.material) await c.query(SQL.notify, [`key_switched:${op.key_id}`]);
      return { keyId: op.key_id, switched: change?.material !== undefined };
    });
    if (!settled) return;
    notifier.settled('operation', id);
    if (settled.switched) switched(settled.keyId);
  };

  /** The key's lineage link and successor material, fenced on its generation (throws `operation_conflict`). */
  async function applyKeyChange(c: Tx, keyId: string, change: KeyChange): Promise<void> {
    const row = await one<KeyRow>(c, SQL.keyForUpdate, [keyId]);
    if (!row) throw new CoordinatorError('not_found', `no key ${keyId}`);
    const next = keyChangeColumns(keyFromRow(row), change);
    const r = await c.query(SQL.changeKey, [
      keyId,
      change.expectedGeneration,
      next.threshold,
      next.parties,
      next.verifyingShares,
      next.groupCommitment,
      next.generation,
      next.lineage,
    ]);
    if (r.rowCount === 0) {
      throw new CoordinatorError('operation_conflict', `key ${keyId} is not at generation ${change.expectedGeneration} (or not active)`);
    }
    // The parties drop their nonces of the key on a switch or repair: its unused commitments die with them.
    await c.query(RETIRE_OFFLINE_COMMITMENTS, [change.link.sessionId, iso(), keyId]);
  }

  const rowOf = { key: SQL.key, signature: SQL.sig, operation: SQL.op } satisfies Record<SettleKind, string>;
  async function isSettled(kind: SettleKind, id: string): Promise<boolean | undefined> {
    const [r] = await conn.query<{ status: string }>(rowOf[kind], [id]);
    return r ? isSettledStatus(kind, r.status) : undefined;
  }

  const fetchLimit = (limit: number) => limit + 1;

  const store: Store = {
    async ping() {
      try {
        await conn.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      notifier.close();
      switchListeners.clear();
      await listener.close();
      await conn.end();
    },

    createKey(key, claim) {
      return create(claim, async (c) => {
        await c.query(SQL.insertKey, [
          key.keyId,
          key.operationId,
          key.label,
          key.suite,
          key.threshold,
          JSON.stringify(key.parties),
          key.createdAt,
          key.requestedBy,
        ]);
        await c.query(SQL.insertOp, [key.operationId, key.keyId, 'dkg', key.createdAt]);
        await c.query(SQL.insertLease, ['key', key.keyId]);
        await appendAuditTx(c, 'key_requested', keyRequestedEvent(key));
        await recordIdempotency(c, claim, key.createdAt);
        return keyFromRow((await one<KeyRow>(c, SQL.key, [key.keyId])) as KeyRow);
      });
    },
    async getKey(keyId) {
      const [r] = await conn.query<KeyRow>(SQL.key, [keyId]);
      return r ? keyFromRow(r) : undefined;
    },
    async listKeys(p) {
      return pageOf(
        'keys',
        await conn.query<KeyRow>(SQL.keysAfter, [decodeCursor('keys', p.cursor), fetchLimit(p.limit)]),
        p.limit,
        keyFromRow,
      );
    },
    async listPendingKeys() {
      return (await conn.query<KeyRow>(SQL.pendingKeys)).map(keyFromRow);
    },
    ...settleMethods({ settleKey, settleSignature, settleOperation }),

    createSignature(sig, claim, caps) {
      return create(claim, async (c) => {
        assertKeyActive(await one<KeyRow>(c, SQL.key, [sig.keyId]));
        if (caps) await assertCapacity(c, sig.keyId, caps);
        await c.query(SQL.insertSig, [
          sig.signatureId,
          sig.keyId,
          sig.intent.type === 'raw' ? sig.intent.message : null,
          JSON.stringify(sig.intent),
          sig.context === null ? null : JSON.stringify(sig.context),
          JSON.stringify(sig.approvals),
          sig.status,
          sig.createdAt,
          sig.deadline,
          sig.requestedBy,
        ]);
        await c.query(SQL.insertLease, ['signature', sig.signatureId]);
        await appendAuditTx(c, 'signature_requested', signatureRequestedEvent(sig));
        await recordIdempotency(c, claim, sig.createdAt);
        return signatureFromRow((await one<SignatureRow>(c, SQL.sig, [sig.signatureId])) as SignatureRow);
      });
    },
    async getSignature(id) {
      const [r] = await conn.query<SignatureRow>(SQL.sig, [id]);
      return r ? signatureFromRow(r) : undefined;
    },
    async listSignatures(keyId, p) {
      const scope = `signatures:${keyId}` as const;
      const rows = await conn.query<SignatureRow>(SQL.sigsAfter, [keyId, decodeCursor(scope, p.cursor), fetchLimit(p.limit)]);
      return pageOf(scope, rows, p.limit, signatureFromRow);
    },
    async listAllSignatures(p, status) {
      if (status === undefined) {
        const rows = await conn.query<SignatureRow>(SQL.allSigsAfter, [decodeCursor('signatures', p.cursor), fetchLimit(p.limit)]);
        return pageOf('signatures', rows, p.limit, signatureFromRow);
      }
      const scope = `signatures:status:${status}` as const;
      const rows = await conn.query<SignatureRow>(SQL.sigsInStatusAfter, [status, decodeCursor(scope, p.cursor), fetchLimit(p.limit)]);
      return pageOf(scope, rows, p.limit, signatureFromRow);
    },
    async listUnsettledSignatures() {
      return (await conn.query<SignatureRow>(SQL.unsettledSigs)).map(signatureFromRow);
    },
    async markSigning(id, fence) {
      await conn.tx(async (c) => {
        if (!(await one(c, SQL.sig, [id]))) throw new CoordinatorError('not_found', `no signature ${id}`);
        if (fence) await checkFence(c, fence);
        await c.query(SQL.markSigning, [id]);
      });
    },
    async addExcluded(id, e, audit, fence) {
      await conn.tx(async (c) => {
        // Locked: two writers of one request's exclusions must not lose each other's.
        const row = await one<SignatureRow>(c, SQL.sigForUpdate, [id]);
        if (!row) throw new CoordinatorError('not_found', `no signature ${id}`);
        if (fence) await checkFence(c, fence);
        const excluded = withExclusion(row.excluded, e);
        if (excluded === undefined) return;
        await c.query(SQL.setExcluded, [id, excluded]);
        if (audit) await appendAuditTx(c, audit.type, audit.data);
      });
    },

    async addApproval(id, approval, opts, audit) {
      return conn.tx(async (c): Promise<SignatureRecord | 'stale' | IdempotencyRecord> => {
        // Locked first: approvals of one request on several instances take turns, and a retry under
        // the same idempotency key waits for the first one to commit, then finds its record.
        const row = await one<SignatureRow>(c, SQL.sigForUpdate, [id]);
        const previous = await previousFor(c, opts.idempotency);
        if (previous) return previous;
        const update = approvalUpdate(row, approval, opts);
        if (update === 'stale') return 'stale';
        await c.query(SQL.setApprovals, [id, update.approvals, update.status, update.deadline]);
        if (opts.release) await c.query(SQL.freeLease, ['signature', id]);
        if (audit) await appendAuditTx(c, audit.type, audit.data);
        await recordIdempotency(c, opts.idempotency, iso());
        return signatureFromRow((await one<SignatureRow>(c, SQL.sig, [id])) as SignatureRow);
      });
    },
    async settleAwaiting(id, status, error, audit, claim, fence) {
      const changed = await conn.tx(async (c) => {
        if (!(await one(c, SQL.sigForUpdate, [id]))) throw new CoordinatorError('not_found', `no signature ${id}`);
        if (fence) await checkFence(c, fence);
        if ((await c.query(SQL.settleAwaiting, [id, status, errorColumn(error), iso()])).rowCount === 0) return false;
        await c.query(SQL.removeLease, ['signature', id]);
        if (audit) await appendAuditTx(c, audit.type, audit.data);
        await recordIdempotency(c, claim, iso());
        await notify(c, 'signature', id);
        return true;
      });
      if (changed) notifier.settled('signature', id);
      return changed;
    },

    async getPolicy() {
      const [r] = await conn.query<PolicyRow>(SQL.policy);
      return r ? policyFromRow(r) : undefined;
    },
    async putPolicy(p) {
      return conn.tx(async (c) => {
        // The audit lock first: two instances distributing at once decide one after the other.
        await c.query(SQL.lock, [LOCKS.audit]);
        if (!isNewPolicy(await one<PolicyRow>(c, SQL.policy, []), p)) return false;
        await c.query(SQL.insertPolicy, [p.version, p.digest, JSON.stringify(p.signed), p.distributedAt, p.distributedBy]);
        await appendAuditTx(c, 'policy_distributed', policyDistributedEvent(p));
        return true;
      });
    },

    async getOperation(id) {
      const [r] = await conn.query<OperationRow>(SQL.op, [id]);
      return r ? operationFromRow(r) : undefined;
    },
    createOperation(op, claim) {
      return create(claim, async (c) => {
        assertKeyActive(await one<KeyRow>(c, SQL.key, [op.keyId]));
        // Counted under the audit lock (create takes it first): two instances cannot both start one.
        if (op.type !== 'drill') assertNoShareOperation((await one<{ n: number }>(c, SQL.pendingShareOpsOfKey, [op.keyId]))?.n ?? 0);
        await c.query(SQL.insertLifecycleOp, [op.operationId, op.keyId, op.type, op.createdAt, JSON.stringify(op.params), op.requestedBy]);
        await c.query(SQL.insertLease, ['operation', op.operationId]);
        const { operationId, keyId, type, params, requestedBy } = op;
        await appendAuditTx(c, `${type}_requested`, { operationId, keyId, ...params, requestedBy });
        await recordIdempotency(c, claim, op.createdAt);
        return operationFromRow((await one<OperationRow>(c, SQL.op, [operationId])) as OperationRow);
      });
    },
    async setOperationProgress(id, progress, fence) {
      await conn.tx(async (c) => {
        if (!(await one(c, SQL.op, [id]))) throw new CoordinatorError('not_found', `no operation ${id}`);
        if (fence) await checkFence(c, fence);
        await c.query(SQL.setOpProgress, [id, JSON.stringify(progress)]);
      });
    },
    async listActiveKeysOf(partyId) {
      return (await conn.query<KeyRow>(SQL.activeKeysOf, [partyId])).map(keyFromRow);
    },
    onKeySwitched(listener) {
      switchListeners.add(listener);
      return () => switchListeners.delete(listener);
    },

    async getIdempotency(scope) {
      const [r] = await conn.query<IdempotencyRow>(SQL.idem, [scope.key, scope.route, scope.tokenName]);
      return r ? idempotencyFromRow(r) : undefined;
    },

    async putToken(name, role, tokenSha256, source = 'cli') {
      const [r] = await conn.query<TokenRow>(SQL.putToken, [name, tokenSha256, role, source, iso()]);
      return tokenFromRow(r as TokenRow);
    },
    async syncConfiguredTokens(tokens) {
      return conn.tx(async (c) => {
        // One instance at a time: two starting at once must not interleave revocations and installs.
        await c.query(SQL.lock, [LOCKS.tokens]);
        const revoked = revokedByConfiguration((await c.query<TokenRow>(SQL.tokens)).rows, tokens);
        for (const t of revoked) {
          await c.query(SQL.deleteToken, [t.name]);
          await appendAuditTx(c, 'token_revoked', revocationAudit(t));
        }
        // The same secret hashed under another name would collide on the unique hash: the
        // configuration's name wins, as `token create` under an existing name replaces it.
        for (const t of tokens) {
          const holder = await one<TokenRow>(c, SQL.tokenByHash, [t.sha256]);
          if (holder && holder.name !== t.name) await c.query(SQL.deleteToken, [holder.name]);
          if (isStoredAs(await one<TokenRow>(c, SQL.tokenByName, [t.name]), t)) continue;
          await c.query(SQL.putToken, [t.name, t.sha256, t.role, t.source, iso()]);
        }
        return revoked.map((t) => t.name);
      });
    },
    async findToken(tokenSha256) {
      const [r] = await conn.query<TokenRow>(SQL.tokenByHash, [tokenSha256]);
      return r ? tokenFromRow(r) : undefined;
    },
    async listTokens() {
      return (await conn.query<TokenRow>(SQL.tokens)).map(tokenFromRow);
    },
    async deleteToken(name) {
      return conn.tx(async (c) => ((await c.query(SQL.deleteToken, [name])).rowCount ?? 0) > 0);
    },

    async appendAudit(type, data) {
      await conn.tx((c) => appendAuditTx(c, type, data));
    },
    async listAudit(p) {
      return pageOf(
        'audit',
        await conn.query<AuditRow>(SQL.auditAfter, [decodeCursor('audit', p.cursor), fetchLimit(p.limit)]),
        p.limit,
        auditFromRow,
      );
    },

    async claimWork(req) {
      const target = req.target ?? null;
      const rows = await conn.query<LeaseRow>(SQL.claim, [
        req.owner,
        req.ttlMs,
        req.limit,
        req.takeLive === true,
        target?.kind ?? null,
        target?.id ?? null,
      ]);
      return rows.map(leaseFromRow);
    },
    async renewLeases(owner, held, ttlMs) {
      if (held.length === 0) return [];
      const rows = await conn.query<LeaseRow>(SQL.renew, [
        owner,
        ttlMs,
        held.map((l) => l.kind),
        held.map((l) => l.id),
        held.map((l) => l.epoch),
      ]);
      return rows.map(leaseFromRow);
    },
    async releaseLeases(owner) {
      return conn.tx(async (c) => (await c.query(SQL.release, [owner])).rowCount ?? 0);
    },
    ...pgOffline(conn, iso),

    waitForSettled(kind, id, ms, signal) {
      return waitPolled({
        notifier,
        kind,
        id,
        ms,
        check: () => isSettled(kind, id),
        pollMs: opts.pollMs ?? 1_000,
        signal,
        closed: () => conn.closed,
      });
    },
  };
  return Object.freeze(store);
}
