#!/usr/bin/env node
/**
 * A fault-injecting TCP proxy: the LAN bench's link emulator for one party's connection to the
 * coordinator. This machine's kernel has no netem, so delay, jitter and (in loopback mode) loss are
 * made here, in user space, chunk by chunk, keeping byte order.
 *
 *   node test/lan/proxy.mjs --listen HOST:PORT --target HOST:PORT
 *
 * It prints {"event":"listening","port":N} on stdout, then takes one JSON command per line on
 * stdin and answers each with {"id", "ok", ...} on stdout:
 *
 *   {"cmd":"shape","upMs","upJitterMs","downMs","downJitterMs","lossRate"}
 *       one-way delay (uniform in ms ± jitter) per direction; "up" is party → coordinator.
 *       lossRate: a chunk is "lost" with this probability and arrives one retransmission timeout
 *       later (doubling while it keeps being lost), which is what TCP makes of packet loss.
 *       Used in loopback mode only; on the netns LAN, iptables drops real packets instead.
 *   {"cmd":"partition","on":true|false}
 *       on: every byte in both directions is held and new connections are not forwarded (a
 *       silent network: nothing is refused, nothing arrives); off: held bytes flow again, in order,
 *       as TCP's retransmissions would deliver them. (Loopback mode; netns cuts at the switch.)
 *   {"cmd":"reset","staleUpstream":bool}
 *       the party loses its connections: its side gets a TCP RST at once. The coordinator's side
 *       gets one too, unless staleUpstream (the RST was lost on a cut link): then that socket stays
 *       half-open, and is reset only when the coordinator sends on it after "release" (or sent
 *       on it while partitioned), as a host that lost the connection would answer.
 *   {"cmd":"abandon"}
 *       the coordinator gives up on the connections (as its TCP does after a long cut): its side
 *       gets an RST at once; the party's side stays half-open, reset the same way when the party
 *       next sends on it.
 *   {"cmd":"trip","pattern":"…"}
 *       arms a trip wire: the first coordinator → party chunk containing `pattern` is delivered,
 *       then everything the party sends is held (the link died right after the delivery).
 *       Emits {"event":"tripped"}.
 *   {"cmd":"release"}   ends "trip" holding and partition, flushes held bytes.
 *   {"cmd":"stats"}     {connections, stale, held, bytesUp, bytesDown, lost, partitioned, holdUp}
 *
 * The proxy exits when stdin closes.
 */
import net from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { listen: { type: 'string' }, target: { type: 'string' } } });
const split = (hp) => {
  const i = hp.lastIndexOf(':');
  return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
};
if (!values.listen || !values.target) {
  process.stderr.write('usage: proxy.mjs --listen HOST:PORT --target HOST:PORT\n');
  process.exit(64);
}
const listen = split(values.listen);
const target = split(values.target);

const shape = { upMs: 0, upJitterMs: 0, downMs: 0, downJitterMs: 0, lossRate: 0 };
let partitioned = false;
let holdUp = false; // set by a trip wire
let trip; // { pattern: Buffer }
const pairs = new Set();
const stale = new Set();
let bytesUp = 0;
let bytesDown = 0;
let lost = 0; // chunks that paid a retransmission timeout

const out = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

/** A TCP retransmission timeout as Linux computes it, roughly: srtt + 4·rttvar, at least 200 ms. */
function lossPenalty() {
  if (shape.lossRate <= 0) return 0;
  let rto = Math.max(200, shape.upMs + shape.downMs + 4 * Math.max(shape.upJitterMs, shape.downJitterMs));
  let extra = 0;
  while (Math.random() < shape.lossRate) {
    lost++;
    extra += rto;
    rto *= 2;
  }
  return extra;
}

/** One direction of one connection: delays chunks, keeps their order, holds them when told to. */
class Lane {
  constructor(name, dest, delayOf, held) {
    this.name = name;
    this.dest = dest;
    this.delayOf = delayOf;
    this.held = held;
    this.queue = [];
    this.lastDue = 0;
    this.timer = undefined;
    this.closed = false;
  }
  /** `item` is a Buffer, or 'end' (the sender closed its side). */
  push(item) {
    if (this.closed) return;
    const due = Math.max(this.lastDue, Date.now() + this.delayOf());
    this.lastDue = due;
    this.queue.push({ due, item });
    this.pump();
  }
  pump() {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.queue.length > 0 && !this.held() && !this.closed) {
      const head = this.queue[0];
      const wait = head.due - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => this.pump(), wait);
        return;
      }
      this.queue.shift();
      if (head.item === 'end') {
        this.dest.end();
        this.closed = true;
      } else if (!this.dest.destroyed) {
        this.dest.write(head.item);
      }
    }
  }
  get pending() {
    return this.queue.length;
  }
  discard() {
    this.closed = true;
    this.queue = [];
    if (this.timer) clearTimeout(this.timer);
  }
}

const jittered = (mean, jitter) => () => Math.max(0, mean + (Math.random() * 2 - 1) * jitter);

