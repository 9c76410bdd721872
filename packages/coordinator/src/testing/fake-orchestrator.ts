/**
 * A test double of the Orchestrator: configurable parties and connections, a record of every
 * hand-off, and optional automatic settling through the store (with made-up public material), so
 * HTTP tests can exercise `?wait=` and every status without real parties.
 */
import { randomBytes } from 'node:crypto';
import { CoordinatorError } from '../errors.js';
import type { OfferedPolicy, PartyPolicyStatus } from '../orchestrator/policy-relay.js';
import type { Orchestrator, PartyStatus } from '../orchestrator/types.js';
import type { KeyMaterial, Store } from '../store/types.js';

function offlineRefusal(partyId: string): CoordinatorError {
  return new CoordinatorError('party_not_offline', `${partyId} is an online party: it has no outbox or inbox`);
}

/** What the fake does when handed an id. */
export type FakeBehaviour =
  /** Nothing: the test settles through the store itself. */
  | { kind: 'manual' }
  /** Settles successfully after `delayMs`. */
  | { kind: 'succeed'; delayMs: number }
  /** Fails with `code` after `delayMs`. */
  | { kind: 'fail'; delayMs: number; code: string };

/** Options of createFakeOrchestrator. */
export interface FakeOrchestratorOptions {
  parties: readonly string[];
  /** Parties connected at start (default: all). */
  connected?: readonly string[];
  store?: Store;
  behaviour?: FakeBehaviour;
}

/** The fake, with hooks for tests. */
export interface FakeOrchestrator extends Orchestrator {
  readonly keysCreated: string[];
  readonly signaturesRequested: string[];
  readonly operationsCreated: string[];
  /** What `shareStatus` answers (default `unknown`). */
  shares: Map<string, 'held' | 'missing'>;
  /** Parties `GET /v1/parties` shows as `mode: offline` (default none). */
  readonly offline: Set<string>;
  readonly policiesDistributed: OfferedPolicy[];
  /** What each party reports of its policy; with an automatic behaviour, a distributed policy is reported in force at once. */
  readonly policyStatus: Map<string, PartyPolicyStatus>;
  connect(partyId: string): void;
  disconnect(partyId: string): void;
  behaviour: FakeBehaviour;
  /** Resolves when every scheduled settle has run. */
  idle(): Promise<void>;
}

/**
 * Made-up but well-formed public key material for `parties` (not a real key): the certificate
 * has one `dkg_confirm` envelope per party whose signature is random bytes, so it verifies nothing.
 */
export function fakeKeyMaterial(parties: readonly string[], threshold = 2, keyId = 'key_fake'): KeyMaterial {
  const point = () => `02${randomBytes(32).toString('hex')}`;
  const publicKey = randomBytes(32).toString('hex');
  const verifyingShares = Object.fromEntries(parties.map((p) => [p, point()]));
  const groupCommitment = Array.from({ length: threshold }, point);
  const body = { keyId, suite: 'ed25519', threshold, transcriptHash: '00'.repeat(32), publicKey, groupCommitment, verifyingShares };
  return {
    publicKey,
    verifyingShares,
    groupCommitment,
    certificate: parties.map((from, i) => ({
      v: 1,
      type: 'dkg_confirm',
      sessionId: `dkg-${keyId}`,
      from,
      to: 'coordinator',
      seq: i + 1,
      body,
      signature: randomBytes(64).toString('hex'),
    })),
  };
}

