/**
 * A party's state under operator mistakes and disk trouble: backups, the share log, damaged
 * share files, and the party's own approval policy — driven through a real coordinator
 * orchestrator over WebSockets (in-process).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Approval, fromHex, getSuite, toHex, utf8 } from '@glacis/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { exportBackup, importBackup } from '../packages/party-node/src/backup/backup.js';
import { PartyError } from '../packages/party-node/src/errors.js';
import { openKeystore } from '../packages/party-node/src/keystore/keystore.js';
import { readShareLog, verifyShareLog } from '../packages/party-node/src/share-log/share-log.js';
import { makeApprover } from './support/approvals.js';
import { type InProcessCluster, startInProcessCluster } from './support/in-process-cluster.js';

let cluster: InProcessCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function activeKey(c: InProcessCluster, keyId: string, t: number) {
  c.store.addKey(keyId, 'ed25519', t, [...c.parties.keys()]);
  c.orchestrator.onKeyCreated(keyId);
  await c.store.until(() => c.store.keys.get(keyId)?.status !== 'pending');
  const key = c.store.keys.get(keyId)!;
  expect(key.status).toBe('active');
  return key;
}

async function sign(c: InProcessCluster, id: string, keyId: string, message: Uint8Array, approvals: Approval[] = []) {
  c.store.addSignature(id, keyId, toHex(message), approvals);
  c.orchestrator.onSignatureRequested(id);
  await c.store.until(() => ['completed', 'failed', 'rejected'].includes(c.store.signatures.get(id)!.status));
  return c.store.signatures.get(id)!;
}

describe('party state', () => {
  it('a party restored from a backup on a fresh machine signs, with fresh nonces', async () => {
    cluster = await startInProcessCluster(['p1', 'p2', 'p3']);
    const key = await activeKey(cluster, 'k1', 3);
    expect((await sign(cluster, 's1', 'k1', utf8('before'))).status).toBe('completed');
    const p2 = cluster.parties.get('p2')!;
    const kek = { kind: 'kek' as const, kek: new Uint8Array(randomBytes(32)) };
    const backup = exportBackup(p2.keystore, p2.config, 'backup passphrase', { logN: 10 });
    await cluster.stopParty('p2');
    rmSync(p2.dataDir, { recursive: true, force: true }); // the machine is gone
    const restored = importBackup(backup, 'backup passphrase', p2.dataDir, kek, { scryptLogN: 10 });
    expect(restored).toEqual({ partyId: 'p2', takenAt: expect.any(String), keys: ['k1'], generations: { k1: 0 } });
    await cluster.startParty('p2', kek);
    const s = await sign(cluster, 's2', 'k1', utf8('after restore')); // 3-of-3: p2 must sign
    expect(s.status).toBe('completed');
    expect(getSuite('ed25519').verify(fromHex(s.signature!), utf8('after restore'), fromHex(key.publicKey!))).toBe(true);
  });

  it('a backup with a wrong passphrase or a damaged byte is refused with distinct codes', async () => {
    cluster = await startInProcessCluster(['p1', 'p2']);
    await activeKey(cluster, 'k1', 2);
    const p1 = cluster.parties.get('p1')!;
    const backup = exportBackup(p1.keystore, p1.config, 'right', { logN: 10 });
    const kek = { kind: 'kek' as const, kek: new Uint8Array(randomBytes(32)) };
    expect(() => importBackup(backup, 'wrong', join(p1.dataDir, 'r1'), kek)).toThrowError(
      expect.objectContaining({ code: 'backup_wrong_passphrase' }),
    );
    const h = JSON.parse(backup);
    h.ciphertext = (h.ciphertext[0] === '0' ? '1' : '0') + h.ciphertext.slice(1);
    expect(() => importBackup(JSON.stringify(h), 'right', join(p1.dataDir, 'r2'), kek)).toThrowError(
      expect.objectContaining({ code: 'backup_corrupt' }),
    );
  });

  it('the share log records every released share, verifies, and catches an edited event', async () => {
    cluster = await startInProcessCluster(['p1', 'p2']);
    await activeKey(cluster, 'k1', 2);
    for (let i = 0; i < 3; i++) expect((await sign(cluster, `s${i}`, 'k1', utf8(`m${i}`))).status).toBe('completed');
    const dir = cluster.parties.get('p1')!.dataDir;
    const { events } = readShareLog(dir);
    expect(events.map((e) => (e.data as { requestId: string }).requestId)).toEqual(['s0', 's1', 's2']);
    expect((events[1]!.data as { messageDigest: string }).messageDigest).toBe(createHash('sha256').update('m1').digest('hex'));
    expect(verifyShareLog(dir)).toMatchObject({ ok: true, events: 3 });
    const path = join(dir, 'shares.log');
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"s1"', '"sX"');
    writeFileSync(path, lines.join('\n'));
    expect(verifyShareLog(dir)).toMatchObject({ ok: false, brokenAt: 2 });
  });

  it('a damaged share file is detected, named, and the node refuses to use it', async () => {
    cluster = await startInProcessCluster(['p1', 'p2']);
    await activeKey(cluster, 'k1', 2);
    const p1 = cluster.parties.get('p1')!;
    await cluster.stopParty('p1');
    const path = join(p1.dataDir, 'keys', 'k1.json');
    const f = JSON.parse(readFileSync(path, 'utf8'));
    f.ciphertext = f.ciphertext.slice(0, -8); // truncated tag
    writeFileSync(path, JSON.stringify(f));
    let err: unknown;
    try {
      openKeystore(p1.dataDir, p1.unlock).list();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PartyError);
    expect(err).toMatchObject({ code: 'corrupt_file', message: expect.stringContaining(path) });
  });

  it("each party's own approval policy: refused without approvals, signed with them, and each approval counts once", async () => {
    const approver = makeApprover();
    cluster = await startInProcessCluster(['p1', 'p2', 'p3'], { policy: { approvers: [approver.approverKey], requiredApprovals: 1 } });
    await activeKey(cluster, 'k1', 2);
    const message = utf8('withdraw 10 BTC');
    const codes = (s: { excluded: { reason: string }[] }) => s.excluded.map((e) => e.reason.split(':')[0]);
    const refused = await sign(cluster, 's1', 'k1', message);
    expect(refused.status).toBe('rejected');
    expect(codes(refused)).toContain('policy_approvals_missing');
    const forAnother = approver.approve({ keyId: 'k1', message: toHex(utf8('something else')) });
    expect((await sign(cluster, 's2', 'k1', message, [forAnother])).status).toBe('rejected');
    const good = approver.approve({ keyId: 'k1', message: toHex(message) });
    expect((await sign(cluster, 's3', 'k1', message, [good])).status).toBe('completed');
    // The same approval again, for a second request with the same message: refused where counted.
    const again = await sign(cluster, 's4', 'k1', message, [good]);
    expect(again.status).toBe('rejected');
    expect(codes(again)).toContain('policy_approval_reused');
    const expired = approver.approve({ keyId: 'k1', message: toHex(message), expiresAt: new Date(Date.now() - 1000).toISOString() });
    const late = await sign(cluster, 's5', 'k1', message, [expired]);
    expect(late.status).toBe('rejected');
    expect(new Set(codes(late))).toEqual(new Set(['policy_approval_expired']));
    const otherVersion = approver.approve({ keyId: 'k1', message: toHex(message), policyVersion: 2 });
    const mismatch = await sign(cluster, 's6', 'k1', message, [otherVersion]);
    expect(new Set(codes(mismatch))).toEqual(new Set(['policy_version_mismatch']));
  });
});
