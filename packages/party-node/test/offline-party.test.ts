import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  COORDINATOR,
  createAggregator,
  createSigner,
  fromHex,
  getSuite,
  isBundleError,
  MemoryBundleLedger,
  type Message,
  type MessageBody,
  type NonceCommitmentWire,
  openBundle,
  openEnvelope,
  parseNonceCommitment,
  type Signer,
  sealBundle,
  toHex,
  utf8,
} from '@glacis/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { exportBackup, importBackup } from '../src/backup/backup.js';
import { openKeystore } from '../src/keystore/keystore.js';
import { assertOffline, onlineInterfaces } from '../src/offline/network-check.js';
import { NONCE_DIR } from '../src/offline/nonce-vault.js';
import { type OfflineParty, openOfflineParty } from '../src/offline/offline-party.js';
import { openPartyRecords, type PartyRecords } from '../src/records.js';
import { readShareLog } from '../src/share-log/share-log.js';
import { type Harness, rng, startHarness } from './harness.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A party p1 holding active key k1 (2-of-3), its node stopped: the directory is the offline party's. */
async function vaultWithKey() {
  const h = await startHarness();
  const { sessionId, confirmations, peerShares } = await h.dkg('k1');
  h.deliver({ type: 'dkg_complete', sessionId, to: 'p1', body: { keyId: 'k1', confirmations } });
  await h.stopNode();
  cleanup.push(() => h.close());
  writeFileSync(join(h.dataDir, 'party.json'), JSON.stringify(h.config));
  const peer = createSigner(peerShares.get('p2')!, rng);
  return { h, peer, peerShare: peerShares.get('p2')! };
}

async function openParty(h: Harness, dataDir = h.dataDir): Promise<{ party: OfflineParty; records: PartyRecords }> {
  const keystore = openKeystore(dataDir, h.unlock);
  const records = await openPartyRecords(dataDir);
  cleanup.push(() => records.close());
  const party = openOfflineParty({
    config: h.config,
    identity: keystore.loadIdentity(),
    keystore,
    records,
    logger: pino({ level: 'silent' }),
    clock: { now: () => Date.now(), setTimeout: () => ({ cancel: () => undefined }) },
    rng,
  });
  return { party, records };
}

/** What a bundle from p1 carries, opened as the coordinator would. */
function openAsCoordinator(h: Harness, bytes: Uint8Array): Message[] {
  const keyOf = (n: string) => h.identity(n)?.publicKey;
  const b = openBundle(bytes, { self: COORDINATOR, keyOf, ledger: new MemoryBundleLedger() });
  return b.items.flatMap((i) => (i.kind === 'envelope' ? [openEnvelope(i.envelope, { self: COORDINATOR, keyOf })] : []));
}

let sequence = 1;
/** A bundle from the coordinator to p1 with one signing package over `message`, using p1's `mine`. */
function requestBundle(h: Harness, peer: Signer, mine: NonceCommitmentWire, requestId: string, message: string) {
  const body: MessageBody<'signing_package'> = {
    keyId: 'k1',
    requestId,
    intent: { type: 'raw', message },
    approvals: [],
    commitments: [
      { partyId: 'p1', ...mine },
      { partyId: 'p2', ...peer.commit() },
    ],
  };
  const env = h.seal(COORDINATOR, { type: 'signing_package', sessionId: `sign-${requestId}`, to: 'p1', body });
  const bytes = sealBundle(
    { recipient: 'p1', sequence: sequence++, createdAt: Date.now(), items: [{ kind: 'envelope', envelope: env }] },
    { name: COORDINATOR, identity: h.identity(COORDINATOR) },
    rng,
  );
  return { bytes, body };
}

const preprocessed = (h: Harness, bytes: Uint8Array) => {
  const [msg] = openAsCoordinator(h, bytes);
  expect(msg?.type).toBe('commitments');
  return (msg as Extract<Message, { type: 'commitments' }>).body.commitments;
};
const nonceFiles = (dir: string) => readdirSync(join(dir, NONCE_DIR)).filter((f) => f.endsWith('.json'));
const confirmAll = { signing: async () => true, dkg: async () => true, lifecycle: async () => true };

