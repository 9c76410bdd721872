/**
 * An offline (air-gapped) party in a running system, every piece a separate OS process: the
 * coordinator, party-1 and party-2 (online), and party-3 run only as `glacis-party offline …`
 * commands on its data directory, configured offline from the start (test/support/offline-vault.ts).
 * The 2-of-3 key is made by a DKG through bundles: three trips to the vault (the first as QR PNG
 * frames, shuffled with a fifth lost, both ways; then files carried by the desk's `glacis parties
 * outbox|inbox`). Then party-1 is stopped, so every signature needs the vault. A desk request
 * through REST completes after one trip: the outbox as QR frames, signed by the real CLI, its
 * answer as QR frames read back and delivered by `glacis parties inbox`; the signature verifies
 * with a verifier that shares no code with Glacis.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFrameAssembler, readBundleFile, readFramesFromDir } from '@glacis/airgap';
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
  keyIds: string[];
  items: number;
  frames?: { ur: string; png: string }[];
};

let cluster: Cluster;
let api: ReturnType<typeof restClient>;
const dataDir = mkdtempSync(join(tmpdir(), 'glacis-offline-'));
const work = join(dataDir, 'media');

const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** `glacis parties <verb> party-3 <args>` at the desk (exit 0 expected): its JSON summary. */
async function desk(verb: 'outbox' | 'inbox', ...args: string[]): Promise<Record<string, unknown>> {
  const r = await runGlacis(cluster.baseUrl, cluster.adminToken, 'parties', verb, 'party-3', ...args);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** The outbox once it holds `items` envelopes (it fills as the online parties answer). */
async function outboxOf(items: number, query = ''): Promise<Outbox> {
  let out: Outbox | undefined;
  for (let i = 0; i < 200 && out?.items !== items; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100));
    out = (await api<Outbox>('GET', `/v1/parties/party-3/outbox${query}`)).body;
  }
  expect(out?.items, JSON.stringify(out?.keyIds)).toBe(items);
  return out as Outbox;
}

/** True when `frames` (UR strings) hold a whole transfer. */
function decodes(frames: readonly { ur: string }[]): boolean {
  const assembler = createFrameAssembler();
  return frames.some((f) => assembler.push(f.ur).state === 'complete');
}

/**
 * QR frames as a phone would photograph them off a screen: shuffled, a fifth lost, any file names.
 * A fountain code makes a fifth lost almost never matter, not never: measured with the default
 * redundancy (twice as many frames as fragments), about 1 in 20 random fifths of a 16-fragment
 * transfer leave it short, and the operator scans more of the looping animation. The test draws
 * the lost fifth again in that case (bounded), so it fails only if the frames really do not decode.
 */
