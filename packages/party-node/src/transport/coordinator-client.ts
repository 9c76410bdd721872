/**
 * The party's only network link: one outbound WebSocket to the coordinator, mutually authenticated
 * (party signs the coordinator's challenge; the coordinator signs the party's, checked against the
 * pinned coordinator key), with reconnection by capped exponential backoff and full jitter.
 *
 * A WebSocket ping goes to the coordinator every `heartbeat.intervalMs` once the link is up; a ping
 * still unanswered at the next one ends the link and starts a reconnection. Without it a silent
 * cut (a cable pulled, a NAT or firewall forgetting the flow, the party's address changing) would
 * leave an idle party "connected" to a socket nothing answers on, for good: the party sends
 * nothing while idle, so TCP itself never notices.
 */
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type ConnectionOptions, checkServerIdentity, type PeerCertificate } from 'node:tls';
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
import WebSocket, { type ClientOptions } from 'ws';

/** How a wss:// link is checked: the chain (to `caFile`, else the system's CAs), the name, and the pin. */
export interface CoordinatorTls {
  /** SHA-256 (hex) of the coordinator certificate's SubjectPublicKeyInfo. */
  pinSha256: string;
  /** PEM of the private CA (or the self-signed certificate) the chain must lead to. */
  caFile?: string;
}

export interface CoordinatorClientOptions {
  url: string;
  /** Required for a wss:// url. */
  tls?: CoordinatorTls;
  partyId: string;
  identity: IdentityKey;
  coordinatorKey: Uint8Array;
  reconnect: { initialMs: number; maxMs: number };
  /** Liveness pings; a dead link is noticed within two intervals. Default 10 s. */
  heartbeat?: { intervalMs: number };
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

/**
 * The TLS options of a pinned link: Node verifies the chain and the host name, then the pin must
 * match, or the handshake fails before a byte of the WebSocket upgrade is sent. The CA file is read
 * at every dial, so a rotated CA needs no restart.
 */
export function tlsOptions(tls: CoordinatorTls | undefined): Pick<ConnectionOptions, 'ca' | 'rejectUnauthorized' | 'checkServerIdentity'> {
  if (!tls) return {};
  return {
    ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
    rejectUnauthorized: true,
    checkServerIdentity(host: string, cert: PeerCertificate): Error | undefined {
      const wrongName = checkServerIdentity(host, cert);
      if (wrongName) return wrongName;
      // cert.pubkey is the bare key for EC certificates; the pin is of the whole SubjectPublicKeyInfo.
      const spki = new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' });
      const pin = createHash('sha256').update(spki).digest('hex');
      if (pin !== tls.pinSha256) return new Error(`the coordinator's TLS key does not match the pinned one (got sha256 ${pin})`);
      return undefined;
    },
  };
}

export function createCoordinatorClient(o: CoordinatorClientOptions): CoordinatorClient {
  let ws: WebSocket | undefined;
  let ready = false;
  let stopped = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  const heartbeatMs = o.heartbeat?.intervalMs ?? 10_000;

  function scheduleReconnect(): void {
    if (stopped) return;
    const cap = Math.min(o.reconnect.maxMs, o.reconnect.initialMs * 2 ** Math.min(attempt, 16));
    const delay = Math.round(cap / 2 + Math.random() * (cap / 2));
    attempt++;
    timer = setTimeout(connect, delay);
  }

  function connect(): void {
    if (stopped) return;
    let socket: WebSocket;
    try {
      // ws passes these to tls.connect; its own typing of checkServerIdentity is older than Node's.
      const tls = tlsOptions(o.tls) as unknown as ClientOptions;
      socket = new WebSocket(o.url, { maxPayload: 16 * 1024 * 1024, handshakeTimeout: 10_000, ...tls });
    } catch (e) {
      // A CA file that cannot be read now may be restored: keep trying, and say why.
      o.logger.error({ err: (e as Error).message }, 'cannot dial the coordinator');
      scheduleReconnect();
      return;
    }
    ws = socket;
    const myChallenge = toHex(randomBytes(32));
    let authed = false;
    let answered = true;
    socket.on('pong', () => {
      answered = true;
    });
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
        clearInterval(heartbeat);
        heartbeat = setInterval(() => {
          if (!answered) {
            o.logger.warn({ afterMs: heartbeatMs }, 'coordinator did not answer the heartbeat; reconnecting');
            socket.terminate();
            return;
          }
          answered = false;
          socket.ping();
        }, heartbeatMs);
        heartbeat.unref();
        o.logger.info({ url: o.url }, 'connected to coordinator');
        o.onConnected();
      } else if (frame.t === 'env' && authed) {
        o.onEnvelope(frame.envelope);
      } else {
        socket.close(WS_CLOSE.protocolViolation, 'unexpected frame');
      }
    });
    socket.on('close', (code, reason) => {
      if (ws === socket) clearInterval(heartbeat);
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
      // A failed TLS check is a configuration (or an attack) an operator must see; a refused dial is routine.
      const tlsFailure = (e as { code?: string }).code?.startsWith('ERR_TLS') || /TLS|certificate|pinned/i.test(e.message);
      if (tlsFailure) o.logger.error({ err: e.message }, 'coordinator TLS check failed');
      else o.logger.debug({ err: e.message }, 'coordinator connection error');
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
      clearInterval(heartbeat);
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
