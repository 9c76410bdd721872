/**
 * Refresh, repair, reshare and drills through the coordinator's lifecycle driver and real party
 * nodes over WebSockets, in one process (the multi-process tests in lifecycle-rest.test.ts run
 * the daemons through the REST API). After every operation the key still signs, under the public
 * key the DKG made, with a signature an independent verifier accepts.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { keyPackageHash, type PublicKeyPackage, type SUITE_IDS, toHex, utf8 } from '@glacis/protocol';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterEach, describe, expect, it } from 'vitest';
import { publicPackageOf } from '../packages/coordinator/src/orchestrator/store-port.js';
import { eventually } from './support/eventually.js';
import { type InProcessCluster, startInProcessCluster } from './support/in-process-cluster.js';
import { verifyIndependently } from './support/independent-verify.js';

let cluster: InProcessCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

let n = 0;
async function dkg(c: InProcessCluster, suite: (typeof SUITE_IDS)[number], t: number, parties: string[]) {
  const keyId = `k${++n}`;
  c.store.addKey(keyId, suite, t, parties);
  c.orchestrator.onKeyCreated(keyId);
  await c.store.until(() => c.store.keys.get(keyId)?.status !== 'pending');
  expect(c.store.keys.get(keyId)?.status).toBe('active');
  return keyId;
}

async function sign(c: InProcessCluster, keyId: string, text: string) {
  const signatureId = `s${++n}`;
  // 32 bytes: what a BIP-340 verifier takes (a sighash).
  const message = sha256(utf8(text));
  c.store.addSignature(signatureId, keyId, toHex(message));
  c.orchestrator.onSignatureRequested(signatureId);
  await c.store.until(() => ['completed', 'failed', 'rejected'].includes(c.store.signatures.get(signatureId)?.status ?? ''));
  const s = c.store.signatures.get(signatureId);
  expect(s?.error).toBeNull();
  const key = c.store.keys.get(keyId);
  expect(verifyIndependently(key?.suite ?? 'ed25519', key?.publicKey as string, message, s?.signature as string)).toBe(true);
  return s;
}

type OpType = 'refresh' | 'repair' | 'reshare' | 'drill';

/** Starts an operation as the HTTP layer would (persisted, then handed over); returns its id. */
function begin(c: InProcessCluster, keyId: string, type: OpType, params: object = {}, operationId = `op${++n}`): string {
  c.store.createOperation({ operationId, keyId, type, params: params as never, createdAt: new Date().toISOString(), requestedBy: 'test' });
  c.orchestrator.onOperationCreated(operationId);
  return operationId;
}

/** Runs an operation to its end. */
async function operate(c: InProcessCluster, keyId: string, type: OpType, params: object = {}) {
  const operationId = begin(c, keyId, type, params);
  await c.store.until(() => c.store.operations.get(operationId)?.status !== 'pending', 60_000);
  return c.store.operations.get(operationId);
}

const pkgOf = (c: InProcessCluster, keyId: string): PublicKeyPackage => {
  const k = c.store.keys.get(keyId);
  if (!k) throw new Error('no key');
  return publicPackageOf(k);
};
const partyHash = (c: InProcessCluster, party: string, keyId: string) => {
  const s = c.parties.get(party)?.keystore.get(keyId);
  return s ? keyPackageHash(s.share.public) : undefined;
};