function photograph(frames: { ur: string; png: string }[], dir: string): void {
  let kept: { ur: string; png: string }[] = [];
  for (let draw = 0; draw < 20 && !decodes(kept); draw++) {
    const shuffled = [...frames].sort(() => Math.random() - 0.5);
    kept = shuffled.slice(0, Math.ceil(shuffled.length * 0.8));
  }
  expect(kept.length).toBeLessThan(frames.length);
  mkdirSync(dir);
  for (const [i, f] of kept.entries()) writeFileSync(join(dir, `IMG_${1000 + i}.png`), Buffer.from(f.png, 'base64'));
}

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
  it('2-of-3 with party-3 offline: the key is made through bundles (QR frames, then files by the desk CLI), then with party-1 down a desk request completes after one trip of QR frames; a replayed answer is refused and changes nothing', async () => {
    // party-3 leaves the network for good before any key exists; the coordinator knows it as offline.
    const vault = await takeOffline(cluster, 'party-3');

    const parties = await api<{ parties: { partyId: string; mode: string }[] }>('GET', '/v1/parties');
    expect(parties.body.parties.map((p) => [p.partyId, p.mode])).toEqual([
      ['party-1', 'online'],
      ['party-2', 'online'],
      ['party-3', 'offline'],
    ]);

    // The DKG: accepted without party-3's socket; its part goes through the outbox.
    const requested = await api<{ keyId: string; status: string }>('POST', '/v1/keys', {
      suite: 'ed25519',
      threshold: 2,
      parties: ['party-1', 'party-2', 'party-3'],
    });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    const keyId = requested.body.keyId;

    // Trip 1, as QR frames both ways: the start and both round-1 packages in; round 1 and 2 out.
    const out1 = await outboxOf(3, '?format=qr&density=low');
    expect(out1.keyIds).toEqual([keyId]);
    photograph(out1.frames ?? [], join(work, 'dkg-1'));
    const joined = await vault.run([
      'process',
      '--in',
      join(work, 'dkg-1'),
      '--out',
      join(work, 'dkg-1-answer/'),
      '--yes',
      '--density',
      'low',
    ]);
    expect(joined.results).toEqual([{ kind: 'dkg', keyId, sessionId: `dkg-${keyId}`, status: 'joined' }]);
    const in1 = await desk('inbox', '--in', join(work, 'dkg-1-answer'));
    expect(in1).toMatchObject({ partyId: 'party-3', answers: 3 });

    // Trip 2, as files carried by the desk: both round-2 shares in; the confirmation out. The key becomes active.
    await outboxOf(2);
    const bundle2 = join(work, 'dkg-2.glacis-bundle');
    expect(await desk('outbox', '--out', bundle2)).toMatchObject({ items: 2, signatureIds: [], keyIds: [keyId] });
    const confirmed = await vault.run(['process', '--in', bundle2, '--out', join(work, 'dkg-2-answer.glacis-bundle'), '--yes']);
    expect(confirmed.results).toEqual([expect.objectContaining({ kind: 'dkg', status: 'confirmed' })]);
    // Its answer carries again everything the session sent (round 1, both round-2 shares) with the confirmation.
    expect(await desk('inbox', '--in', join(work, 'dkg-2-answer.glacis-bundle'))).toMatchObject({ partyId: 'party-3', answers: 4 });
    let key = await api<{ keyId: string; status: string; publicKey: string; error: unknown }>('GET', `/v1/keys/${keyId}`);
    for (let i = 0; i < 100 && key.body.status === 'pending'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      key = await api('GET', `/v1/keys/${keyId}`);
    }
    expect(key.body.status, JSON.stringify(key.body.error)).toBe('active');

    // Trip 3 (in): the certificate; the vault's share turns active (nothing to carry out).
    await outboxOf(1);
    const bundle3 = join(work, 'dkg-3.glacis-bundle');
    expect(await desk('outbox', '--out', bundle3)).toMatchObject({ items: 1, keyIds: [keyId] });
    const active = await vault.run(['process', '--in', bundle3, '--out', join(work, 'dkg-3-answer.glacis-bundle'), '--yes']);
    expect(active.results).toEqual([expect.objectContaining({ kind: 'dkg', status: 'active', publicKey: key.body.publicKey })]);
    expect(active.out).toBeNull();

    // From now on every signature needs the vault.
    await cluster.kill('party-1', 'SIGTERM');

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
    const out = await outboxOf(1, '?format=qr&density=low');
    expect([out.signatureIds, out.keyIds]).toEqual([[signatureId], []]);
    const photos = join(work, 'request');
    photograph(out.frames ?? [], photos);
    expect(hexOf((await readFramesFromDir(photos)).bundle)).toBe(out.bundle);

    // The vault signs (unattended, as its party.json allows) and shows its answer as QR frames
    // (`offline sign`: the alias of `offline process` is kept for runbooks written before the DKG).
    const summary = await vault.run(['sign', '--in', photos, '--out', join(work, 'answer/'), '--yes', '--density', 'low']);
    expect(summary.results).toEqual([expect.objectContaining({ kind: 'signed', requestId: signatureId })]);
    // The desk carries the answer's frames back: `glacis parties inbox` reads the images and posts them.
    expect(await desk('inbox', '--in', join(work, 'answer'))).toMatchObject({ partyId: 'party-3', answers: 1 });

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
    expect([empty.status, JSON.parse(empty.stdout)]).toEqual([
      0,
      { partyId: 'party-3', items: 0, signatureIds: [], keyIds: [], operationIds: [], out: null },
    ]);
  }, 120_000);
});
