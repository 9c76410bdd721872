/**
 * An offline (air-gapped) party in a running system, every piece a separate OS process: the
 * coordinator, party-2 (online), and party-3 run only as `glacis-party offline …` commands on its
 * data directory. The key is made by an online DKG (offline DKG through bundles is a later step);
 * then party-3 is stopped and configured offline, and party-1 is stopped, so every signature needs
 * the vault. A desk request through REST completes after one trip: the outbox as QR PNG frames
 * (shuffled, a fifth of them lost), signed by the real CLI, its answer as QR frames read back and
 * delivered by the desk's `glacis parties inbox`; the signature verifies with a verifier that
 * shares no code with Glacis.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBundleFile, readFramesFromDir } from '@glacis/airgap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { startLocalCluster } from '../scripts/local-cluster.mjs';
import { runGlacis } from './support/glacis-cli.js';
import { verifyIndependently } from './support/independent-verify.js';
import { takeOffline } from './support/offline-vault.js';
import { restClient } from './support/rest-client.js';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;
type Sig = { signatureId: string; status: string; signature: string | null; signers: string[] | null; error: unknown };
type Outbox = {
  bundle: string | null;
  sequence: number | null;
  signatureIds: string[];
  items: number;
  frames?: { ur: string; png: string }[];
};

let cluster: Cluster;
let api: ReturnType<typeof restClient>;
const dataDir = mkdtempSync(join(tmpdir(), 'glacis-offline-'));
const work = join(dataDir, 'media');

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  cluster = await startLocalCluster({ dataDir, port: 0, parties: 3 });
  api = restClient(cluster.baseUrl, cluster.adminToken);
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('an offline party through the outbox and inbox', () => {
  it('2-of-3, party-1 down, party-3 offline: a desk request completes after one trip of QR frames; a replayed answer is refused and changes nothing', async () => {
    // Online DKG, then party-3 leaves the network for good and the coordinator knows it as offline.
    const key = await api<{ keyId: string; status: string; publicKey: string }>('POST', '/v1/keys?wait=30000', {
      suite: 'ed25519',
      threshold: 2,
      parties: ['party-1', 'party-2', 'party-3'],
    });
    expect(key.body.status).toBe('active');
    const keyId = key.body.keyId;
    const vault = await takeOffline(cluster, 'party-3', ['party-1']);

    const parties = await api<{ parties: { partyId: string; mode: string }[] }>('GET', '/v1/parties');
    expect(parties.body.parties.map((p) => [p.partyId, p.mode])).toEqual([
      ['party-1', 'online'],
      ['party-2', 'online'],
      ['party-3', 'offline'],
    ]);

    // Trip 0 (out only): the vault preprocesses nonces; their commitments go to the inbox.
    await vault.run(['preprocess', '--key', keyId, '--count', '4', '--out', join(work, 'pre.glacis-bundle')]);
    const pre = await api('POST', '/v1/parties/party-3/inbox', { bundle: hexOf(await readBundleFile(join(work, 'pre.glacis-bundle'))) });
    expect(pre.status, JSON.stringify(pre.body)).toBe(200);
    expect(pre.body).toMatchObject({ partyId: 'party-3', commitments: 4, answers: 0 });

    // The desk's request: it needs party-3's share.
    const message = Buffer.from('pay the cold wallet');
    const accepted = await api<Sig>('POST', `/v1/keys/${keyId}/signatures`, { message: message.toString('hex') });
    expect(accepted.status).toBe(202);
    const { signatureId } = accepted.body;

    // The outbox as QR frames: shuffled, a fifth lost, the rest photographed into a directory.
    let out: Outbox | undefined;
    for (let i = 0; i < 100 && !out?.items; i++) {
      out = (await api<Outbox>('GET', '/v1/parties/party-3/outbox?format=qr&density=low')).body;
      if (!out.items) await new Promise((r) => setTimeout(r, 100));
    }
    expect(out?.signatureIds).toEqual([signatureId]);
    const frames = [...(out?.frames ?? [])].sort(() => Math.random() - 0.5);
    const kept = frames.slice(0, Math.ceil(frames.length * 0.8));
    expect(kept.length).toBeLessThan(frames.length);
    const photos = join(work, 'request');
    mkdirSync(photos);
    for (const [i, f] of kept.entries()) writeFileSync(join(photos, `IMG_${1000 + i}.png`), Buffer.from(f.png, 'base64'));
    expect(hexOf((await readFramesFromDir(photos)).bundle)).toBe(out?.bundle);

    // The vault signs (unattended, as its party.json allows) and shows its answer as QR frames.
    const summary = await vault.run(['sign', '--in', photos, '--out', join(work, 'answer/'), '--yes', '--density', 'low']);
    expect(summary.results).toEqual([expect.objectContaining({ kind: 'signed', requestId: signatureId })]);
    // The desk carries the answer's frames back: `glacis parties inbox` reads the images and posts them.
    const posted = await runGlacis(cluster.baseUrl, cluster.adminToken, 'parties', 'inbox', 'party-3', '--in', join(work, 'answer'));
    expect(posted.status, posted.stderr).toBe(0);
    expect(JSON.parse(posted.stdout)).toMatchObject({ partyId: 'party-3', answers: 1 });

    const done = await api<Sig>('GET', `/v1/signatures/${signatureId}?wait=20000`);
    expect(done.body.status, JSON.stringify(done.body.error)).toBe('completed');
    expect(done.body.signers).toEqual(['party-2', 'party-3']);
    expect(verifyIndependently('ed25519', key.body.publicKey, message, done.body.signature as string)).toBe(true);

    // The same answer again: refused with its code, and nothing moves.
    const auditBefore = (await api<{ events: unknown[] }>('GET', '/v1/audit?limit=500')).body.events.length;
    const answer = (await readFramesFromDir(join(work, 'answer'))).bundle;
    const replayed = await api<{ code: string }>('POST', '/v1/parties/party-3/inbox', { bundle: hexOf(answer) });
    expect([replayed.status, replayed.body.code]).toEqual([409, 'bundle_replayed']);
    const again = await runGlacis(cluster.baseUrl, cluster.adminToken, 'parties', 'inbox', 'party-3', '--in', join(work, 'answer'));
    expect([again.status, again.stderr]).toEqual([1, expect.stringContaining('409 bundle_replayed')]);
    expect((await api<Sig>('GET', `/v1/signatures/${signatureId}`)).body).toEqual(done.body);
    expect((await api<{ events: unknown[] }>('GET', '/v1/audit?limit=500')).body.events.length).toBe(auditBefore);
    // Nothing waits for the vault any more.
    expect((await api<Outbox>('GET', '/v1/parties/party-3/outbox')).body).toMatchObject({ bundle: null, items: 0 });
    const empty = await runGlacis(cluster.baseUrl, cluster.adminToken, 'parties', 'outbox', 'party-3', '--out', join(work, 'next/'));
    expect([empty.status, JSON.parse(empty.stdout)]).toEqual([0, { partyId: 'party-3', items: 0, signatureIds: [], out: null }]);
  }, 120_000);
});
