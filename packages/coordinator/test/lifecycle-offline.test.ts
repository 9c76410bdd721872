/**
 * A lifecycle operation that an offline party would have to join, already pending when the
 * coordinator starts it (accepted before the party was configured offline): it fails at once with
 * `offline_party_in_committee`, the key unchanged, instead of waiting for a party that never connects.
 */
import { identityFromSeed } from '@glacis/protocol';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { nullMetrics } from '../../../test/support/in-process-cluster.js';
import { createOrchestrator, type RunningOrchestrator } from '../src/orchestrator/orchestrator.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { LifecycleType, NewOperation, Store } from '../src/store/types.js';

const person = (n: number) => identityFromSeed(new Uint8Array(32).fill(n));
// The Ed25519 base point: a valid encoding for the key's public material.
const POINT = '5866666666666666666666666666666666666666666666666666666666666666';
const PARTIES = ['p1', 'p2', 'p3'];

let store: Store;
let orch: RunningOrchestrator;
beforeEach(async () => {
  store = openSqliteStore({ path: ':memory:' });
  orch = createOrchestrator({
    identity: person(7),
    parties: new Map(PARTIES.map((p, i) => [p, person(i + 1).publicKey])),
    offlineParties: ['p3'],
    store,
    logger: pino({ level: 'silent' }),
    metrics: nullMetrics,
    dkgTimeoutMs: 1000,
    requestTimeoutMs: 1000,
  });
  await store.createKey({
    keyId: 'key_1',
    operationId: 'op_dkg',
    label: null,
    suite: 'ed25519',
    threshold: 2,
    parties: PARTIES,
    createdAt: new Date().toISOString(),
    requestedBy: 'test',
  });
  const verifyingShares = Object.fromEntries(PARTIES.map((p) => [p, POINT]));
  await store.markKeyActive('key_1', { publicKey: POINT, verifyingShares, groupCommitment: [POINT], certificate: [] });
});
afterEach(async () => {
  await orch.close();
  await store.close();
});

it.each<[LifecycleType, NewOperation['params']]>([
  ['refresh', {}],
  ['drill', {}],
  ['reshare', { threshold: 2, parties: ['p1', 'p2'] }],
  ['repair', { partyId: 'p3' }],
])('a pending %s that needs offline party p3 fails with offline_party_in_committee; the key is unchanged', async (type, params) => {
  const before = await store.getKey('key_1');
  const operationId = `op_${type}`;
  const op = {
    operationId,
    keyId: 'key_1',
    type,
    params,
    createdAt: new Date().toISOString(),
    requestedBy: 'test',
  };
  expect(await store.createOperation(op)).toMatchObject({ created: true });
  orch.onOperationCreated(operationId);
  expect(await store.waitForSettled('operation', operationId, 10_000)).toBe(true);
  expect(await store.getOperation(operationId)).toMatchObject({
    status: 'failed',
    error: { code: 'offline_party_in_committee', message: expect.stringContaining('p3') },
  });
  expect(await store.getKey('key_1')).toEqual(before);
  const audit = (await store.listAudit({ limit: 100, cursor: null })).items.map((e) => e.type);
  expect(audit.at(-1)).toBe(`${type}_failed`);
});
