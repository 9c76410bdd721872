/**
 * The approver's and the policy administrator's `glacis` commands, in-process against a fake
 * coordinator: a key file made and opened, a PSBT read on the desk's side, an approval that is a
 * valid signature over exactly the request's digest (and nothing when the request is not what the
 * approver reviewed), a rejection, and a policy signed by two administrators in turn.
 */
import {
  type Approval,
  approvalDigest,
  fromHex,
  type Intent,
  identityFromSeed,
  intentDigest,
  toHex,
  verifyIdentitySignature,
  verifySignedPolicy,
} from '@glacis/protocol';
import { describe, expect, test } from 'vitest';
import { cluster } from '../../protocol/test/harness.js';
import { p2wpkhDestination, taprootSpend } from '../../protocol/test/psbt-fixtures.js';
import { runCli } from '../src/cli/run.js';
import type { Signature } from '../src/schemas.js';
import { fakeFetch, problemAnswer, recordingIo, type SeenRequest, servedKey } from './fixtures.js';

const env = { GLACIS_SIGNER_PASSPHRASE: 'correct horse', GLACIS_SCRYPT_LOG_N: '10', GLACIS_TOKEN: 'glc_t' };
const c = cluster('secp256k1-tr', 3, 2);
const { key, trust } = servedKey(c);
const shop = p2wpkhDestination(5);
const change = { script: Uint8Array.of(0x51, 0x20, ...fromHex(key.publicKey as string)), amount: 9_000n };
const spend = taprootSpend(fromHex(key.publicKey as string), [50_000n], [{ script: shop.script, amount: 40_000n }, change]).intent;

function served(intent: Intent, over: Partial<Signature> = {}): Signature {
  return {
    signatureId: 'sig_1',
    keyId: key.keyId,
    intent,
    message: null,
    context: { ticket: 'T-9' },
    approvals: [],
    status: 'awaiting_approval',
    approvalStatus: { policyVersion: 4, ruleId: 'r', groups: [{ group: 'treasury', min: 1, have: 0 }] },
    signature: null,
    signatures: null,
    finalized: null,
    signers: null,
    excluded: [],
    error: null,
    createdAt: '2030-01-01T00:00:00.000Z',
    completedAt: null,
    ...over,
  };
}

/** A coordinator serving `sig`, its key, policy version 4, and taking approvals and rejections. */
function coordinator(sig: Signature) {
  return fakeFetch((req: SeenRequest) => {
    if (req.path === `/v1/signatures/${sig.signatureId}` && req.method === 'GET') return { status: 200, body: sig };
    if (req.path === `/v1/keys/${key.keyId}`) return { status: 200, body: key };
    if (req.path === '/v1/policy')
      return { status: 200, body: { policy: null, version: 4, digest: null, distributedAt: null, parties: [] } };
    if (req.path === `/v1/signatures/${sig.signatureId}/approvals`) return { status: 200, body: { ...sig, status: 'pending' } };
    if (req.path === `/v1/signatures/${sig.signatureId}/rejections`) return { status: 200, body: { ...sig, status: 'rejected' } };
    if (req.path === '/v1/signatures') return { status: 200, body: { signatures: [sig], nextCursor: null } };
    return problemAnswer(404, 'not_found', 'no such thing');
  });
}

async function makeKey(role: 'approver' | 'policy-admin', files: Record<string, string>, name = 'me.key') {
  const r = recordingIo(fakeFetch(() => ({ status: 500 })).fetch, files, env);
  expect(await runCli(['approver', 'create', '--out', name, '--role', role], r.io), r.stderr()).toBe(0);
  return JSON.parse(r.stdout()).publicKey as string;
}

