/**
 * Party connections: the WebSocket endpoint parties dial, the mutual challenge–response handshake,
 * and one live connection per party. Anything malformed or unauthenticated is disconnected and
 * counted; the coordinator itself never goes down for it.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  COORDINATOR,
  coordinatorAuthBytes,
  type Envelope,
  fromHex,
  type IdentityKey,
  isProtocolError,
  type Message,
  openEnvelope,
  partyAuthBytes,
  ReplayGuard,
  toHex,
  transportFrameSchema,
  verifyIdentitySignature,
  WS_CLOSE,
} from '@glacis/protocol';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';

/** The WebSocket path parties connect to. */
export const PARTY_WS_PATH = '/v1/ws';

export interface ConnectionEvents {
  onConnected(partyId: string): void;
  onDisconnected(partyId: string): void;
  /** An authenticated envelope from `partyId` (already checked: signature, sender, replay). */
  onMessage(partyId: string, msg: Message, env: Envelope): void;
  /** Something was rejected; `reason` is a metric label. */
  onRejected(reason: string): void;
}

export interface ConnectionHub {
  isConnected(partyId: string): boolean;
  lastSeen(partyId: string): Date | undefined;
  /** Sends an envelope to a connected party; false if it is not connected. */
  send(partyId: string, env: Envelope): boolean;
  attach(server: Server): void;
  close(): Promise<void>;
}

export interface HubOptions {
  identity: IdentityKey;
  /** Pinned identity keys of admitted parties. */
  parties: ReadonlyMap<string, Uint8Array>;
  logger: Logger;
  events: ConnectionEvents;
  /** Largest frame accepted, bytes. */
  maxFrameBytes?: number;
  /** A connection must finish the handshake within this time. */
  handshakeTimeoutMs?: number;
  /** Ping interval; a link that misses a pong for one interval is cut (silent cut-offs). */
  heartbeatMs?: number;
  /** Sockets still authenticating at once; more are refused at the upgrade with 503 (default 256). */
  maxUnauthenticated?: number;
  /** Bytes a socket may send before it has authenticated; more and it is cut (default 16 KiB). */
  maxPreAuthBytes?: number;
}

