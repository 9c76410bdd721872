/**
 * `npm run soak`: DESIGN.md invariants 1 and 3 under a few minutes of sustained abuse. A 2-of-3
 * cluster signs under closed-loop load while the test SIGKILLs party processes at least
 * PARTY_KILLS times and the coordinator at least COORDINATOR_KILLS times (the parties also kill
 * themselves at crash points between "nonce recorded" and "share sent"), restarting each. Then:
 *
 * - the kill counts were reached;
 * - no nonce was used twice — neither in what the coordinator sent (its wire log: no commitment in
 *   two different signing packages) nor in what any party released (its own shares.log: no
 *   commitment twice, chain intact);
 * - no invalid signature — every completed one verifies under an independent verifier;
 * - no accepted request lost — every 2xx ends completed, failed or rejected, with a reason, and
 *   each idempotency key names one request across every crash.
 *
 * It runs only under GLACIS_SOAK=1 (`npm run soak`, its own CI step): a plain `npm test` skips it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliveParties, type CrashCluster, createActiveKey, startCrashCluster, superviseParties } from '../support/crash-cluster.js';
import { verifyIndependently } from '../support/independent-verify.js';
import { auditShareLogs, auditWireLog } from '../support/nonce-audit.js';
import { restClient } from '../support/rest-client.js';

type SignatureView = { status: string; signature: string | null; error: { code: string; message: string } | null };

const PARTY_KILLS = Number(process.env.GLACIS_SOAK_PARTY_KILLS ?? 200);
const COORDINATOR_KILLS = Number(process.env.GLACIS_SOAK_COORDINATOR_KILLS ?? 50);
// Accepted requests that show the load kept going: one per four party kills (50 at the defaults),
// so a shorter run (GLACIS_SOAK_PARTY_KILLS=20, to try it out) asks for proportionally fewer.
const MIN_ACCEPTED = Math.ceil(PARTY_KILLS / 4);
const CLIENTS = 6;
const IN_FLIGHT = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(process.env.GLACIS_SOAK === '1')('soak', () => {
  let crash: CrashCluster;

  beforeAll(async () => {
    crash = await startCrashCluster({
      name: 'soak',
      crashPoints: 'nonce-recorded:0.01,share-sent:0.01',
      env: { GLACIS_SIGNING_TIMEOUT_MS: '60000', GLACIS_LOG_LEVEL: 'warn' },
    });
  });
  afterAll(async () => {
    await crash?.stop();
  });

  it(`soak: ≥ ${PARTY_KILLS} party and ≥ ${COORDINATOR_KILLS} coordinator SIGKILLs under load; no nonce reused, no request lost, no invalid signature`, async () => {
    const { cluster, dataDir, wireLog } = crash;
    const api = restClient(cluster.baseUrl, cluster.adminToken);
    const key = await createActiveKey(cluster, 'ed25519');
    expect(key.status).toBe('active');

    const accepted = new Map<string, Buffer>(); // signatureId → message, for every 2xx
    const idsByIdemKey = new Map<string, Set<string>>();
    let loading = true;

    /** GET until the request has settled, through coordinator outages. */
    async function follow(id: string): Promise<SignatureView> {
      for (;;) {
        try {
          const s = await api<SignatureView>('GET', `/v1/signatures/${id}?wait=5000`);
          if (s.status === 200 && !['pending', 'signing'].includes(s.body.status)) return s.body;
          if (s.status !== 200 && s.status < 500) throw new Error(`GET ${id}: ${s.status} ${JSON.stringify(s.body)}`);
        } catch (e) {
          if ((e as Error).message.startsWith('GET ')) throw e;
          await sleep(50);
        }
      }
    }

    /** One request, retried with its Idempotency-Key (through outages) until accepted; its id. */
    async function submit(n: number): Promise<string> {
      const idem = randomUUID();
      const message = createHash('sha256').update(`soak ${n}`).digest();
      for (;;) {
        let r: { status: number; body: { signatureId: string } };
        try {
          r = await api('POST', `/v1/keys/${key.keyId}/signatures`, { message: message.toString('hex') }, { 'idempotency-key': idem });
        } catch {
          await sleep(50); // the coordinator is down: retry
          continue;
        }
        if (r.status >= 500) {
          await sleep(50);
          continue;
        }
        expect([200, 202], JSON.stringify(r.body)).toContain(r.status);
        const ids = idsByIdemKey.get(idem) ?? new Set();
        ids.add(r.body.signatureId);
        idsByIdemKey.set(idem, ids);
        accepted.set(r.body.signatureId, message);
        return r.body.signatureId;
      }
    }

    // Each client keeps up to IN_FLIGHT requests going, following its oldest to its end before
    // adding one: CLIENTS × IN_FLIGHT requests signing at a time, through every crash.
    const load = Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        const mine: string[] = [];
        for (let i = 0; loading; i++) {
          mine.push(await submit(c * 1_000_000 + i));
          if (mine.length >= IN_FLIGHT) await follow(mine.shift() as string);
        }
        for (const id of mine) await follow(id);
      }),
    );

    // Parties: the supervisor restarts whatever died (killed here or at a crash point).
    let partyKills = 0;
    const supervisor = superviseParties(cluster, { everyMs: 40 });
    const partyKiller = (async () => {
      while (partyKills < PARTY_KILLS) {
        await sleep(200 + Math.random() * 500);
        const alive = aliveParties(cluster);
        if (alive.length === 0) continue;
        await cluster.kill(alive[Math.floor(Math.random() * alive.length)], 'SIGKILL');
        partyKills++;
      }
    })();
    let coordinatorKills = 0;
    const coordinatorKiller = (async () => {
      while (coordinatorKills < COORDINATOR_KILLS) {
        await sleep(500 + Math.random() * 2000);
        await cluster.kill('coordinator', 'SIGKILL');
        coordinatorKills++;
        cluster.startCoordinator();
        await cluster.waitCoordinator();
      }
    })();
    await Promise.all([partyKiller, coordinatorKiller]);
    // The load stops; the supervisor keeps restarting parties (crash points still fire) until
    // every accepted request has been followed to its end below.
    loading = false;
    await load;

    // No accepted request lost: each ends with an outcome, and a reason when it did not complete.
    const outcomes = new Map<string, number>();
    let completed = 0;
    for (const [id, message] of accepted) {
      const s = await follow(id);
      outcomes.set(s.status, (outcomes.get(s.status) ?? 0) + 1);
      expect(['completed', 'failed', 'rejected'], `${id} ended ${s.status}`).toContain(s.status);
      if (s.status === 'completed') {
        completed++;
        expect(verifyIndependently('ed25519', key.publicKey, message, s.signature as string), `${id}: invalid signature`).toBe(true);
      } else {
        expect(s.error?.code, `${id} ${s.status} without a code`).toBeTruthy();
        expect(s.error?.message, `${id} ${s.status} without a message`).toBeTruthy();
      }
    }
    for (const [idem, ids] of idsByIdemKey) expect(ids.size, `idempotency key ${idem} named several requests`).toBe(1);
    const partyRestarts = await supervisor.stop();

    // No nonce used twice: what the coordinator sent, and what each party released.
    const wire = auditWireLog(wireLog);
    const released = auditShareLogs(dataDir, cluster.parties);
    console.log(
      `[soak] ${partyKills} party kills by the test, ${partyRestarts - partyKills} at crash points, ${coordinatorKills} coordinator kills; ` +
        `${accepted.size} requests accepted: ${JSON.stringify(Object.fromEntries(outcomes))}; ` +
        `${wire.packagesSent} packages and ${released.releases} releases scanned`,
    );
    expect(partyKills).toBeGreaterThanOrEqual(PARTY_KILLS);
    expect(coordinatorKills).toBeGreaterThanOrEqual(COORDINATOR_KILLS);
    expect(wire.reused, 'a nonce commitment appeared in two different signing packages').toEqual([]);
    expect(released.reused, 'a party released two shares with one nonce commitment').toEqual([]);
    expect(released.brokenChains, 'share logs whose hash chain does not verify').toEqual([]);
    expect(accepted.size, 'the load kept going through the kills').toBeGreaterThanOrEqual(MIN_ACCEPTED);
    expect(completed, 'signing kept completing through the kills').toBeGreaterThan(0);
  }, 1_500_000);
});