describe('glacis approver create', () => {
  test('writes a sealed key file readable by its passphrase only, and never over an existing file', async () => {
    const files: Record<string, string> = {};
    const publicKey = await makeKey('approver', files);
    expect(JSON.parse(files['me.key'] as string)).toMatchObject({ format: 'glacis-signer-key', role: 'approver', publicKey });
    expect(files['me.key']).not.toContain('correct horse');
    const again = recordingIo(fakeFetch(() => ({ status: 500 })).fetch, files, env);
    expect(await runCli(['approver', 'create', '--out', 'me.key'], again.io)).toBe(1);
    expect(again.stderr()).toContain('EEXIST');
  });
});

describe('glacis signatures show', () => {
  test("reads a PSBT on the desk's side: outputs with their regtest addresses, change, fee, and the intent digest", async () => {
    const fake = coordinator(served(spend));
    const r = recordingIo(fake.fetch, { 'trust.json': JSON.stringify(trust) }, env);
    expect(await runCli(['signatures', 'show', 'sig_1', '--network', 'regtest', '--trust', 'trust.json'], r.io), r.stderr()).toBe(0);
    const out = JSON.parse(r.stdout());
    expect(out.intent).toMatchObject({ type: 'bitcoin-psbt', intentDigest: toHex(intentDigest(spend)), psbt: { fee: '1000' } });
    expect(out.intent.psbt.outputs).toEqual([
      expect.objectContaining({ address: shop.address, amount: '40000', change: false }),
      expect.objectContaining({ amount: '9000', change: true }),
    ]);
  });

  test('a PSBT that does not spend this key (or a key that fails --trust) is refused: exit 3', async () => {
    const other = taprootSpend(fromHex('11'.repeat(32)), [5n], [{ script: shop.script, amount: 1n }]).intent;
    const r = recordingIo(coordinator(served(other)).fetch, {}, env);
    expect(await runCli(['signatures', 'show', 'sig_1'], r.io)).toBe(3);
    expect(r.stderr()).toContain('psbt_input_not_ours');
    const pinnedElse = { parties: { ...trust.parties, [key.parties[0] as string]: '22'.repeat(32) } };
    const t = recordingIo(coordinator(served(spend)).fetch, { 'trust.json': JSON.stringify(pinnedElse) }, env);
    expect(await runCli(['signatures', 'show', 'sig_1', '--trust', 'trust.json'], t.io)).toBe(3);
    expect(t.stderr()).toContain('REFUSED');
  });
});

describe('glacis signatures approve', () => {
  test('signs the approval digest of exactly this request under the distributed version, and adds it', async () => {
    const files: Record<string, string> = {};
    const approverKey = await makeKey('approver', files);
    const fake = coordinator(served(spend));
    const r = recordingIo(fake.fetch, files, env);
    const digestHex = toHex(intentDigest(spend));
    expect(
      await runCli(['signatures', 'approve', 'sig_1', '--key', 'me.key', '--intent-digest', digestHex, '--network', 'regtest'], r.io),
      r.stderr(),
    ).toBe(0);
    const post = fake.seen.find((s) => s.method === 'POST');
    expect(post?.path).toBe('/v1/signatures/sig_1/approvals');
    const a = JSON.parse(post?.body as string) as Approval;
    expect(a).toMatchObject({ approverKey, policyVersion: 4 });
    const digest = approvalDigest({
      keyId: key.keyId,
      intent: spend,
      context: { ticket: 'T-9' },
      policyVersion: 4,
      nonce: a.nonce,
      expiresAt: a.expiresAt,
    });
    expect(verifyIdentitySignature(fromHex(a.signature), digest, fromHex(approverKey))).toBe(true);
    expect(JSON.parse(r.stdout())).toMatchObject({ signatureId: 'sig_1', status: 'pending', approverKey });
  });

  test('a request that no longer asks for what the approver reviewed is refused: exit 3, nothing sent', async () => {
    const files: Record<string, string> = {};
    await makeKey('approver', files);
    const fake = coordinator(served(spend));
    const r = recordingIo(fake.fetch, files, env);
    expect(await runCli(['signatures', 'approve', 'sig_1', '--key', 'me.key', '--intent-digest', '00'.repeat(32)], r.io)).toBe(3);
    expect(fake.seen.filter((s) => s.method === 'POST')).toEqual([]);
  });

  test('a wrong passphrase or an administrator key: exit 1 (wrong_passphrase, invalid_key_file), nothing sent', async () => {
    const files: Record<string, string> = {};
    await makeKey('approver', files);
    const fake = coordinator(served(spend));
    const wrong = recordingIo(fake.fetch, files, { ...env, GLACIS_SIGNER_PASSPHRASE: 'nope' });
    expect(await runCli(['signatures', 'approve', 'sig_1', '--key', 'me.key'], wrong.io)).toBe(1);
    expect(wrong.stderr()).toContain('does not open');
    await makeKey('policy-admin', files, 'admin.key');
    const admin = recordingIo(fake.fetch, files, env);
    expect(await runCli(['signatures', 'approve', 'sig_1', '--key', 'admin.key'], admin.io)).toBe(1);
    expect(fake.seen.filter((s) => s.method === 'POST')).toEqual([]);
  });
});

