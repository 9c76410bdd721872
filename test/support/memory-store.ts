/** An in-memory OrchestratorStore for in-process tests of the orchestrator. */
import {
  type Approval,
  type Envelope,
  type Intent,
  type NonceCommitmentWire,
  rawIntent,
  type SignedPolicy,
  type SuiteId,
} from '@glacis/protocol';
import type {
  AuditRecord,
  ClaimRequest,
  ErrorInfo,
  JsonObject,
  KeyChange,
  KeyRow,
  Lease,
  LeaseFence,
  NewOperation,
  OfflineCommitment,
  OperationRecord,
  OrchestratorStore,
  SignatureOutcome,
  SignatureRow,
} from '../../packages/coordinator/src/orchestrator/store-port.js';

export interface MemoryKey extends KeyRow {
  error: { code: string; message: string } | null;
  certificate: Envelope[] | null;
}
export interface MemorySignature extends SignatureRow {
  signature: string | null;
  signatures: string[] | null;
  finalized: SignatureOutcome['finalized'] | null;
  signers: string[] | null;
  excluded: { partyId: string; reason: string }[];
  error: { code: string; message: string } | null;
}

/** An offline party's stored commitment; `usedBy` is the request that drew it. */
export interface MemoryOfflineCommitment extends OfflineCommitment {
  partyId: string;
  usedBy: string | null;
}

export class MemoryStore implements OrchestratorStore {
  readonly keys = new Map<string, MemoryKey>();
  readonly signatures = new Map<string, MemorySignature>();
  readonly operations = new Map<string, OperationRecord>();
  readonly audit: { type: string; data: Record<string, unknown> }[] = [];
  /** Work leases, as a store one process uses alone keeps them (fences are not checked here). */
  readonly leases = new Map<string, Lease>();
  /** The distributed policy the orchestrator offers to parties (set by a test). */
  policy: { signed: SignedPolicy; version: number; digest: string } | undefined;
  /** Offline parties' commitments, in arrival order (the SQLite store's `seq` order). */
  readonly offlineCommitments: MemoryOfflineCommitment[] = [];
  private readonly inboxSequences = new Map<string, number>();
  private readonly outboxSequences = new Map<string, number>();
  private waiters: (() => void)[] = [];

  /** `deadlineMs`: how long after acceptance a request's deadline falls (the API's signing timeout). */
  constructor(private readonly deadlineMs = 60_000) {}