function connectPair(down) {
  const pair = { down, up: undefined, upLane: undefined, downLane: undefined, tail: Buffer.alloc(0) };
  pairs.add(pair);
  const up = new net.Socket();
  pair.up = up;
  pair.upLane = new Lane(
    'up',
    up,
    () => jittered(shape.upMs, shape.upJitterMs)() + lossPenalty(),
    () => partitioned || holdUp,
  );
  pair.downLane = new Lane(
    'down',
    down,
    () => jittered(shape.downMs, shape.downJitterMs)() + lossPenalty(),
    () => partitioned,
  );
  // Bytes the party sends before the coordinator's side is connected wait in the up lane.
  let upConnected = false;
  const upHeld = pair.upLane.held;
  pair.upLane.held = () => !upConnected || upHeld();
  const dial = () => {
    if (partitioned) {
      pair.dialLater = dial; // a SYN into a silent network: retried once the link is back
      return;
    }
    up.connect(target.port, target.host, () => {
      upConnected = true;
      pair.upLane.pump();
    });
  };
  down.on('data', (chunk) => {
    bytesUp += chunk.length;
    pair.upLane.push(chunk);
  });
  up.on('data', (chunk) => {
    bytesDown += chunk.length;
    let fire = false;
    if (trip) {
      const window = Buffer.concat([pair.tail, chunk]);
      if (window.includes(trip.pattern)) fire = true;
      pair.tail = window.subarray(Math.max(0, window.length - trip.pattern.length + 1));
    }
    pair.downLane.push(chunk);
    if (fire) {
      trip = undefined;
      holdUp = true;
      out({ event: 'tripped' });
    }
  });
  down.on('end', () => pair.upLane.push('end'));
  up.on('end', () => pair.downLane.push('end'));
  const drop = () => {
    if (!pairs.has(pair)) return;
    pairs.delete(pair);
    pair.upLane.discard();
    pair.downLane.discard();
    if (!down.destroyed) down.destroy();
    if (!up.destroyed) up.destroy();
  };
  down.on('error', drop);
  up.on('error', drop);
  down.on('close', () => {
    if (pair.upLane.pending === 0) drop();
  });
  up.on('close', () => {
    if (pair.downLane.pending === 0) drop();
  });
  dial();
}

const server = net.createServer({ noDelay: true }, connectPair);
server.listen(listen.port, listen.host, () => out({ event: 'listening', port: server.address().port }));

function pumpAll() {
  for (const p of pairs) {
    if (p.dialLater && !partitioned) {
      const d = p.dialLater;
      p.dialLater = undefined;
      d();
    }
    p.upLane.pump();
    p.downLane.pump();
  }
}

/** Stops forwarding for `p` (its sockets are dealt with by the caller). */
function forget(p) {
  pairs.delete(p);
  p.upLane.discard();
  p.downLane.discard();
}

/**
 * Leaves `sock` half-open: its peer still believes in the connection, but nobody is behind it any
 * more. Whatever the peer sends goes unanswered while the link is down; once it is back, it is
 * answered with an RST, as the other host's kernel would (on "release" for bytes that arrived
 * during the cut, at once otherwise).
 */
function halfOpen(sock) {
  if (sock.destroyed || sock.readyState !== 'open') {
    if (!sock.destroyed) sock.resetAndDestroy();
    return;
  }
  sock.removeAllListeners('data');
  sock.removeAllListeners('end');
  sock.removeAllListeners('close');
  sock.on('error', () => undefined);
  sock.on('data', () => {
    if (partitioned) sock.dirty = true;
    else if (!sock.destroyed) sock.resetAndDestroy();
  });
  sock.on('close', () => stale.delete(sock));
  stale.add(sock);
}

const commands = {
  shape(c) {
    for (const k of Object.keys(shape)) if (typeof c[k] === 'number') shape[k] = c[k];
    return { shape };
  },
  partition(c) {
    partitioned = Boolean(c.on);
    if (!partitioned) pumpAll();
    return { partitioned };
  },
  reset(c) {
    let n = 0;
    for (const p of [...pairs]) {
      forget(p);
      p.down.resetAndDestroy();
      if (c.staleUpstream) halfOpen(p.up);
      else if (!p.up.destroyed) p.up.resetAndDestroy();
      n++;
    }
    return { reset: n };
  },
  abandon() {
    let n = 0;
    for (const p of [...pairs]) {
      forget(p);
      if (!p.up.destroyed) p.up.resetAndDestroy();
      halfOpen(p.down);
      n++;
    }
    return { abandoned: n };
  },
  trip(c) {
    trip = { pattern: Buffer.from(String(c.pattern)) };
    return { armed: true };
  },
  release() {
    trip = undefined;
    holdUp = false;
    partitioned = false;
    for (const s of stale) if (s.dirty) s.resetAndDestroy(); // its retransmission meets an RST
    pumpAll();
    return { released: true };
  },
  stats() {
    let held = 0;
    for (const p of pairs) held += p.upLane.pending + p.downLane.pending;
    return { connections: pairs.size, stale: stale.size, held, bytesUp, bytesDown, lost, partitioned, holdUp };
  },
};

createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  let c;
  try {
    c = JSON.parse(line);
    const fn = commands[c.cmd];
    if (!fn) throw new Error(`unknown command ${c.cmd}`);
    out({ id: c.id, ok: true, ...fn(c) });
  } catch (e) {
    out({ id: c?.id, ok: false, error: e.message });
  }
});
process.stdin.on('end', () => process.exit(0));
