/**
 * A party pinned to several coordinator instances (one identity key, several endpoints) keeps a
 * link to each, answers a session over the link that carried it, and sends what no link carried,
 * or what belongs to a session every instance shares, to every instance. An endpoint that cannot
 * prove the pinned key gets nothing.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { coordinatorAuthBytes, type Envelope, generateIdentity, type Rng, toHex } from '@glacis/protocol';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { createCoordinatorLinks } from '../src/transport/coordinator-links.js';

const rng: Rng = (n = 32) => new Uint8Array(randomBytes(n));
const coordinator = generateIdentity(rng);
const impostor = generateIdentity(rng);
const party = generateIdentity(rng);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

/** An instance that does the handshake, keeps its socket, and records the sessions it receives. */
async function instance(signer = coordinator) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const got: string[] = [];
  let socket: WebSocket | undefined;
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify({ t: 'challenge', nonce: toHex(rng(32)) }));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.t === 'auth') {
        socket = ws;
        ws.send(JSON.stringify({ t: 'welcome', signature: toHex(signer.sign(coordinatorAuthBytes(frame.nonce, frame.partyId))) }));
      } else if (frame.t === 'env') got.push(frame.envelope.sessionId);
    });
  });
  cleanup.push(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/ws`,
    got,
    /** Sends an envelope of `sessionId` to the party (its content is not checked by the links). */
    deliver: (sessionId: string) => socket?.send(JSON.stringify({ t: 'env', envelope: envelope(sessionId) })),
    ready: () => socket !== undefined,
  };
}

const envelope = (sessionId: string) =>
  ({ v: 1, type: 'commitments', sessionId, from: 'party-1', to: 'coordinator', seq: 1, body: {}, signature: '00' }) as unknown as Envelope;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean) {
  for (let i = 0; i < 200 && !pred(); i++) await sleep(10);
  expect(pred()).toBe(true);
}

function links(urls: string[], received: string[], sharedSessions: string[] = []) {
  const c = createCoordinatorLinks({
    urls,
    sharedSessions,
    partyId: 'party-1',
    identity: party,
    coordinatorKey: coordinator.publicKey,
    reconnect: { initialMs: 20, maxMs: 50 },
    logger: pino({ level: 'silent' }),
    onEnvelope: (env) => received.push(env.sessionId),
    onConnected: () => undefined,
    onDisconnected: () => undefined,
  });
  cleanup.push(() => c.stop());
  c.start();
  return c;
}

it('answers each session over the link that carried it, and what no link carried over every link', async () => {
  const a = await instance();
  const b = await instance();
  const received: string[] = [];
  const c = links([a.url, b.url], received);
  await until(() => a.ready() && b.ready());
  a.deliver('sign-aaaa-0-sig_1');
  b.deliver('sign-bbbb-0-sig_2');
  await until(() => received.length === 2);
  expect(c.send(envelope('sign-aaaa-0-sig_1'))).toBe(true);
  expect(c.send(envelope('sign-bbbb-0-sig_2'))).toBe(true);
  expect(c.send(envelope('key-sync'))).toBe(true);
  await until(() => a.got.length + b.got.length === 4);
  expect(a.got).toEqual(['sign-aaaa-0-sig_1', 'key-sync']);
  expect(b.got).toEqual(['sign-bbbb-0-sig_2', 'key-sync']);
});

it('a session every instance shares (the policy channel) is answered over every link, whichever carried it last', async () => {
  const a = await instance();
  const b = await instance();
  const received: string[] = [];
  const c = links([a.url, b.url], received, ['policy']);
  await until(() => a.ready() && b.ready());
  b.deliver('policy');
  a.deliver('sign-aaaa-0-sig_1');
  await until(() => received.length === 2);
  expect(c.send(envelope('policy'))).toBe(true);
  expect(c.send(envelope('sign-aaaa-0-sig_1'))).toBe(true);
  await until(() => a.got.length + b.got.length === 3);
  expect(a.got).toEqual(['policy', 'sign-aaaa-0-sig_1']);
  expect(b.got).toEqual(['policy']);
});

it('an endpoint that cannot prove the pinned coordinator key is never linked; the others are', async () => {
  const real = await instance();
  const fake = await instance(impostor);
  const c = links([fake.url, real.url], []);
  await until(() => real.ready() && c.connected);
  expect(c.send(envelope('key-sync'))).toBe(true);
  await until(() => real.got.length === 1);
  await sleep(100);
  expect(fake.got).toEqual([]);
});
