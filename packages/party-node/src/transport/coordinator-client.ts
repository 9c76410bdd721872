/**
 * The party's only network link: one outbound WebSocket to the coordinator, mutually authenticated
 * (party signs the coordinator's challenge; the coordinator signs the party's, checked against the
 * pinned coordinator key), with reconnection by capped exponential backoff and full jitter.
 */
import { randomBytes } from 'node:crypto';
import {
  coordinatorAuthBytes,
  type Envelope,
  fromHex,
  type IdentityKey,
  partyAuthBytes,
  toHex,
  transportFrameSchema,
  verifyIdentitySignature,
  WS_CLOSE,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import WebSocket from 'ws';

export interface CoordinatorClientOptions {
  url: string;
  partyId: string;
  identity: IdentityKey;
  coordinatorKey: Uint8Array;
  reconnect: { initialMs: number; maxMs: number };
  logger: Logger;
  onEnvelope: (env: Envelope) => void;
  onConnected: () => void;
  onDisconnected: () => void;
}

export interface CoordinatorClient {
  readonly connected: boolean;
  start(): void;
  /** Sends one envelope; false when not connected (the caller decides whether that matters). */
  send(env: Envelope): boolean;
  stop(): Promise<void>;
}

export function createCoordinatorClient(o: CoordinatorClientOptions): CoordinatorClient {
  let ws: WebSocket | undefined;
  let ready = false;
  let stopped = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;

  function scheduleReconnect(): void {
    if (stopped) return;
    const cap = Math.min(o.reconnect.maxMs, o.reconnect.initialMs * 2 ** Math.min(attempt, 16));
    const delay = Math.round(cap / 2 + Math.random() * (cap / 2));
    attempt++;
    timer = setTimeout(connect, delay);
  }

  function connect(): void {
    if (stopped) return;
    const socket = new WebSocket(o.url, { maxPayload: 16 * 1024 * 1024, handshakeTimeout: 10_000 });
    ws = socket;
    const myChallenge = toHex(randomBytes(32));
    let authed = false;
    socket.on('message', (data) => {
      let frame: ReturnType<typeof transportFrameSchema.parse>;
      try {
        frame = transportFrameSchema.parse(JSON.parse(data.toString()));
      } catch (e) {
        o.logger.warn({ err: (e as Error).message }, 'malformed frame from coordinator');
        socket.close(WS_CLOSE.protocolViolation, 'malformed frame');
        return;
      }
      if (frame.t === 'challenge' && !authed) {
        const signature = toHex(o.identity.sign(partyAuthBytes(frame.nonce, o.partyId)));
        socket.send(JSON.stringify({ t: 'auth', partyId: o.partyId, nonce: myChallenge, signature }));
      } else if (frame.t === 'welcome' && !authed) {
        if (!verifyIdentitySignature(fromHex(frame.signature), coordinatorAuthBytes(myChallenge, o.partyId), o.coordinatorKey)) {
          o.logger.error('coordinator failed to prove its identity (pinned key mismatch); disconnecting');
          socket.close(WS_CLOSE.unauthorized, 'coordinator identity mismatch');
          return;
        }
        authed = true;
        ready = true;
        attempt = 0;
        o.logger.info({ url: o.url }, 'connected to coordinator');
        o.onConnected();
      } else if (frame.t === 'env' && authed) {
        o.onEnvelope(frame.envelope);
      } else {
        socket.close(WS_CLOSE.protocolViolation, 'unexpected frame');
      }
    });
    socket.on('close', (code, reason) => {
      const wasReady = ready;
      ready = false;
      if (ws === socket) ws = undefined;
      if (wasReady) {
        o.logger.warn({ code, reason: reason.toString() }, 'disconnected from coordinator');
        o.onDisconnected();
      }
      scheduleReconnect();
    });
    socket.on('error', (e) => {
      o.logger.debug({ err: e.message }, 'coordinator connection error');
    });
  }

  return {
    get connected() {
      return ready;
    },
    start: connect,
    send(env) {
      if (!ready || !ws) return false;
      ws.send(JSON.stringify({ t: 'env', envelope: env }));
      return true;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const s = ws;
      if (s && s.readyState !== WebSocket.CLOSED) {
        await new Promise<void>((resolve) => {
          s.once('close', () => resolve());
          s.close(1000, 'party shutting down');
        });
      }
    },
  };
}
