/**
 * `npm run demo`: a one-shot tour. Starts a fresh local cluster, runs a DKG, checks the key as a
 * desk would (`glacis keys verify` against the parties' own identities), signs a message,
 * verifies the signature with OpenSSL (node:crypto) — no Glacis code in the check — and exits 0.
 */
import { execFile } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_CLI, startLocalCluster } from './local-cluster.mjs';

const step = (n, text) => console.log(`\n[${n}] ${text}`);
const dataDir = mkdtempSync(join(tmpdir(), 'glacis-demo-'));
let cluster;
let ok = false;
try {
  step(1, 'starting a coordinator and 3 party nodes (separate processes on 127.0.0.1)…');
  cluster = await startLocalCluster({ dataDir, port: 0, parties: 3 });
  console.log(`    coordinator ${cluster.baseUrl}; parties ${cluster.parties.join(', ')} connected`);
  const api = async (method, path, body) => {
    const res = await fetch(`${cluster.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${cluster.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  step(2, 'distributed key generation: ed25519, 2-of-3 (no dealer; no process ever holds the key)…');
  const key = await api('POST', '/v1/keys?wait=20000', { suite: 'ed25519', threshold: 2, label: 'demo' });
  if (key.status !== 'active') throw new Error(`key ended ${key.status}: ${JSON.stringify(key.error)}`);
  console.log(`    key ${key.keyId} active; public key ${key.publicKey}`);

  step(3, "checking the key as a desk would: glacis keys verify, against the parties' own identities…");
  const verdict = await new Promise((resolve, reject) => {
    const args = [CLIENT_CLI, 'keys', 'verify', key.keyId, '--trust', cluster.trustFile, '--url', cluster.baseUrl];
    execFile(process.execPath, args, { env: { ...process.env, GLACIS_TOKEN: cluster.adminToken } }, (err, stdout, stderr) =>
      err ? reject(new Error(`glacis keys verify refused the key: ${stderr.trim()}`)) : resolve(JSON.parse(stdout)),
    );
  });
  console.log(`    every party (${verdict.parties.join(', ')}) signed public key ${verdict.publicKey}`);

  const message = Buffer.from('Pay 1 BTC to Glacis demo, nonce 42');
  step(4, `signing "${message}" (any 2 of the 3 parties)…`);
  const sig = await api('POST', `/v1/keys/${key.keyId}/signatures?wait=20000`, { message: message.toString('hex') });
  if (sig.status !== 'completed') throw new Error(`signature ended ${sig.status}: ${JSON.stringify(sig.error)}`);
  console.log(`    signed by ${sig.signers.join(' + ')}: ${sig.signature}`);

  step(5, 'verifying with OpenSSL (node:crypto Ed25519, RFC 8032) — independent of Glacis…');
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(key.publicKey, 'hex').toString('base64url') },
    format: 'jwk',
  });
  ok = verify(null, message, publicKey, Buffer.from(sig.signature, 'hex'));
  console.log(`    OpenSSL says: ${ok ? 'VALID' : 'INVALID'}`);
} catch (e) {
  console.error(`demo failed: ${e.message}\n(logs kept in ${dataDir}/logs)`);
} finally {
  await cluster?.stop();
  if (ok) rmSync(dataDir, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