describe('refresh', () => {
  for (const suite of ['ed25519', 'secp256k1-tr'] as const) {
    it(`${suite}: every share replaced, same public key, a new generation certified; the key signs before and after`, async () => {
      cluster = await startInProcessCluster(['p1', 'p2', 'p3']);
      const keyId = await dkg(cluster, suite, 2, ['p1', 'p2', 'p3']);
      const before = pkgOf(cluster, keyId);
      await sign(cluster, keyId, 'before');
      const op = await operate(cluster, keyId, 'refresh');
      expect(op).toMatchObject({ status: 'completed', error: null });
      const after = pkgOf(cluster, keyId);
      expect(after.publicKey).toBe(before.publicKey);
      expect(after.verifyingShares).not.toEqual(before.verifyingShares);
      expect(cluster.store.keys.get(keyId)).toMatchObject({ generation: 1, lineage: [expect.objectContaining({ operation: 'refresh' })] });
      // Each member switches when the certificate reaches it.
      await eventually(
        () => ['p1', 'p2', 'p3'].every((p) => partyHash(cluster!, p, keyId) === keyPackageHash(after)),
        'every member switched',
      );
      await sign(cluster, keyId, 'after');
      expect(cluster.store.audit.map((a) => a.type)).toContain('key_refreshed');
    });
  }

  it('with one member down it fails cleanly (parties_unavailable) and leaves the key exactly as it was; the key signs', async () => {
    cluster = await startInProcessCluster(['p1', 'p2', 'p3']);
    const keyId = await dkg(cluster, 'ed25519', 2, ['p1', 'p2', 'p3']);
    const before = pkgOf(cluster, keyId);
    await cluster.stopParty('p3');
    const op = await operate(cluster, keyId, 'refresh');
    expect(op).toMatchObject({ status: 'failed', error: { code: 'parties_unavailable' } });
    expect(pkgOf(cluster, keyId)).toEqual(before);
    expect(cluster.store.keys.get(keyId)?.generation).toBe(0);
    for (const p of ['p1', 'p2']) expect(partyHash(cluster, p, keyId)).toBe(keyPackageHash(before));
    await sign(cluster, keyId, 'still signs');
  });

  it('a member that drops out mid-way fails it and releases the members that confirmed (its signed abandonment); nothing switched, the next refresh works', async () => {
    const operationId = `op${++n}`;
    cluster = await startInProcessCluster(['p1', 'p2', 'p3'], {
      faults: {
        // p3 never gets the others' round 2: it cannot confirm. p1 and p2 get p3's and confirm.
        outbound: (partyId, env) =>
          partyId === 'p3' && env.type === 'refresh_round2' && env.sessionId === `refresh-${operationId}` ? [] : [env],
      },
    });
    const keyId = await dkg(cluster, 'ed25519', 2, ['p1', 'p2', 'p3']);
    const before = pkgOf(cluster, keyId);
    begin(cluster, keyId, 'refresh', {}, operationId);
    const staged = (p: string) => cluster?.parties.get(p)?.keystore.successions.staged(keyId);
    await eventually(() => staged('p1') !== undefined && staged('p2') !== undefined, 'p1 and p2 confirmed');
    // p3 dies (its half-done session with it) and comes back: it can never confirm.
    await cluster.stopParty('p3');
    await cluster.startParty('p3');
    await cluster.store.until(() => cluster?.store.operations.get(operationId)?.status !== 'pending');
    expect(cluster.store.operations.get(operationId)).toMatchObject({ status: 'failed', error: { code: 'party_disconnected' } });
    expect(pkgOf(cluster, keyId)).toEqual(before);
    await eventually(() => staged('p1') === undefined && staged('p2') === undefined, "staged successors released by p3's abandonment");
    for (const p of ['p1', 'p2', 'p3']) expect(partyHash(cluster, p, keyId)).toBe(keyPackageHash(before));
    await sign(cluster, keyId, 'after the failed refresh');
    expect(await operate(cluster, keyId, 'refresh')).toMatchObject({ status: 'completed' });
    await sign(cluster, keyId, 'after the second refresh');
  });

  it('a confirmation lost with a dropped link is recovered from the member when it is back: the refresh completes', async () => {
    let lost = false;
    cluster = await startInProcessCluster(['p1', 'p2', 'p3'], {
      faults: {
        inbound(partyId, msg) {
          if (partyId !== 'p3' || msg.type !== 'lifecycle_confirm' || lost) return true;
          lost = true;
          void cluster?.stopParty('p3');
          return false;
        },
      },
    });
    const keyId = await dkg(cluster, 'ed25519', 2, ['p1', 'p2', 'p3']);
    const operationId = begin(cluster, keyId, 'refresh');
    await eventually(() => lost && !cluster?.orchestrator.allConnected(['p3']), 'p3 gone with its confirmation');
    expect(cluster.store.operations.get(operationId)?.status).toBe('pending');
    await cluster.startParty('p3');
    await cluster.store.until(() => cluster?.store.operations.get(operationId)?.status !== 'pending');
    expect(cluster.store.operations.get(operationId)).toMatchObject({ status: 'completed' });
    await sign(cluster, keyId, 'after the recovered refresh');
  });
});