describe('glacis signatures pending and reject', () => {
  test('pending lists what awaits approval; reject sends the reason', async () => {
    const fake = coordinator(served({ type: 'raw', message: 'c0ffee' }));
    const p = recordingIo(fake.fetch, {}, env);
    expect(await runCli(['signatures', 'pending'], p.io)).toBe(0);
    expect(JSON.parse(p.stdout())).toMatchObject({ signatureId: 'sig_1', intent: 'raw' });
    expect(fake.seen[0]?.query.get('status')).toBe('awaiting_approval');
    const r = recordingIo(fake.fetch, {}, env);
    expect(await runCli(['signatures', 'reject', 'sig_1', '--reason', 'not scheduled'], r.io)).toBe(0);
    expect(JSON.parse(fake.seen.at(-1)?.body as string)).toEqual({ reason: 'not scheduled' });
    expect(JSON.parse(r.stdout())).toEqual({ signatureId: 'sig_1', status: 'rejected' });
  });
});

describe('glacis policy sign', () => {
  test('two administrators sign in turn; the result verifies against their keys with quorum 2', async () => {
    const files: Record<string, string> = {
      'policy.json': JSON.stringify({ version: 2, rules: [{ id: 'all', match: {}, decision: 'allow' }] }),
    };
    const k1 = await makeKey('policy-admin', files, 'a1.key');
    const k2 = await makeKey('policy-admin', files, 'a2.key');
    const first = recordingIo(fakeFetch(() => ({ status: 500 })).fetch, files, env);
    expect(await runCli(['policy', 'sign', 'policy.json', '--key', 'a1.key'], first.io), first.stderr()).toBe(0);
    files['once.json'] = first.stdout();
    const second = recordingIo(fakeFetch(() => ({ status: 500 })).fetch, files, env);
    expect(await runCli(['policy', 'sign', 'once.json', '--key', 'a2.key'], second.io)).toBe(0);
    const signed = JSON.parse(second.stdout());
    expect(verifySignedPolicy(signed, [k1, k2, toHex(identityFromSeed(new Uint8Array(32).fill(7)).publicKey)], 2, null).signers).toEqual(
      [k1, k2].sort(),
    );
  });

  test('a document that does not parse: exit 1 invalid_policy, naming the field', async () => {
    const files: Record<string, string> = {
      'bad.json': JSON.stringify({ version: 2, rules: [{ id: 'x', match: { typo: 1 }, decision: 'allow' }] }),
    };
    await makeKey('policy-admin', files, 'a1.key');
    const r = recordingIo(fakeFetch(() => ({ status: 500 })).fetch, files, env);
    expect(await runCli(['policy', 'sign', 'bad.json', '--key', 'a1.key'], r.io)).toBe(1);
    expect(r.stderr()).toContain('rules.0.match');
  });
});