export function createConnectionHub(o: HubOptions): ConnectionHub {
  const live = new Map<string, WebSocket>();
  const seen = new Map<string, Date>();
  const guard = new ReplayGuard();
  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxFrameBytes ?? 4 * 1024 * 1024 });
  const keyOf = (name: string) => o.parties.get(name);

  function reject(ws: WebSocket, code: number, reason: string, metric: string): void {
    o.events.onRejected(metric);
    o.logger.warn({ reason: metric }, `party connection rejected: ${reason}`);
    ws.close(code, reason.slice(0, 120));
  }

  // A cut that sends no FIN/RST leaves a half-open socket: ping, and cut links that stay silent.
  const alive = new WeakMap<WebSocket, boolean>();
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, o.heartbeatMs ?? 10_000);
  heartbeat.unref();

  // Before authentication a socket is a stranger's: how many may be open, and how much each may
  // send, are bounded, so strangers cannot hold memory (a frame is buffered whole by ws up to
  // maxFrameBytes) or sockets. The handshake timeout bounds how long.
  const maxUnauthenticated = o.maxUnauthenticated ?? 256;
  const maxPreAuthBytes = o.maxPreAuthBytes ?? 16 * 1024;
  let unauthenticated = 0;

  /** Counts a stranger's bytes until `authenticated()`; cuts the socket past the limit. */
  function meterPreAuth(socket: Duplex): { authenticated(): void } {
    let bytes = 0;
    let open = true;
    const meter = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= maxPreAuthBytes) return;
      o.events.onRejected('preauth_too_large');
      o.logger.warn({ reason: 'preauth_too_large', bytes }, 'party connection rejected: too much data before authentication');
      socket.destroy();
    };
    const release = () => {
      if (!open) return;
      open = false;
      unauthenticated--;
      socket.off('data', meter);
    };
    unauthenticated++;
    socket.on('data', meter);
    socket.once('close', release);
    return { authenticated: release };
  }

  function onConnection(ws: WebSocket, preAuth: { authenticated(): void }): void {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    const challenge = toHex(randomBytes(32));
    let partyId: string | undefined;
    const timer = setTimeout(() => {
      if (!partyId) reject(ws, WS_CLOSE.unauthorized, 'handshake timeout', 'handshake_timeout');
    }, o.handshakeTimeoutMs ?? 10_000);
    ws.send(JSON.stringify({ t: 'challenge', nonce: challenge }));

    ws.on('message', (data, isBinary) => {
      let frame: ReturnType<typeof transportFrameSchema.parse>;
      try {
        if (isBinary) throw new Error('binary frame');
        frame = transportFrameSchema.parse(JSON.parse(data.toString()));
      } catch {
        return reject(ws, WS_CLOSE.protocolViolation, 'malformed frame', 'malformed_frame');
      }
      if (!partyId) {
        if (frame.t !== 'auth') return reject(ws, WS_CLOSE.unauthorized, 'expected auth', 'unauthenticated');
        const key = keyOf(frame.partyId);
        if (!key || !verifyIdentitySignature(fromHex(frame.signature), partyAuthBytes(challenge, frame.partyId), key)) {
          return reject(ws, WS_CLOSE.unauthorized, 'authentication failed', 'auth_failed');
        }
        clearTimeout(timer);
        preAuth.authenticated();
        partyId = frame.partyId;
        const previous = live.get(partyId);
        live.set(partyId, ws);
        seen.set(partyId, new Date());
        if (previous) {
          previous.close(WS_CLOSE.replaced, 'replaced by a newer connection');
          // The old link is gone: whatever was in flight on it (a signing package) is lost, so
          // the drivers must see a disconnect before the new connection's connect.
          o.events.onDisconnected(partyId);
        }
        ws.send(JSON.stringify({ t: 'welcome', signature: toHex(o.identity.sign(coordinatorAuthBytes(frame.nonce, partyId))) }));
        o.logger.info({ partyId }, 'party connected');
        o.events.onConnected(partyId);
        return;
      }
      if (frame.t !== 'env') return reject(ws, WS_CLOSE.protocolViolation, `unexpected ${frame.t} frame`, 'unexpected_frame');
      seen.set(partyId, new Date());
      let msg: Message;
      try {
        msg = openEnvelope(frame.envelope, { self: COORDINATOR, keyOf, replay: guard, anyRecipient: true });
      } catch (e) {
        const code = isProtocolError(e) ? e.code : 'invalid_envelope';
        if (code === 'replayed_message') {
          o.events.onRejected(code);
          return; // a replay is dropped, not a reason to cut an honest party's link
        }
        return reject(ws, WS_CLOSE.protocolViolation, `envelope rejected: ${code}`, code);
      }
      if (msg.from !== partyId)
        return reject(ws, WS_CLOSE.protocolViolation, 'envelope sender differs from the connection', 'sender_mismatch');
      o.events.onMessage(partyId, msg, frame.envelope);
    });

    ws.on('close', () => {
      clearTimeout(timer);
      if (partyId && live.get(partyId) === ws) {
        live.delete(partyId);
        o.logger.info({ partyId }, 'party disconnected');
        o.events.onDisconnected(partyId);
      }
    });
    ws.on('error', (e) => o.logger.debug({ err: e.message }, 'party socket error'));
  }

  return {
    isConnected: (p) => live.has(p),
    lastSeen: (p) => seen.get(p),
    send(partyId, env) {
      const ws = live.get(partyId);
      if (!ws) return false;
      ws.send(JSON.stringify({ t: 'env', envelope: env }));
      return true;
    },
    attach(server) {
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        const path = (req.url ?? '').split('?')[0];
        if (path !== PARTY_WS_PATH) {
          socket.destroy();
          return;
        }
        if (unauthenticated >= maxUnauthenticated) {
          o.events.onRejected('too_many_unauthenticated');
          socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        // Metered from before the upgrade, so the bytes that came with the request (`head`, handed
        // back to the socket by ws) are counted too.
        const preAuth = meterPreAuth(socket);
        wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, preAuth));
      });
    },
    async close() {
      clearInterval(heartbeat);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