  addKey(keyId: string, suite: SuiteId, threshold: number, parties: string[]): void {
    this.keys.set(keyId, {
      keyId,
      suite,
      threshold,
      parties: [...parties].sort(),
      status: 'pending',
      publicKey: null,
      verifyingShares: null,
      groupCommitment: null,
      error: null,
      certificate: null,
      generation: 0,
      lineage: [],
    });
    this.leases.set(`key:${keyId}`, { kind: 'key', id: keyId, owner: '', epoch: 0, expiresAt: 0 });
  }
  /** A request for `message` (hex: a raw intent) or a typed `intent`. */
  addSignature(
    signatureId: string,
    keyId: string,
    what: string | Intent,
    approvals: Approval[] = [],
    o: { status?: 'pending' | 'awaiting_approval'; deadline?: number; context?: unknown } = {},
  ): void {
    this.signatures.set(signatureId, {
      signatureId,
      keyId,
      intent: typeof what === 'string' ? rawIntent(what) : what,
      context: o.context ?? null,
      approvals,
      status: o.status ?? 'pending',
      deadline: new Date(o.deadline ?? Date.now() + this.deadlineMs).toISOString(),
      signature: null,
      signatures: null,
      finalized: null,
      signers: null,
      excluded: [],
      error: null,
    });
    this.leases.set(`signature:${signatureId}`, { kind: 'signature', id: signatureId, owner: '', epoch: 0, expiresAt: 0 });
  }
  /** Resolves when `pred` holds, re-checked after every write. */
  until(pred: () => boolean, ms = 30_000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for the store')), ms);
      const check = () => {
        if (pred()) {
          clearTimeout(t);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }
  private changed(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  private key(id: string): MemoryKey {
    const k = this.keys.get(id);
    if (!k) throw new Error(`no key ${id}`);
    return k;
  }
  private sig(id: string): MemorySignature {
    const s = this.signatures.get(id);
    if (!s) throw new Error(`no signature ${id}`);
    return s;
  }

  getKey(keyId: string) {
    return this.keys.get(keyId);
  }
  markKeyActive(
    keyId: string,
    v: { publicKey: string; verifyingShares: Record<string, string>; groupCommitment: string[]; certificate: Envelope[] },
    audit?: AuditRecord,
  ) {
    if (audit) this.audit.push(audit);
    Object.assign(this.key(keyId), { status: 'active', ...v });
    this.leases.delete(`key:${keyId}`);
    this.changed();
  }
  markKeyFailed(keyId: string, error: { code: string; message: string }, audit?: AuditRecord) {
    if (audit) this.audit.push(audit);
    Object.assign(this.key(keyId), { status: 'failed', error });
    this.leases.delete(`key:${keyId}`);
    this.changed();
  }
  getSignature(id: string) {
    return this.signatures.get(id);
  }
  markSigning(id: string) {
    this.sig(id).status = 'signing';
    this.changed();
  }
  completeSignature(id: string, v: SignatureOutcome, audit?: AuditRecord) {
    if (audit) this.audit.push(audit);
    Object.assign(this.sig(id), { status: 'completed', ...v });
    this.leases.delete(`signature:${id}`);
    this.changed();
  }
  failSignature(id: string, error: { code: string; message: string }, audit?: AuditRecord) {
    if (audit) this.audit.push(audit);
    Object.assign(this.sig(id), { status: 'failed', error });
    this.leases.delete(`signature:${id}`);
    this.changed();
  }
  rejectSignature(id: string, error: { code: string; message: string }, audit?: AuditRecord) {
    if (audit) this.audit.push(audit);
    Object.assign(this.sig(id), { status: 'rejected', error });
    this.leases.delete(`signature:${id}`);
    this.changed();
  }
  addExcluded(id: string, e: { partyId: string; reason: string }, audit?: AuditRecord) {
    if (audit) this.audit.push(audit);
    this.sig(id).excluded.push(e);
    this.changed();
  }
  settleAwaiting(id: string, status: 'rejected' | 'failed', error: { code: string; message: string }, audit?: AuditRecord) {
    const s = this.sig(id);
    if (s.status !== 'awaiting_approval') return false;
    if (audit) this.audit.push(audit);
    Object.assign(s, { status, error });
    this.leases.delete(`signature:${id}`);
    this.changed();
    return true;
  }
  /** Releases a request awaiting approval for signing (what the approvals route does): its lease is free to claim at once. */
  release(id: string, deadline = Date.now() + this.deadlineMs) {
    Object.assign(this.sig(id), { status: 'pending', deadline: new Date(deadline).toISOString() });
    const lease = this.leases.get(`signature:${id}`);
    if (lease) lease.expiresAt = 0;
    this.changed();
  }
  listUnsettledSignatures() {
    return [...this.signatures.values()].filter((s) => ['pending', 'signing', 'awaiting_approval'].includes(s.status));
  }
  getPolicy() {
    return this.policy;
  }
  listPendingKeys() {
    return [...this.keys.values()].filter((k) => k.status === 'pending');
  }
  appendAudit(type: string, data: Record<string, unknown>) {
    this.audit.push({ type, data });
  }
  claimWork(req: ClaimRequest): Lease[] {
    const now = Date.now();
    const open = [...this.leases.values()].filter(
      (l) => (req.takeLive || l.expiresAt <= now) && (!req.target || (l.kind === req.target.kind && l.id === req.target.id)),
    );
    return open.slice(0, req.limit).map((l) => {
      const taken = { ...l, owner: req.owner, epoch: l.epoch + 1, expiresAt: now + req.ttlMs };
      this.leases.set(`${l.kind}:${l.id}`, taken);
      return taken;
    });
  }
  renewLeases(owner: string, held: readonly LeaseFence[], ttlMs: number): Lease[] {
    const now = Date.now();
    return held.flatMap((f) => {
      const l = this.leases.get(`${f.kind}:${f.id}`);
      if (!l || l.owner !== owner || l.epoch !== f.epoch || l.expiresAt <= now) return [];
      l.expiresAt = now + ttlMs;
      return [{ ...l }];
    });
  }
  releaseLeases(owner: string): number {
    let n = 0;
    for (const l of this.leases.values()) {
      if (l.owner !== owner || l.expiresAt === 0) continue;
      l.expiresAt = 0;
      n++;
    }
    return n;
  }

  getOperation(id: string) {
    return this.operations.get(id);
  }
  /** Adds a lifecycle operation as the HTTP layer would (the same checks as the SQLite store). */
  createOperation(op: NewOperation) {
    const key = this.key(op.keyId);
    if (key.status !== 'active') throw new Error('key_not_active');
    const busy = [...this.operations.values()].some(
      (o) => o.keyId === op.keyId && o.status === 'pending' && op.type !== 'drill' && o.type !== 'drill',
    );
    if (busy) throw new Error('operation_in_progress');
    const record: OperationRecord = {
      operationId: op.operationId,
      keyId: op.keyId,
      type: op.type,
      status: 'pending',
      error: null,
      createdAt: op.createdAt,
      completedAt: null,
      params: op.params,
      progress: null,
      requestedBy: op.requestedBy,
    };
    this.operations.set(op.operationId, record);
    this.leases.set(`operation:${op.operationId}`, { kind: 'operation', id: op.operationId, owner: '', epoch: 0, expiresAt: 0 });
    this.audit.push({ type: `${op.type}_requested`, data: { operationId: op.operationId, keyId: op.keyId } });
    this.changed();
    return { created: true as const, record };
  }
  setOperationProgress(id: string, progress: JsonObject) {
    const op = this.operations.get(id);
    if (op) op.progress = progress;
  }
  completeOperation(id: string, change?: KeyChange, audit?: AuditRecord) {
    const op = this.operations.get(id);
    if (op?.status !== 'pending') return;
    if (change) {
      const key = this.key(op.keyId);
      if (key.generation !== change.expectedGeneration) throw new Error('operation_conflict');
      const m = change.material;
      Object.assign(key, {
        lineage: [...key.lineage, change.link],
        ...(m
          ? {
              threshold: m.threshold,
              parties: m.parties,
              verifyingShares: m.verifyingShares,
              groupCommitment: m.groupCommitment,
              generation: key.generation + 1,
            }
          : {}),
      });
    }
    if (change) for (const c of this.offlineCommitments) if (c.keyId === op.keyId && c.usedBy === null) c.usedBy = change.link.sessionId;
    if (audit) this.audit.push(audit);
    this.leases.delete(`operation:${id}`);
    Object.assign(op, { status: 'completed', completedAt: new Date().toISOString() });
    this.changed();
  }
  failOperation(id: string, error: ErrorInfo, audit?: AuditRecord) {
    const op = this.operations.get(id);
    if (op?.status !== 'pending') return;
    if (audit) this.audit.push(audit);
    this.leases.delete(`operation:${id}`);
    Object.assign(op, { status: 'failed', error, completedAt: new Date().toISOString() });
    this.changed();
  }
  listActiveKeysOf(partyId: string) {
    return [...this.keys.values()].filter((k) => k.status === 'active' && k.parties.includes(partyId));
  }

  // Offline parties, as the SQLite store keeps them (store-contract.ts, "offline parties").
  lastInboxSequence(partyId: string): number | undefined {
    return this.inboxSequences.get(partyId);
  }
  acceptInbox(partyId: string, sequence: number, commitments: readonly OfflineCommitment[]): boolean {
    const last = this.inboxSequences.get(partyId);
    if (last !== undefined && sequence <= last) return false;
    this.inboxSequences.set(partyId, sequence);
    for (const { keyId, hiding, binding } of commitments) {
      // A commitment already stored, used or not, stays as it is.
      if (this.offlineCommitments.some((c) => c.partyId === partyId && c.keyId === keyId && c.hiding === hiding)) continue;
      this.offlineCommitments.push({ partyId, keyId, hiding, binding, usedBy: null });
    }
    this.changed();
    return true;
  }
  drawOfflineCommitments(partyId: string, keyId: string, count: number, usedBy: string): NonceCommitmentWire[] {
    const drawn = this.unusedCommitments(partyId, keyId).slice(0, count);
    if (drawn.length < count) return [];
    for (const c of drawn) c.usedBy = usedBy;
    return drawn.map(({ hiding, binding }) => ({ hiding, binding }));
  }
  countOfflineCommitments(partyId: string, keyId: string): number {
    return this.unusedCommitments(partyId, keyId).length;
  }
  nextOutboxSequence(partyId: string, now: number): number {
    const next = Math.max((this.outboxSequences.get(partyId) ?? -1) + 1, now);
    this.outboxSequences.set(partyId, next);
    return next;
  }
  private unusedCommitments(partyId: string, keyId: string): MemoryOfflineCommitment[] {
    return this.offlineCommitments.filter((c) => c.partyId === partyId && c.keyId === keyId && c.usedBy === null);
  }
}
