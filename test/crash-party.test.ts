/**
 * DESIGN.md invariant 1 under power failure: a 2-of-3 cluster signs at least 200 messages while
 * party processes are SIGKILLed at random moments — by the test, and by the parties themselves at
 * crash points between "nonce recorded" and "share sent" (GLACIS_TEST_CRASH_POINTS). Afterwards
 * every signing package and share the coordinator saw (its wire log) is scanned — no nonce
 * commitment was ever used in two different signing packages — and so is every party's own
 * shares.log — no party released two shares with one commitment, and each chain verifies — every
 * completed signature verifies under an independent verifier, and every request ended completed
 * or failed with a reason.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CrashCluster, createActiveKey, startCrashCluster, superviseParties } from './support/crash-cluster.js';
import { verifyIndependently } from './support/independent-verify.js';
import { auditShareLogs, auditWireLog } from './support/nonce-audit.js';
import { restClient } from './support/rest-client.js';

const SIGNATURES = 200;
let crash: CrashCluster;

beforeAll(async () => {
  crash = await startCrashCluster({
    name: 'crash-party',
    crashPoints: 'nonce-recorded:0.012,share-sent:0.012',
    env: { GLACIS_SIGNING_TIMEOUT_MS: '15000' },
  });
});
afterAll(async () => {
  await crash?.stop();
});

it(`${SIGNATURES} signatures while parties are SIGKILLed at random moments: no nonce is ever used twice`, async () => {
  const { cluster, dataDir, wireLog } = crash;
  const api = restClient(cluster.baseUrl, cluster.adminToken);
  const key = await createActiveKey(cluster, 'ed25519');
  expect(key.status).toBe('active');

  // Keep every party alive: restart whichever process died (killed by us or by a crash point).
  let kills = 0;
  const supervisor = superviseParties(cluster, {
    everyMs: 50 + Math.random() * 100,
    async tick() {
      if (Math.random() < 0.03) {
        await cluster.kill(cluster.parties[Math.floor(Math.random() * cluster.parties.length)], 'SIGKILL');
        kills++;
      }
    },
  });

  // Eight requests in flight at a time, each followed to its end.
  const messages = new Map<string, Buffer>();
  const settled = new Map<string, { status: string; signature: string | null; error: { code: string; message: string } | null }>();
  let next = 0;
  async function worker(): Promise<void> {
    while (next < SIGNATURES) {
      const message = Buffer.from(`crash test ${next++}`);
      const r = await api<{ signatureId: string }>('POST', `/v1/keys/${key.keyId}/signatures`, { message: message.toString('hex') });
      expect(r.status).toBe(202);
      messages.set(r.body.signatureId, message);
      for (;;) {
        const s = await api<{ status: string; signature: string | null; error: { code: string; message: string } | null }>(
          'GET',
          `/v1/signatures/${r.body.signatureId}?wait=30000`,
        );
        if (!['pending', 'signing'].includes(s.body.status)) {
          settled.set(r.body.signatureId, s.body);
          break;
        }
      }
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker));
  const restarts = await supervisor.stop();

  const reasons = new Map<string, number>();
  for (const s of settled.values())
    if (s.error) reasons.set(`${s.error.code}: ${s.error.message.slice(0, 60)}`, (reasons.get(s.error.code) ?? 0) + 1);
  console.log('[crash-party] failure codes', Object.fromEntries(reasons));
  let completed = 0;
  for (const [id, s] of settled) {
    expect(['completed', 'failed'], `${id} ended ${s.status}`).toContain(s.status);
    if (s.status === 'completed') {
      completed++;
      expect(verifyIndependently('ed25519', key.publicKey, messages.get(id) as Buffer, s.signature as string)).toBe(true);
    } else {
      expect(s.error?.code).toBeTruthy();
      expect(s.error?.message).toBeTruthy();
    }
  }

  // Every signing package the coordinator sent, and every share it received.
  const wire = auditWireLog(wireLog);
  expect(wire.reused, 'a nonce commitment appeared in two different signing packages').toEqual([]);
  expect(wire.sharesReceived).toBeGreaterThanOrEqual(completed * 2);
  // What each party itself released: a party that reused a nonce on its own fails here.
  const released = auditShareLogs(dataDir, cluster.parties);
  expect(released.reused, 'a party released two shares with one nonce commitment').toEqual([]);
  expect(released.brokenChains, 'share logs whose hash chain does not verify').toEqual([]);
  expect(released.releases).toBeGreaterThanOrEqual(completed * 2);
  console.log(
    `[crash-party] ${completed}/${SIGNATURES} completed, ${SIGNATURES - completed} failed with a reason, ${kills} kills by the test, ${restarts - kills} self-kills at crash points, ${wire.commitments} commitments in packages and ${released.releases} releases in the parties' logs scanned`,
  );
  expect(completed).toBeGreaterThan(SIGNATURES / 10);
  // The parties' own crash points fired too: deaths between "nonce recorded" and "share sent".
  expect(restarts - kills).toBeGreaterThan(0);
}, 600_000);
