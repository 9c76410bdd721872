/**
 * The party WebSocket endpoint before authentication: strangers may hold only so many sockets
 * open at once, may send only so many bytes before they authenticate, and a silent one is still
 * cut at the handshake timeout. Authenticated parties never count against those limits.
 */
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { generateIdentity, partyAuthBytes, toHex, WS_CLOSE } from '@glacis/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { type ConnectionHub, createConnectionHub, type HubOptions } from '../src/orchestrator/connections.js';

const rng = (n = 32) => crypto.getRandomValues(new Uint8Array(n));
const party = generateIdentity(rng);
let server: Server | undefined;
let hub: ConnectionHub | undefined;
const open: WebSocket[] = [];

afterEach(async () => {
  for (const ws of open.splice(0)) ws.terminate();
  await hub?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  hub = undefined;
  server = undefined;
});

async function start(limits: Partial<HubOptions>): Promise<{ url: string; port: number; rejected: string[] }> {
  const rejected: string[] = [];
  hub = createConnectionHub({
    identity: generateIdentity(rng),
    parties: new Map([['p1', party.publicKey]]),
    logger: pino({ level: 'silent' }),
    events: {
      onConnected: () => undefined,
      onDisconnected: () => undefined,
      onMessage: () => undefined,
      onRejected: (r) => rejected.push(r),
    },
    handshakeTimeoutMs: 600_000,
    ...limits,
  });
  server = createServer();
  hub.attach(server);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}/v1/ws`, port, rejected };
}

/** A connection that got its challenge (and stays silent), or the HTTP status its upgrade was refused with. */
function dial(url: string): Promise<{ ws: WebSocket; challenge: string } | { refused: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    open.push(ws);
    ws.once('message', (data) => resolve({ ws, challenge: JSON.parse(String(data)).nonce }));
    ws.once('unexpected-response', (_req, res) => resolve({ refused: res.statusCode ?? 0 }));
    ws.once('error', reject);
  });
}

function authenticate(ws: WebSocket, challenge: string): Promise<void> {
  return new Promise((resolve) => {
    ws.once('message', () => resolve());
    const signature = toHex(party.sign(partyAuthBytes(challenge, 'p1')));
    ws.send(JSON.stringify({ t: 'auth', partyId: 'p1', nonce: toHex(rng(32)), signature }));
  });
}

describe('unauthenticated party sockets', () => {
  test('past maxUnauthenticated a new socket is refused at the upgrade (503), and a freed slot is reused', async () => {
    const { url, rejected } = await start({ maxUnauthenticated: 2 });
    const a = await dial(url);
    const b = await dial(url);
    expect('ws' in a && 'ws' in b).toBe(true);
    expect(await dial(url)).toEqual({ refused: 503 });
    expect(rejected).toContain('too_many_unauthenticated');
    if ('ws' in a) a.ws.close();
    await new Promise((r) => setTimeout(r, 100));
    expect('ws' in (await dial(url))).toBe(true);
  });

  test('an authenticated party does not hold an unauthenticated slot', async () => {
    const { url } = await start({ maxUnauthenticated: 1 });
    const first = await dial(url);
    if (!('ws' in first)) throw new Error('refused');
    await authenticate(first.ws, first.challenge);
    expect('ws' in (await dial(url))).toBe(true);
  });

  test('a socket sending more than maxPreAuthBytes before authenticating is cut at once', async () => {
    const { port, rejected } = await start({ maxPreAuthBytes: 4096 });
    const closed = await new Promise<string>((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1' }, () => {
        s.write(
          'GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
        // One masked text frame that claims 1 MiB and trickles in: without the cap it would be
        // buffered until the handshake timeout.
        const header = Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4]);
        s.write(Buffer.concat([header, Buffer.alloc(32 * 1024, 0x61)]));
      });
      s.on('error', () => undefined);
      s.resume(); // reads (and drops) the 101, so the end of the stream is seen
      s.on('close', () => resolve('closed'));
      s.setTimeout(60_000, () => reject(new Error('not cut')));
    });
    expect(closed).toBe('closed');
    expect(rejected).toContain('preauth_too_large');
  });

  test('an authenticated party may send frames larger than the pre-auth limit', async () => {
    const { url } = await start({ maxPreAuthBytes: 4096 });
    const c = await dial(url);
    if (!('ws' in c)) throw new Error('refused');
    await authenticate(c.ws, c.challenge);
    const closedWith = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    // Malformed on purpose: the answer is the protocol-violation close, not a cut for size.
    c.ws.send(JSON.stringify({ t: 'env', envelope: { pad: 'x'.repeat(64 * 1024) } }));
    expect(await closedWith).toBe(WS_CLOSE.protocolViolation);
  });

  test('a silent unauthenticated socket is still cut at the handshake timeout', async () => {
    const { url, rejected } = await start({ handshakeTimeoutMs: 200 });
    const c = await dial(url);
    if (!('ws' in c)) throw new Error('refused');
    const code = await new Promise<number>((resolve) => c.ws.once('close', (cc) => resolve(cc)));
    expect(code).toBe(WS_CLOSE.unauthorized);
    expect(rejected).toContain('handshake_timeout');
  });
});
