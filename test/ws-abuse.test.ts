/**
 * The party WebSocket endpoint under abuse: malformed frames, strangers, bad signatures, forged
 * senders. Each offender is disconnected with a close code and counted in
 * glacis_ws_rejected_total{reason}; the coordinator stays up and keeps signing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEnvelopeSealer, generateIdentity, type IdentityKey, partyAuthBytes, toHex, WS_CLOSE } from '@glacis/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openKeystore } from '../packages/party-node/src/keystore/keystore.js';
import { resolveUnlockSource } from '../packages/party-node/src/keystore/unlock.js';
// @ts-expect-error plain ESM module without types
import { startLocalCluster } from '../scripts/local-cluster.mjs';
import { rng } from './support/in-process-cluster.js';
import { restClient } from './support/rest-client.js';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;
const dataDir = mkdtempSync(join(tmpdir(), 'glacis-ws-abuse-'));
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startLocalCluster({ dataDir, port: 0, parties: 3 });
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function rejected(reason: string): Promise<number> {
  const text = await (await fetch(`${cluster.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`glacis_ws_rejected_total{reason="${reason}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Opens a raw connection, waits for the challenge, runs `act`, and resolves with the close code. */
function session(act: (ws: WebSocket, challenge: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(cluster.wsUrl);
    const timer = setTimeout(() => reject(new Error('the coordinator did not close the connection')), 10_000);
    ws.once('message', (data) => act(ws, JSON.parse(data.toString()).nonce));
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    ws.once('error', () => undefined);
  });
}

const authFrame = (identity: IdentityKey, partyId: string, challenge: string) =>
  JSON.stringify({ t: 'auth', partyId, nonce: toHex(rng(32)), signature: toHex(identity.sign(partyAuthBytes(challenge, partyId))) });

describe('party WebSocket abuse', () => {
  it('malformed JSON is disconnected (4400) and counted', async () => {
    const before = await rejected('malformed_frame');
    expect(await session((ws) => ws.send('{not json'))).toBe(WS_CLOSE.protocolViolation);
    expect(await rejected('malformed_frame')).toBe(before + 1);
  });

  it('a binary frame is disconnected and counted', async () => {
    const before = await rejected('malformed_frame');
    expect(await session((ws) => ws.send(Buffer.from([1, 2, 3])))).toBe(WS_CLOSE.protocolViolation);
    expect(await rejected('malformed_frame')).toBe(before + 1);
  });

  it('a stranger (identity not configured) is refused (4401) and counted', async () => {
    const before = await rejected('auth_failed');
    const stranger = generateIdentity(rng);
    expect(await session((ws, c) => ws.send(authFrame(stranger, 'party-9', c)))).toBe(WS_CLOSE.unauthorized);
    expect(await rejected('auth_failed')).toBe(before + 1);
  });

  it("a configured party id with someone else's key is refused (4401)", async () => {
    const before = await rejected('auth_failed');
    const impostor = generateIdentity(rng);
    expect(await session((ws, c) => ws.send(authFrame(impostor, 'party-1', c)))).toBe(WS_CLOSE.unauthorized);
    expect(await rejected('auth_failed')).toBe(before + 1);
  });

  it('an envelope before authentication is refused', async () => {
    const before = await rejected('unauthenticated');
    const env = createEnvelopeSealer('party-1', generateIdentity(rng), 1).seal({
      type: 'key_sync',
      sessionId: 'x',
      to: 'coordinator',
      body: { pendingKeys: [] },
    });
    expect(await session((ws) => ws.send(JSON.stringify({ t: 'env', envelope: env })))).toBe(WS_CLOSE.unauthorized);
    expect(await rejected('unauthenticated')).toBe(before + 1);
  });

  it('an authenticated party that forges another sender is disconnected; the cluster keeps signing', async () => {
    const p1 = join(dataDir, 'party-1');
    const identity = openKeystore(p1, resolveUnlockSource({ kekFile: join(dataDir, 'secrets', 'party-1.kek') }, {})).loadIdentity();
    const before = await rejected('bad_signature');
    const code = await session((ws, c) => {
      ws.send(authFrame(identity, 'party-1', c));
      ws.once('message', () => {
        // Signed by party-1, claiming to be party-2.
        const forged = createEnvelopeSealer('party-2', identity, Date.now() * 1000).seal({
          type: 'key_sync',
          sessionId: 'x',
          to: 'coordinator',
          body: { pendingKeys: [] },
        });
        ws.send(JSON.stringify({ t: 'env', envelope: forged }));
      });
    });
    expect(code).toBe(WS_CLOSE.protocolViolation);
    expect(await rejected('bad_signature')).toBe(before + 1);

    // The coordinator is still up; the real party-1 (replaced by our session) reconnects by itself.
    await cluster.waitConnected(3);
    const api = restClient(cluster.baseUrl, cluster.adminToken);
    const key = await api<{ keyId: string; status: string }>('POST', '/v1/keys?wait=30000', { suite: 'ed25519', threshold: 3 });
    expect(key.body.status).toBe('active');
    const sig = await api<{ status: string }>('POST', `/v1/keys/${key.body.keyId}/signatures?wait=30000`, { message: '0102' });
    expect(sig.body.status).toBe('completed');
  });
});
