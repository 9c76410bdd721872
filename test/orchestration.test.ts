import { fromHex, getSuite, SUITE_IDS, toHex, utf8 } from '@glacis/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSessionId } from '../packages/coordinator/src/orchestrator/session-id.js';
import { type InProcessCluster, startInProcessCluster } from './support/in-process-cluster.js';
// @ts-expect-error plain ESM module without types
import { corruptShares } from './support/party-faults.mjs';

let cluster: InProcessCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function dkg(c: InProcessCluster, keyId: string, suite: (typeof SUITE_IDS)[number], t: number, parties: string[]) {
  c.store.addKey(keyId, suite, t, parties);
  c.orchestrator.onKeyCreated(keyId);
  await c.store.until(() => c.store.keys.get(keyId)?.status !== 'pending');
  return c.store.keys.get(keyId)!;
}

async function sign(c: InProcessCluster, signatureId: string, keyId: string, message: Uint8Array) {
  c.store.addSignature(signatureId, keyId, toHex(message));
  c.orchestrator.onSignatureRequested(signatureId);
  await c.store.until(() => ['completed', 'failed', 'rejected'].includes(c.store.signatures.get(signatureId)?.status ?? ''));
  return c.store.signatures.get(signatureId)!;
}

describe('orchestration over WebSockets (in-process)', () => {
  for (const suite of SUITE_IDS) {
    it(`${suite}: DKG 2-of-3 then two signatures verify`, async () => {
      cluster = await startInProcessCluster(['p1', 'p2', 'p3']);
      const key = await dkg(cluster, 'k1', suite, 2, ['p1', 'p2', 'p3']);
      expect(key.error).toBeNull();
      expect(key.status).toBe('active');
      for (const i of [1, 2]) {
        const msg = utf8(`transfer ${i}`);
        const s = await sign(cluster, `s${i}`, 'k1', msg);
        expect(s.error).toBeNull();
        expect(s.status).toBe('completed');
        expect(getSuite(suite).verify(fromHex(s.signature!), msg, fromHex(key.publicKey!))).toBe(true);
      }
    });
  }

  it('signs 2-of-3 with one party stopped', async () => {
    cluster = await startInProcessCluster(['p1', 'p2', 'p3']);
    const key = await dkg(cluster, 'k1', 'ed25519', 2, ['p1', 'p2', 'p3']);
    await cluster.stopParty('p2');
    const s = await sign(cluster, 's1', 'k1', utf8('one down'));
    expect(s.status).toBe('completed');
    expect(s.signers).not.toContain('p2');
    expect(getSuite('ed25519').verify(fromHex(s.signature!), utf8('one down'), fromHex(key.publicKey!))).toBe(true);
  });

  it('fails with insufficient_parties when fewer than t can sign', async () => {
    cluster = await startInProcessCluster(['p1', 'p2', 'p3'], { requestTimeoutMs: 1_000 });
    await dkg(cluster, 'k1', 'ed25519', 2, ['p1', 'p2', 'p3']);
    await cluster.stopParty('p2');
    await cluster.stopParty('p3');
    const s = await sign(cluster, 's1', 'k1', utf8('alone'));
    expect(s.status).toBe('failed');
    expect(s.error?.code).toBe('insufficient_parties');
  });

  it('a party that sends invalid shares (its own transport fault) is excluded by name; the others sign', async () => {
    cluster = await startInProcessCluster(['p1', 'p2', 'p3'], { partyFaults: { p2: corruptShares(() => 'ed25519') } });
    const key = await dkg(cluster, 'k1', 'ed25519', 2, ['p1', 'p2', 'p3']);
    // The cheater must be in a session to be caught: sign until it was asked once.
    const sigs: Awaited<ReturnType<typeof sign>>[] = [];
    for (let i = 0; i < 6 && !sigs.some((s) => s.excluded.length > 0); i++) sigs.push(await sign(cluster, `s${i}`, 'k1', utf8(`m${i}`)));
    for (const [i, s] of sigs.entries()) {
      expect(s.status).toBe('completed');
      expect(s.signers).not.toContain('p2');
      expect(getSuite('ed25519').verify(fromHex(s.signature!), utf8(`m${i}`), fromHex(key.publicKey!))).toBe(true);
    }
    expect(sigs.flatMap((s) => s.excluded)).toEqual([{ partyId: 'p2', reason: expect.stringMatching(/^invalid_signature_share/) }]);
  });

  it('a DKG with a party offline fails with parties_unavailable', async () => {
    cluster = await startInProcessCluster(['p1', 'p2', 'p3']);
    await cluster.stopParty('p3');
    const key = await dkg(cluster, 'k1', 'ed25519', 2, ['p1', 'p2', 'p3']);
    expect(key.status).toBe('failed');
    expect(key.error?.code).toBe('parties_unavailable');
  });
});

describe('per-party state', () => {
  it('reports connection, readiness, exclusions and signing latency per party', async () => {
    cluster = await startInProcessCluster(['p1', 'p2', 'p3']);
    await dkg(cluster, 'k1', 'ed25519', 2, ['p1', 'p2', 'p3']);
    expect((await sign(cluster, 's1', 'k1', utf8('measure me'))).status).toBe('completed');
    await cluster.stopParty('p3');
    const byId = new Map(cluster.orchestrator.parties().map((p) => [p.partyId, p]));
    expect(byId.get('p3')).toMatchObject({ connected: false, excludedCount: 0 });
    const signers = cluster.store.signatures.get('s1')!.signers!;
    for (const p of signers) {
      expect(byId.get(p)?.connected).toBe(true);
      expect(byId.get(p)?.latencyMs).toBeGreaterThan(0);
    }
  });
});

describe('preprocessed commitments', () => {
  it('after the first request, signing needs one round trip: no per-request commit requests', async () => {
    const perRequest: string[] = [];
    cluster = await startInProcessCluster(['p1', 'p2', 'p3'], {
      faults: {
        outbound(_partyId, env) {
          if (env.type === 'commit_request' && parseSessionId(env.sessionId)?.kind === 'commit') perRequest.push(env.sessionId);
          return [env];
        },
      },
    });
    await dkg(cluster, 'k1', 'ed25519', 2, ['p1', 'p2', 'p3']);
    expect((await sign(cluster, 's1', 'k1', utf8('warm up'))).status).toBe('completed');
    const afterFirst = perRequest.length;
    expect(afterFirst).toBeGreaterThan(0); // the pool was empty
    for (let i = 2; i <= 5; i++) {
      const s = await sign(cluster, `s${i}`, 'k1', utf8(`pooled ${i}`));
      expect(s.status).toBe('completed');
    }
    expect(perRequest.length).toBe(afterFirst);
  });
});