describe('reshare', () => {
  it('2-of-3 → 3-of-4 → 2-of-2, same public key; members reshared away destroy their shares; each generation signs', async () => {
    cluster = await startInProcessCluster(['p1', 'p2', 'p3', 'p4']);
    const keyId = await dkg(cluster, 'ed25519', 2, ['p1', 'p2', 'p3']);
    const { publicKey } = pkgOf(cluster, keyId);
    expect(await operate(cluster, keyId, 'reshare', { threshold: 3, parties: ['p1', 'p2', 'p3', 'p4'] })).toMatchObject({
      status: 'completed',
    });
    expect(cluster.store.keys.get(keyId)).toMatchObject({ threshold: 3, parties: ['p1', 'p2', 'p3', 'p4'], publicKey, generation: 1 });
    await sign(cluster, keyId, '3-of-4');
    expect(await operate(cluster, keyId, 'reshare', { threshold: 2, parties: ['p1', 'p4'] })).toMatchObject({ status: 'completed' });
    expect(cluster.store.keys.get(keyId)).toMatchObject({ threshold: 2, parties: ['p1', 'p4'], publicKey, generation: 2 });
    const s = await sign(cluster, keyId, '2-of-2');
    expect(s?.signers).toEqual(['p1', 'p4']);
    await eventually(() => ['p2', 'p3'].every((p) => cluster?.parties.get(p)?.keystore.get(keyId) === undefined), 'old members retired');
    for (const p of ['p2', 'p3']) expect(cluster.parties.get(p)?.keystore.successions.retired(keyId)).toBeDefined();
  });
});

describe('repair', () => {
  it('a member that comes back without its share is marked needsRepair and, with auto-repair, repaired by the coordinator; it signs again', async () => {
    cluster = await startInProcessCluster(['p1', 'p2', 'p3'], { autoRepair: true });
    const keyId = await dkg(cluster, 'ed25519', 2, ['p1', 'p2', 'p3']);
    const dataDir = cluster.parties.get('p2')?.dataDir as string;
    await cluster.stopParty('p2');
    rmSync(join(dataDir, 'keys', `${keyId}.json`));
    await cluster.startParty('p2');
    await cluster.store.until(
      () => [...cluster!.store.operations.values()].some((o) => o.type === 'repair' && o.status === 'completed'),
      30_000,
    );
    expect(partyHash(cluster, 'p2', keyId)).toBe(keyPackageHash(pkgOf(cluster, keyId)));
    await eventually(
      () => cluster?.orchestrator.parties().find((p) => p.partyId === 'p2')?.needsRepair.length === 0,
      'p2 no longer needs a repair',
    );
    await cluster.stopParty('p1');
    const s = await sign(cluster, keyId, 'repaired p2 signs');
    expect(s?.signers).toEqual(['p2', 'p3']);
    expect(cluster.store.keys.get(keyId)?.lineage.map((l) => l.operation)).toEqual(['repair']);
  });

  it('without auto-repair the member waits, needsRepair listed, until an admin asks for the repair', async () => {
    cluster = await startInProcessCluster(['p1', 'p2', 'p3']);
    const keyId = await dkg(cluster, 'ed25519', 2, ['p1', 'p2', 'p3']);
    const dataDir = cluster.parties.get('p3')?.dataDir as string;
    await cluster.stopParty('p3');
    rmSync(join(dataDir, 'keys', `${keyId}.json`));
    await cluster.startParty('p3');
    const needs = () => cluster?.orchestrator.parties().find((p) => p.partyId === 'p3')?.needsRepair ?? [];
    await eventually(() => needs().length > 0, 'p3 reported missing its share');
    expect(needs()).toEqual([keyId]);
    expect([...cluster.store.operations.values()].filter((o) => o.type === 'repair')).toEqual([]);
    expect(await operate(cluster, keyId, 'repair', { partyId: 'p3' })).toMatchObject({ status: 'completed' });
    await eventually(() => needs().length === 0, 'p3 no longer needs a repair');
  });
});

describe('drills', () => {
  it('every holder proves its share intact; the proofs are recorded in the operation', async () => {
    cluster = await startInProcessCluster(['p1', 'p2', 'p3']);
    const keyId = await dkg(cluster, 'ed25519', 2, ['p1', 'p2', 'p3']);
    const op = await operate(cluster, keyId, 'drill');
    expect(op).toMatchObject({ status: 'completed', progress: { proved: ['p1', 'p2', 'p3'], failed: [] } });
  });

  it('a holder that is down fails the drill, named (drill_failed)', async () => {
    cluster = await startInProcessCluster(['p1', 'p2', 'p3']);
    const keyId = await dkg(cluster, 'ed25519', 2, ['p1', 'p2', 'p3']);
    await cluster.stopParty('p2');
    const op = await operate(cluster, keyId, 'drill');
    expect(op).toMatchObject({
      status: 'failed',
      error: { code: 'drill_failed' },
      progress: { proved: ['p1', 'p3'], failed: [{ partyId: 'p2', code: 'party_unavailable' }] },
    });
  });
});
