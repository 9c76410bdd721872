/**
 * The orchestrator of the offline-party inbox tests: SQLite in memory, the parties pinned, some of
 * them offline, and active keys with made-up public material (the inbox checks who may send what
 * for a key; it never does arithmetic on the key's points).
 */
import { randomBytes } from 'node:crypto';
import { type IdentityKey, identityFromSeed } from '@glacis/protocol';
import { pino } from 'pino';
import { nullMetrics } from '../../../test/support/in-process-cluster.js';
import { createOrchestrator, type RunningOrchestrator } from '../src/orchestrator/orchestrator.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { Store } from '../src/store/types.js';

export const rng = (n = 32) => new Uint8Array(randomBytes(n));
/** A fixed identity per number: the coordinator is person(7). */
export const person = (n: number) => identityFromSeed(new Uint8Array(32).fill(n));
/** The Ed25519 base point: a valid element encoding. */
export const POINT = '5866666666666666666666666666666666666666666666666666666666666666';

export interface OfflineOrchestrator {
  store: Store;
  orch: RunningOrchestrator;
  /** An active 2-of-n ed25519 key of `parties`. */
  activeKey(keyId: string, parties: string[]): Promise<void>;
  close(): Promise<void>;
}

/** An orchestrator pinning `parties`, `offline` of them reached by bundles. */
export function offlineOrchestrator(parties: Record<string, IdentityKey>, offline: string[]): OfflineOrchestrator {
  const store = openSqliteStore({ path: ':memory:' });
  const orch = createOrchestrator({
    identity: person(7),
    parties: new Map(Object.entries(parties).map(([name, id]) => [name, id.publicKey])),
    offlineParties: offline,
    store,
    logger: pino({ level: 'silent' }),
    metrics: nullMetrics,
    dkgTimeoutMs: 1000,
    requestTimeoutMs: 1000,
  });
  return {
    store,
    orch,
    async activeKey(keyId, members) {
      await store.createKey({
        keyId,
        operationId: `op_${keyId}`,
        label: null,
        suite: 'ed25519',
        threshold: 2,
        parties: members,
        createdAt: new Date().toISOString(),
        requestedBy: 'test',
      });
      const verifyingShares = Object.fromEntries(members.map((p) => [p, POINT]));
      await store.markKeyActive(keyId, { publicKey: POINT, verifyingShares, groupCommitment: [POINT, POINT], certificate: [] });
    },
    async close() {
      await orch.close();
      await store.close();
    },
  };
}
