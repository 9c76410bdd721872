/**
 * DESIGN.md invariant 1 under power failure: a 2-of-3 cluster signs at least 200 messages while
 * party processes are SIGKILLed at random moments — by the test, and by the parties themselves at
 * crash points between "nonce recorded" and "share sent" (GLACIS_TEST_CRASH_POINTS). Afterwards
 * every signing package and share the coordinator saw (its wire log) is scanned: no nonce
 * commitment was ever used in two different signing packages, every completed signature verifies
 * under an independent verifier, and every request ended completed or failed with a reason.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, type Envelope, type MessageBody } from '@glacis/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { startLocalCluster } from '../scripts/local-cluster.mjs';
import { verifyIndependently } from './support/independent-verify.js';
import { restClient } from './support/rest-client.js';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;
const SIGNATURES = 200;
const dataDir = mkdtempSync(join(tmpdir(), 'glacis-crash-party-'));
const wireLog = join(dataDir, 'wire.jsonl');
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startLocalCluster({
    dataDir,
    port: 0,
    parties: 3,
    env: { GLACIS_WIRE_LOG: wireLog, GLACIS_SIGNING_TIMEOUT_MS: '15000' },
    partyEnv: { GLACIS_TEST_CRASH_POINTS: 'nonce-recorded:0.012,share-sent:0.012' },
  });
});
afterAll(async () => {
  await cluster?.stop();
  if (!process.env.GLACIS_KEEP_TEST_DATA) rmSync(dataDir, { recursive: true, force: true });
});

it(`${SIGNATURES} signatures while parties are SIGKILLed at random moments: no nonce is ever used twice`, async () => {
  const api = restClient(cluster.baseUrl, cluster.adminToken);
  const key = (
    await api<{ keyId: string; publicKey: string; status: string }>('POST', '/v1/keys?wait=30000', { suite: 'ed25519', threshold: 2 })
  ).body;
  expect(key.status).toBe('active');

  // Keep every party alive: restart whichever process died (killed by us or by a crash point).
  let running = true;
  let kills = 0;
  let restarts = 0;
  const supervisor = (async () => {
    while (running) {
      for (const name of cluster.parties) {
        const child = cluster.children.get(name);
        if (child && (child.exitCode !== null || child.signalCode !== null)) {
          cluster.startParty(name);
          restarts++;
        }
      }
      if (Math.random() < 0.03) {
        const victim = cluster.parties[Math.floor(Math.random() * cluster.parties.length)];
        await cluster.kill(victim, 'SIGKILL');
        kills++;
      }
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  })();

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
  running = false;
  await supervisor;

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
  const envelopes = readFileSync(wireLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { dir: 'in' | 'out'; party: string; envelope: Envelope });
  const packagesByCommitment = new Map<string, Set<string>>();
  let shares = 0;
  for (const { dir, envelope } of envelopes) {
    if (dir === 'in' && envelope.type === 'signature_share') shares++;
    if (dir !== 'out' || envelope.type !== 'signing_package') continue;
    const pkg = envelope.body as MessageBody<'signing_package'>;
    // A package is identified by everything a signer signs over: intent and commitment list.
    const identity = canonicalJson({ intent: pkg.intent, commitments: pkg.commitments });
    for (const c of pkg.commitments) {
      const k = `${c.partyId}:${c.hiding}:${c.binding}`;
      const set = packagesByCommitment.get(k) ?? new Set();
      set.add(identity);
      packagesByCommitment.set(k, set);
    }
  }
  const reused = [...packagesByCommitment].filter(([, set]) => set.size > 1);
  expect(reused, 'a nonce commitment appeared in two different signing packages').toEqual([]);
  expect(shares).toBeGreaterThanOrEqual(completed * 2);
  console.log(
    `[crash-party] ${completed}/${SIGNATURES} completed, ${SIGNATURES - completed} failed with a reason, ${kills} kills by the test, ${restarts - kills} self-kills at crash points, ${packagesByCommitment.size} commitments scanned`,
  );
  expect(completed).toBeGreaterThan(SIGNATURES / 10);
  // The parties' own crash points fired too: deaths between "nonce recorded" and "share sent".
  expect(restarts - kills).toBeGreaterThan(0);
}, 600_000);
