/**
 * A 2-of-3 Taproot spend end to end through the REST API, as `npm start` runs the system: a
 * coordinator and three party nodes as separate processes, each party with the policy
 * administrators pinned (`glacis-party pin --policy-admin`) and reading PSBTs for regtest. The
 * administrators' quorum-signed policy allows spends to one allowlisted address only, at most
 * two per key per day. Each signed transaction's witness signatures are checked with libsecp256k1
 * (tiny-secp256k1) over BIP-341 sighashes computed from the final transaction bytes alone, by a
 * reference that shares no code with Glacis; the velocity limit trips at the parties (at the third
 * spend, or the fourth when the first two were signed by different pairs), and nothing tells them
 * how many were signed before but their own decision logs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Intent, identityFromSeed, parsePolicy, signPolicy, toHex } from '@glacis/protocol';
import * as secp from 'tiny-secp256k1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bip341KeyPathSighash, parseRawTx, txid } from '../packages/protocol/test/bitcoin-reference.js';
import { p2trDestination, p2wpkhDestination, type TxOut, taprootSpend } from '../packages/protocol/test/psbt-fixtures.js';
// @ts-expect-error plain ESM module without types
import { PARTY_CLI, startLocalCluster } from '../scripts/local-cluster.mjs';
import { restClient } from './support/rest-client.js';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;
type Sig = {
  signatureId: string;
  status: string;
  signers: string[] | null;
  signatures: string[] | null;
  finalized: { psbt: string; transactionHex: string | null; txid: string } | null;
  excluded: { partyId: string; reason: string }[];
  error: { code: string } | null;
};

const admins = [0x65, 0x66, 0x67].map((n) => identityFromSeed(new Uint8Array(32).fill(n)));
const shop = p2wpkhDestination(21);
const stranger = p2trDestination('79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');

let cluster: Cluster;
let api: ReturnType<typeof restClient>;
const dataDir = mkdtempSync(join(tmpdir(), 'glacis-psbt-'));

beforeAll(async () => {
  const pins = admins.flatMap((a) => ['--policy-admin', toHex(a.publicKey)]);
  cluster = await startLocalCluster({
    dataDir,
    port: 0,
    parties: 3,
    partyPins: [...pins, '--policy-quorum', '2', '--bitcoin-network', 'regtest'],
    env: { GLACIS_BITCOIN_NETWORK: 'regtest' },
  });
  api = restClient(cluster.baseUrl, cluster.adminToken);
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a Taproot PSBT through the REST API under the parties’ signed policy', () => {
  it('2-of-3: allowlisted spends sign and verify under BIP-340; an off-list one and the third in a day are refused by the parties', async () => {
    const created = await api<{ keyId: string; status: string; publicKey: string }>('POST', '/v1/keys?wait=30000', {
      suite: 'secp256k1-tr',
      threshold: 2,
      parties: cluster.parties,
    });
    expect(created.body.status).toBe('active');
    const { keyId, publicKey } = created.body;
    const xOnly = Buffer.from(publicKey, 'hex');

    // Two of the three pinned administrators sign; every party verifies and activates it.
    const policy = parsePolicy({
      version: 2,
      rules: [
        {
          id: 'shop-only',
          match: { key: { ids: [keyId] }, intentTypes: ['bitcoin-psbt'], destinations: { allowlist: [shop.address] } },
          decision: 'allow',
        },
      ],
      velocity: [{ id: 'two-a-day', windowSeconds: 86_400, maxCount: 2, intentTypes: ['bitcoin-psbt'] }],
    });
    const put = await api<{ parties: { version: number; source: string }[] }>('PUT', '/v1/policy?wait=20000', {
      policy,
      signatures: admins.slice(0, 2).map((a) => signPolicy(policy, a)),
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.parties.map((p) => [p.source, p.version])).toEqual([
      ['signed', 2],
      ['signed', 2],
      ['signed', 2],
    ]);

    let tag = 0;
    const sign = async (outputs: TxOut[], coins: bigint[]) => {
      const spend = taprootSpend(xOnly, coins, outputs, ++tag);
      const res = await api<Sig>('POST', `/v1/keys/${keyId}/signatures?wait=30000`, { intent: spend.intent as Intent });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return { sig: res.body, prevouts: spend.prevouts };
    };
    /** What a validating node checks: each witness signature over the sighash of the final bytes. */
    const verifyTransaction = (sig: Sig, prevouts: TxOut[]) => {
      const raw = parseRawTx(sig.finalized?.transactionHex as string);
      expect(txid(raw)).toBe(sig.finalized?.txid);
      raw.inputs.forEach((input, i) => {
        expect(input.witness).toHaveLength(1);
        const sighash = bip341KeyPathSighash(raw, i, prevouts);
        expect(secp.verifySchnorr(sighash, xOnly, input.witness[0] as Uint8Array), `input ${i}`).toBe(true);
        expect(Buffer.from(input.witness[0] as Uint8Array).toString('hex')).toBe(sig.signatures?.[i]);
      });
    };

    const change = (amount: bigint): TxOut => ({ script: Uint8Array.of(0x51, 0x20, ...xOnly), amount });
    const first = await sign([{ script: shop.script, amount: 70_000n }, change(25_000n)], [40_000n, 60_000n]);
    expect(first.sig.status, JSON.stringify(first.sig.excluded)).toBe('completed');
    expect(first.sig.signatures).toHaveLength(2);
    verifyTransaction(first.sig, first.prevouts);

    const offList = await sign([{ script: stranger.script, amount: 70_000n }], [80_000n]);
    expect(offList.sig.status).toBe('rejected');
    for (const e of offList.sig.excluded) expect(e.reason).toMatch(/^policy_no_matching_rule: /);

    const second = await sign([{ script: shop.script, amount: 10_000n }], [12_000n]);
    expect(second.sig.status, JSON.stringify(second.sig.excluded)).toBe('completed');
    verifyTransaction(second.sig, second.prevouts);

    // Each party counts what it signed itself, at most two a day. Which two of the three sign a
    // request is the coordinator's choice (the first ready), so the limit bites at the third spend
    // when the same two signed both, and at the fourth at the latest (3 × 2 shares = 3 requests).
    const signedBy = new Map<string, number>();
    for (const s of [first.sig, second.sig]) for (const p of s.signers ?? []) signedBy.set(p, (signedBy.get(p) ?? 0) + 1);
    let refused: Sig | undefined;
    for (let attempt = 0; attempt < 2 && !refused; attempt++) {
      const next = await sign([{ script: shop.script, amount: 10_000n }], [12_000n]);
      if (next.sig.status === 'rejected') refused = next.sig;
      else {
        expect(next.sig.status).toBe('completed');
        for (const p of next.sig.signers ?? []) signedBy.set(p, (signedBy.get(p) ?? 0) + 1);
      }
    }
    expect(refused, 'no spend was refused for velocity').toBeDefined();
    expect(refused?.excluded.length).toBeGreaterThanOrEqual(2);
    for (const e of refused?.excluded ?? []) expect(e.reason).toMatch(/^policy_velocity_exceeded: /);
    for (const [party, n] of signedBy) expect(n, `${party} signed ${n} spends in a day`).toBeLessThanOrEqual(2);

    // Each party's own hash-chained decision log holds its activation and every decision it made, and verifies.
    let decisions = 0;
    for (const party of cluster.parties) {
      const r = spawnSync(process.execPath, [PARTY_CLI, 'audit', 'verify', '--data-dir', join(dataDir, party)], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const verdict = JSON.parse(r.stdout) as { ok: boolean; decisions: { ok: boolean; events: number } };
      expect(verdict.decisions.ok).toBe(true);
      decisions += verdict.decisions.events - 1; // less its activation
    }
    // At least t = 2 decisions per request: two signed, two refused.
    expect(decisions).toBeGreaterThanOrEqual(8);
    const parties = await api<{ parties: { policyVersion: number | null }[] }>('GET', '/v1/parties');
    expect(parties.body.parties.map((p) => p.policyVersion)).toEqual([2, 2, 2]);
  });
});
