/**
 * The party's link to the coordinator notices a silent cut. A fake coordinator does the real
 * handshake, then stops answering WebSocket pings (as a peer behind a pulled cable, a NAT that
 * forgot the flow, or an address that changed would): the party must give the link up and dial
 * again by itself. With pings answered, the link stays up. And a coordinator that cannot prove the
 * pinned identity (a network attacker in the middle) is never taken for the coordinator.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { coordinatorAuthBytes, generateIdentity, type Rng, toHex } from '@glacis/protocol';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createCoordinatorClient } from '../src/transport/coordinator-client.js';

const rng: Rng = (n = 32) => new Uint8Array(randomBytes(n));
const coordinator = generateIdentity(rng);
const party = generateIdentity(rng);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

/**
 * A coordinator that authenticates the party and then, with `autoPong: false`, never answers a
 * ping; `signer` answers the party's challenge (the real coordinator's key unless an impostor's).
 */
async function fakeCoordinator(autoPong: boolean, signer = coordinator) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong });
  await new Promise((r) => wss.once('listening', r));
  let connections = 0;
  wss.on('connection', (ws) => {
    connections++;
    ws.send(JSON.stringify({ t: 'challenge', nonce: toHex(rng(32)) }));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.t === 'auth') {
        ws.send(JSON.stringify({ t: 'welcome', signature: toHex(signer.sign(coordinatorAuthBytes(frame.nonce, frame.partyId))) }));
      }
    });
  });
  cleanup.push(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/ws`, connections: () => connections };
}

function client(url: string, events: string[]) {
  const c = createCoordinatorClient({
    url,
    partyId: 'party-1',
    identity: party,
    coordinatorKey: coordinator.publicKey,
    reconnect: { initialMs: 20, maxMs: 50 },
    heartbeat: { intervalMs: 100 },
    logger: pino({ level: 'silent' }),
    onEnvelope: () => {},
    onConnected: () => events.push('connected'),
    onDisconnected: () => events.push('disconnected'),
  });
  cleanup.push(() => c.stop());
  c.start();
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('a coordinator that stops answering pings is given up within two intervals, and the party dials again', async () => {
  const fake = await fakeCoordinator(false);
  const events: string[] = [];
  client(fake.url, events);
  await sleep(600);
  expect(events.slice(0, 3)).toEqual(['connected', 'disconnected', 'connected']);
  expect(fake.connections()).toBeGreaterThanOrEqual(2);
});

it('a coordinator that answers pings keeps one connection', async () => {
  const fake = await fakeCoordinator(true);
  const events: string[] = [];
  const c = client(fake.url, events);
  await sleep(600);
  expect(events).toEqual(['connected']);
  expect(c.connected).toBe(true);
  expect(fake.connections()).toBe(1);
});

it('an impostor that cannot sign with the pinned coordinator key is never taken for the coordinator', async () => {
  const fake = await fakeCoordinator(true, generateIdentity(rng));
  const events: string[] = [];
  const c = client(fake.url, events);
  await sleep(400);
  expect(events).toEqual([]);
  expect(c.connected).toBe(false);
  // It keeps trying (the real coordinator may come back), each attempt refused the same way.
  expect(fake.connections()).toBeGreaterThanOrEqual(2);
});