/** A fake Orchestrator. */
export function createFakeOrchestrator(options: FakeOrchestratorOptions): FakeOrchestrator {
  const connected = new Set(options.connected ?? options.parties);
  const lastSeen = new Map<string, string>();
  const pending = new Set<Promise<void>>();
  const identityKeys = new Map(options.parties.map((p) => [p, randomBytes(32).toString('hex')]));

  const later = (delayMs: number, fn: () => Promise<void>) => {
    const p = new Promise<void>((resolve) => setTimeout(resolve, delayMs)).then(fn).finally(() => pending.delete(p));
    pending.add(p);
  };

  const fake: FakeOrchestrator = {
    keysCreated: [],
    signaturesRequested: [],
    operationsCreated: [],
    shares: new Map(),
    offline: new Set(),
    policiesDistributed: [],
    policyStatus: new Map(),
    behaviour: options.behaviour ?? { kind: 'manual' },
    parties(): PartyStatus[] {
      return [...options.parties].sort().map((partyId) => ({
        partyId,
        identityKey: identityKeys.get(partyId) as string,
        connected: connected.has(partyId),
        mode: fake.offline.has(partyId) ? ('offline' as const) : ('online' as const),
        lastSeenAt: lastSeen.get(partyId) ?? null,
        ready: 0,
        excludedCount: 0,
        latencyMs: null,
        needsRepair: [],
        policy: fake.policyStatus.get(partyId) ?? null,
      }));
    },
    onPolicyDistributed(p) {
      fake.policiesDistributed.push(p);
      if (fake.behaviour.kind === 'manual') return;
      const reportedAt = new Date().toISOString();
      for (const partyId of connected)
        fake.policyStatus.set(partyId, { source: 'signed', version: p.version, digest: p.digest, reportedAt, refused: null });
    },
    async waitPolicySettled(digest) {
      return [...connected].every((p) => fake.policyStatus.get(p)?.digest === digest);
    },
    // As the real one: an offline party is reached through its outbox, never waited for.
    allConnected: (ids) => ids.every((p) => connected.has(p) || fake.offline.has(p)),
    // Every fake party is online: the offline routes answer as for one (docs/offline.md).
    async offlineOutbox(partyId) {
      throw offlineRefusal(partyId);
    },
    async offlineInbox(partyId) {
      throw offlineRefusal(partyId);
    },
    onKeyCreated(keyId) {
      fake.keysCreated.push(keyId);
      const b = fake.behaviour;
      const store = options.store;
      if (b.kind === 'manual' || !store) return;
      later(b.delayMs, async () => {
        const key = await store.getKey(keyId);
        if (!key) return;
        if (b.kind === 'succeed') await store.markKeyActive(keyId, fakeKeyMaterial(key.parties, key.threshold, keyId));
        else await store.markKeyFailed(keyId, { code: b.code, message: 'the fake orchestrator failed this DKG' });
      });
    },
    onSignatureRequested(signatureId) {
      fake.signaturesRequested.push(signatureId);
      const b = fake.behaviour;
      const store = options.store;
      if (b.kind === 'manual' || !store) return;
      later(b.delayMs, async () => {
        const sig = await store.getSignature(signatureId);
        const key = sig && (await store.getKey(sig.keyId));
        if (!sig || !key) return;
        await store.markSigning(signatureId);
        if (b.kind === 'succeed') {
          await store.completeSignature(signatureId, {
            signature: randomBytes(64).toString('hex'),
            signers: key.parties.slice(0, key.threshold),
          });
        } else {
          await store.failSignature(signatureId, { code: b.code, message: 'the fake orchestrator failed this request' });
        }
      });
    },
    onOperationCreated(operationId) {
      fake.operationsCreated.push(operationId);
      const b = fake.behaviour;
      const store = options.store;
      if (b.kind === 'manual' || !store) return;
      later(b.delayMs, async () => {
        if (b.kind === 'succeed') await store.completeOperation(operationId);
        else await store.failOperation(operationId, { code: b.code, message: 'the fake orchestrator failed this operation' });
      });
    },
    shareStatus: (keyId, partyId) => fake.shares.get(`${keyId}:${partyId}`) ?? 'unknown',
    connect(partyId) {
      connected.add(partyId);
      lastSeen.set(partyId, new Date().toISOString());
    },
    disconnect(partyId) {
      connected.delete(partyId);
    },
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
  return fake;
}