describe('the offline party', () => {
  it('preprocessed nonces are sealed at rest; a package using one is signed after a restart, and the shares aggregate to a valid signature', async () => {
    const { h, peer, peerShare } = await vaultWithKey();
    const first = await openParty(h);
    const commitments = preprocessed(h, first.party.preprocess('k1', 3));
    expect(commitments).toHaveLength(3);
    const files = nonceFiles(h.dataDir);
    expect(files).toHaveLength(3);
    for (const f of files)
      expect(JSON.parse(readFileSync(join(h.dataDir, NONCE_DIR, f), 'utf8'))).toMatchObject({ format: 'glacis-sealed' });
    await first.records.close();

    // A later run (the trip to the vault): the nonce comes back from disk.
    const { party } = await openParty(h);
    const message = toHex(utf8('pay 1 BTC'));
    const { bytes, body } = requestBundle(h, peer, commitments[0]!, 'r1', message);
    const outcome = await party.process(bytes, confirmAll);
    outcome.commit();
    expect(outcome.results).toEqual([{ kind: 'signed', keyId: 'k1', requestId: 'r1', sessionId: 'sign-r1' }]);
    expect(nonceFiles(h.dataDir)).toHaveLength(3); // one used, one fresh `next` sealed in its place
    const [share] = openAsCoordinator(h, outcome.response!);
    const shareBody = (share as Extract<Message, { type: 'signature_share' }>).body;
    const suite = getSuite('ed25519');
    const messages = [utf8('pay 1 BTC')];
    const agg = createAggregator({ key: peerShare.public, requestId: 'r1', intent: body.intent, messages });
    for (const c of body.commitments) agg.addCommitment(c.partyId, [parseNonceCommitment(suite, c, c.partyId)]);
    agg.buildPackage(['p1', 'p2']);
    agg.addShare('p1', [shareBody.share]);
    agg.addShare('p2', peer.sign(body, messages).shares.map(toHex));
    const [sig] = agg.finish();
    expect(ed25519.verify(sig!, messages[0]!, fromHex(peerShare.public.publicKey))).toBe(true);
  });

  it('a nonce is used once: the share log names it and its file is gone; the bundle replayed is refused (bundle_replayed), the package re-sent is refused (unknown_commitment)', async () => {
    const { h, peer } = await vaultWithKey();
    const { party } = await openParty(h);
    const [c0] = preprocessed(h, party.preprocess('k1', 1));
    const { bytes, body } = requestBundle(h, peer, c0!, 'r1', toHex(utf8('once')));
    const outcome = await party.process(bytes, confirmAll);
    outcome.commit();
    expect(readShareLog(h.dataDir).events.at(-1)?.data).toMatchObject({ commitments: [c0] });
    await expect(party.process(bytes, confirmAll)).rejects.toSatisfy((e: unknown) => isBundleError(e, 'bundle_replayed'));
    // The same package in a fresh bundle (a coordinator that replays it): no nonce is left for it.
    const again = sealBundle(
      {
        recipient: 'p1',
        sequence: sequence++,
        createdAt: Date.now(),
        items: [
          { kind: 'envelope', envelope: h.seal(COORDINATOR, { type: 'signing_package', sessionId: 'sign-r1-again', to: 'p1', body }) },
        ],
      },
      { name: COORDINATOR, identity: h.identity(COORDINATOR) },
      rng,
    );
    const replay = await party.process(again, confirmAll);
    expect(replay.results).toEqual([expect.objectContaining({ kind: 'refused', code: 'unknown_commitment' })]);
    expect(readShareLog(h.dataDir).events.filter((e) => e.type === 'share_released')).toHaveLength(1);
  });

  it('a restored backup holds no nonce: the old request bundle replayed to it is refused (unknown_commitment), no share released', async () => {
    const { h, peer } = await vaultWithKey();
    const { party } = await openParty(h);
    const [c0] = preprocessed(h, party.preprocess('k1', 2));
    const { bytes } = requestBundle(h, peer, c0!, 'r1', toHex(utf8('before the fire')));
    (await party.process(bytes, confirmAll)).commit();
    const backup = exportBackup(openKeystore(h.dataDir, h.unlock), h.config, 'backup pass', { logN: 10 });
    const restoredDir = mkdtempSync(join(tmpdir(), 'glacis-restored-'));
    rmSync(restoredDir, { recursive: true });
    cleanup.push(async () => rmSync(restoredDir, { recursive: true, force: true }));
    importBackup(backup, 'backup pass', restoredDir, h.unlock, { scryptLogN: 10 });
    expect(existsSync(join(restoredDir, NONCE_DIR))).toBe(false);
    const restored = await openParty(h, restoredDir);
    const replay = await restored.party.process(bytes, confirmAll);
    expect(replay.results).toEqual([expect.objectContaining({ kind: 'refused', code: 'unknown_commitment' })]);
    expect(readShareLog(restoredDir).events).toHaveLength(0);
  });

  it('an operator who declines: nothing is signed or recorded, and the nonce stays for a later package', async () => {
    const { h, peer } = await vaultWithKey();
    const { party } = await openParty(h);
    const [c0] = preprocessed(h, party.preprocess('k1', 1));
    const { bytes } = requestBundle(h, peer, c0!, 'r1', toHex(utf8('not this one')));
    const outcome = await party.process(bytes, { signing: async () => false, dkg: async () => false, lifecycle: async () => false });
    expect(outcome.results).toEqual([expect.objectContaining({ kind: 'declined', requestId: 'r1' })]);
    expect(outcome.response).toBeNull();
    expect(readShareLog(h.dataDir).events).toHaveLength(0);
    expect(nonceFiles(h.dataDir)).toHaveLength(1);
  });

  it('refuses to run with a network interface up (machine_online) unless the operator acknowledges it', () => {
    const ifaces = {
      lo: [{ address: '127.0.0.1', internal: true, family: 'IPv4', netmask: '255.0.0.0', mac: '00:00:00:00:00:00', cidr: null }],
      eth0: [{ address: '10.0.0.2', internal: false, family: 'IPv4', netmask: '255.0.0.0', mac: '02:00:00:00:00:01', cidr: null }],
    } as unknown as Parameters<typeof onlineInterfaces>[0];
    expect(onlineInterfaces(ifaces)).toEqual(['eth0']);
    expect(() => assertOffline(false, ifaces)).toThrow(expect.objectContaining({ code: 'machine_online' }));
    expect(() => assertOffline(true, ifaces)).not.toThrow();
    expect(() => assertOffline(false, { lo: ifaces?.lo } as typeof ifaces)).not.toThrow();
  });
});

