/**
 * TLS as docs/operations.md sets it up: its openssl block makes a private CA and the coordinator's
 * certificate, the coordinator serves REST and /v1/ws over TLS, parties dial wss:// pinned to the
 * certificate's public key and sign; plain HTTP gets nothing; a party pinned to another key never
 * connects (and says why); a wss:// URL without a pin is refused by the configuration.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { COORDINATOR_CLI, PARTY_CLI, startLocalCluster, waitFor } from '../scripts/local-cluster.mjs';
import { verifyIndependently } from './support/independent-verify.js';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;
const ROOT = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'glacis-tls-'));
const pki = join(work, 'pki');
let cluster: Cluster;
let pin: string;

/** The ```sh block under `<!-- tls-setup -->` in docs/operations.md. */
function setupBlock(): string {
  const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
  const m = /<!-- tls-setup -->\n```sh\n([\s\S]*?)\n```/.exec(doc);
  if (!m) throw new Error('docs/operations.md has no <!-- tls-setup --> block');
  return m[1] as string;
}

/** A JSON request over TLS trusting only the private CA. */
function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  return new Promise((ok, fail) => {
    const req = request(
      `${cluster.baseUrl}${path}`,
      {
        method,
        ca: readFileSync(join(pki, 'ca.pem')),
        headers: { authorization: `Bearer ${cluster.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => ok({ status: res.statusCode ?? 0, body: JSON.parse(text) as T }));
      },
    );
    req.on('error', fail);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

beforeAll(async () => {
  mkdirSync(pki);
  const out = execFileSync('bash', ['-ec', setupBlock()], { cwd: pki, encoding: 'utf8', env: { ...process.env, SAN: 'IP:127.0.0.1' } });
  pin = out.trim().split('\n').pop() as string;
  expect(pin).toMatch(/^[0-9a-f]{64}$/);
  cluster = await startLocalCluster({
    dataDir: join(work, 'cluster'),
    port: 0,
    parties: 2,
    tls: { certFile: join(pki, 'coordinator.pem'), keyFile: join(pki, 'coordinator.key'), caFile: join(pki, 'ca.pem'), pin },
  });
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('TLS with a private CA (docs/operations.md)', () => {
  it('glacis-coordinator tls pin prints the pin the docs compute with openssl', () => {
    const r = spawnSync(process.execPath, [COORDINATOR_CLI, 'tls', 'pin', '--cert', join(pki, 'coordinator.pem')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ sha256: pin });
  });

  it('parties connect over pinned wss://, and a key is made and signs over https://', async () => {
    expect(cluster.wsUrl).toMatch(/^wss:\/\//);
    const key = await api<{ keyId: string; status: string; publicKey: string }>('POST', '/v1/keys?wait=30000', {
      suite: 'ed25519',
      threshold: 2,
    });
    expect(key.body.status).toBe('active');
    const sig = await api<{ status: string; signature: string }>('POST', `/v1/keys/${key.body.keyId}/signatures?wait=30000`, {
      message: '7473',
    });
    expect(sig.body.status).toBe('completed');
    expect(verifyIndependently('ed25519', key.body.publicKey, Buffer.from('7473', 'hex'), sig.body.signature)).toBe(true);
  });

  it('plain HTTP on the TLS port gets no API', async () => {
    const plain = cluster.baseUrl.replace('https://', 'http://');
    const answer = await fetch(`${plain}/v1/health`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(answer === 'refused' || answer === 400).toBe(true);
  });

  it('a party pinned to another key never connects, and logs why', async () => {
    const wrong = 'ab'.repeat(32);
    const dir = join(work, 'cluster', 'party-2');
    const cfg = JSON.parse(readFileSync(join(dir, 'party.json'), 'utf8'));
    await cluster.kill('party-2', 'SIGTERM');
    const set = spawnSync(process.execPath, [PARTY_CLI, 'pin', '--data-dir', dir, '--coordinator-tls-pin', wrong], { encoding: 'utf8' });
    expect(set.status, set.stderr).toBe(0);
    cluster.startParty('party-2');
    const log = join(work, 'cluster', 'logs', 'party-2.log');
    await waitFor(() => readFileSync(log, 'utf8').includes('coordinator TLS check failed'), 'party-2 to refuse the key', 30_000);
    expect(readFileSync(log, 'utf8')).toContain('does not match the pinned one');
    const health = await api<{ parties: { connected: number } }>('GET', '/v1/health');
    expect(health.body.parties.connected).toBe(1);
    // Put the right pin back for whatever runs next.
    await cluster.kill('party-2', 'SIGTERM');
    spawnSync(process.execPath, [PARTY_CLI, 'pin', '--data-dir', dir, '--coordinator-tls-pin', cfg.coordinator.tlsPin]);
  });

  it('a wss:// coordinator URL without a pin is refused by the party configuration', () => {
    const dir = join(work, 'unpinned');
    const r = spawnSync(
      process.execPath,
      [PARTY_CLI, 'init', '--data-dir', dir, '--party-id', 'p9', '--coordinator-url', 'wss://127.0.0.1:1/v1/ws'],
      { encoding: 'utf8', env: { ...process.env, GLACIS_KEK: 'ab'.repeat(32) } },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/tlsPin: a wss:\/\/ coordinator url needs tlsPin/);
  });
});