describe('glacis-party offline sign, killed at every step', () => {
  const POINTS = ['offline-opened', 'nonce-recorded', 'nonce-deleted', 'share-sent', 'offline-ledger-saved'] as const;

  it.each(POINTS)(
    'killed at %s: a rerun never releases a second share for the same nonce',
    async (point) => {
      const { h, peer } = await vaultWithKey();
      const setup = await openParty(h);
      const [c0] = preprocessed(h, setup.party.preprocess('k1', 1));
      await setup.records.close();
      const { bytes } = requestBundle(h, peer, c0!, 'r1', toHex(utf8(`crash at ${point}`)));
      const work = mkdtempSync(join(tmpdir(), 'glacis-crash-'));
      cleanup.push(async () => rmSync(work, { recursive: true, force: true }));
      writeFileSync(join(work, 'request.glacis-bundle'), bytes);
      writeFileSync(join(work, 'kek'), toHex(h.unlock.kek));
      writeFileSync(
        join(h.dataDir, 'party.json'),
        JSON.stringify({ ...h.config, policy: { ...h.config.policy, unattendedOffline: true } }),
      );
      const run = (out: string, crash?: string) =>
        spawnSync(
          process.execPath,
          [
            CLI,
            'offline',
            'sign',
            '--data-dir',
            h.dataDir,
            '--kek-file',
            join(work, 'kek'),
            '--in',
            join(work, 'request.glacis-bundle'),
            '--out',
            join(work, out),
            '--yes',
            '--i-know-this-machine-is-online',
          ],
          { env: { ...process.env, GLACIS_TEST_CRASH_POINTS: crash ?? '' }, encoding: 'utf8' },
        );
      const killed = run('first.glacis-bundle', `${point}:1`);
      expect(killed.signal).toBe('SIGKILL');
      const rerun = run('second.glacis-bundle');
      expect(rerun.signal).toBeNull();
      // Every share that ever left (a written response bundle), for this commitment: at most one.
      const shares = ['first.glacis-bundle', 'second.glacis-bundle']
        .filter((f) => existsSync(join(work, f)))
        .flatMap((f) => openAsCoordinator(h, readFileSync(join(work, f))))
        .filter((m) => m.type === 'signature_share');
      expect(shares.length).toBeLessThanOrEqual(1);
      expect(readShareLog(h.dataDir).events.filter((e) => e.type === 'share_released').length).toBeLessThanOrEqual(1);
      expect(nonceFiles(h.dataDir).length).toBeLessThanOrEqual(1);
      if (point === 'offline-opened') expect(shares).toHaveLength(1); // nothing was used yet: the rerun signs
      if (point === 'offline-ledger-saved') expect(rerun.stderr).toContain('bundle_replayed');
    },
    60_000,
  );
});
