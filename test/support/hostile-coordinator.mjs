#!/usr/bin/env node
/**
 * TEST ONLY: a hostile coordinator. A real process that holds the GENUINE coordinator identity
 * (it reads the seed from the coordinator's data directory, as whoever owns that machine can) and
 * accepts the parties' WebSocket connections at /v1/ws. The parties pin it as usual: to them it is
 * the coordinator. Needs the built packages (`npx tsc -b`).
 *
 *   node test/support/hostile-coordinator.mjs --data-dir COORDINATOR_DIR [--port 0]
 *     [--upstream ws://127.0.0.1:PORT/v1/ws] [--script steps.json]
 *
 * Two ways to stand in for the coordinator, per party connection:
 *   proxied     with --upstream reachable: the handshake is passed through to the real coordinator
 *               (its challenge, the party's answer, its welcome), and from then on every envelope
 *               passes through here both ways, where the rules below see it first;
 *   standalone  without an upstream (or with it down: the real coordinator stopped): this process
 *               answers the handshake itself with the coordinator's key and is the coordinator.
 * Either way it can also send anything it likes, signed with the coordinator's key.
 *
 * It is driven by a script of steps, one JSON object per line on stdin (or a JSON array in
 * --script), run one after another. Each gets `{"event":"done","id",…}` or
 * `{"event":"failed","id","error"}` back on stdout, with the same `id`. Rules stay in force until
 * removed; actions run once:
 *
 *   {"do":"hold","bucket":B,"match":M}       keep matching envelopes in bucket B (not delivered)
 *   {"do":"release","bucket":B,"reverse"?}   deliver what B holds (oldest first, or newest first), end the hold
 *   {"do":"drop","match":M}                  drop matching envelopes
 *   {"do":"rewrite","match":M,"set":{path:value},"reseal"?:true}
 *                                            change fields (`body.threshold`) of matching envelopes; with
 *                                            reseal, sign again with the coordinator's key, same seq
 *   {"do":"relay-dkg","sessionId":S,"members":[P]}
 *                                            relay DKG session S honestly among P (round 1 to every other
 *                                            member, round 2 to its recipient), what came before too
 *   {"do":"unrule","rule":R}                 remove rule R (the `rule` a rule step answered with)
 *   {"do":"send","to":P|[P],"message":{type,sessionId,body}}
 *                                            seal a message as the coordinator and send it to each P
 *   {"do":"replay","select":M,"nth"?:-1,"to"?:P}
 *                                            send a recorded envelope again, byte for byte
 *   {"do":"deliver","to":P,"envelope":E}     send envelope E as it is (a forgery made by the script)
 *   {"do":"await","select":M,"count"?:1,"timeoutMs"?:15000}
 *                                            wait until `count` recorded envelopes match; answers them
 *   {"do":"cut","party"?:P}                  close party connections (they dial again)
 *   {"do":"mark"}                            answers `n`, the number the next record will get
 *
 * A match M holds any of: dir ("up": party → coordinator, "down"), party (the link's party),
 * origin ("party", "upstream", "hostile"), type, sessionId, sessionPrefix, from, to, keyId (body),
 * code (body), since (record number); a field may be a list of accepted values. Rules are tried
 * in the order they were added; the first that matches decides.
 *
 * Every envelope it sees or sends is recorded and reported as
 * `{"event":"seen","n","dir","party","origin","action","envelope"}`; `action` says what happened
 * (passed, held, dropped, rewritten, kept, relayed, released, sent, replayed, delivered). Messages
 * the parties send in sessions this process opened stay here (`kept`): the real coordinator never
 * sees them. Connections are reported as `connected` (with `mode`) and `disconnected`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  coordinatorAuthBytes,
  createEnvelopeSealer,
  envelopeSigningBytes,
  fromHex,
  identityFromSeed,
  partyAuthBytes,
  toHex,
  transportFrameSchema,
  verifyIdentitySignature,
} from '@glacis/protocol';
import WebSocket, { WebSocketServer } from 'ws';

const COORDINATOR = 'coordinator';
const PATH = '/v1/ws';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    port: { type: 'string', default: '0' },
    upstream: { type: 'string' },
    script: { type: 'string' },
  },
});
if (!values['data-dir']) {
  process.stderr.write('usage: hostile-coordinator.mjs --data-dir COORDINATOR_DIR [--port N] [--upstream URL] [--script FILE]\n');
  process.exit(64);
}

// What a compromised coordinator machine gives away: its configuration and its identity seed.
const dataDir = resolve(values['data-dir']);
const config = JSON.parse(readFileSync(resolve(dataDir, 'coordinator.json'), 'utf8'));
const seedHex = readFileSync(resolve(dataDir, config.identitySeedFile ?? 'identity.seed'), 'utf8').trim();
const identity = identityFromSeed(fromHex(seedHex));
/** @type {Map<string, Uint8Array>} */
const partyKeys = new Map((config.parties ?? []).map((p) => [p.partyId, fromHex(p.identityKey)]));
const sealer = createEnvelopeSealer(COORDINATOR, identity, Date.now() * 1000);

/** @param {Record<string, unknown>} event */
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

// --- Records and matching -------------------------------------------------------------------

/**
 * @typedef {{ v: number, type: string, sessionId: string, from: string, to: string, seq: number, body: any, signature: string }} Envelope
 * @typedef {{ dir: 'up' | 'down', party: string, origin: 'party' | 'upstream' | 'hostile', envelope: Envelope }} Passing
 * @typedef {Passing & { n: number, action: string }} Seen
 */

/** @type {Seen[]} */
const seen = [];
/** @type {{ select: object, count: number, resolve: (r: Seen[]) => void }[]} */
const waiters = [];
/** Sessions this process opened with `send`: what parties answer in them stays here. */
const ownSessions = new Set();

/** @param {unknown} want @param {unknown} got */
const accepts = (want, got) => want === undefined || (Array.isArray(want) ? want.includes(got) : want === got);

/** @param {any} m @param {Passing & { n?: number }} p */
function matches(m, p) {
  const e = p.envelope;
  return (
    accepts(m.dir, p.dir) &&
    accepts(m.party, p.party) &&
    accepts(m.origin, p.origin) &&
    accepts(m.type, e.type) &&
    accepts(m.sessionId, e.sessionId) &&
    (m.sessionPrefix === undefined || e.sessionId.startsWith(m.sessionPrefix)) &&
    accepts(m.from, e.from) &&
    accepts(m.to, e.to) &&
    accepts(m.keyId, e.body?.keyId) &&
    accepts(m.code, e.body?.code) &&
    (m.since === undefined || (p.n ?? seen.length) >= m.since)
  );
}

/** @param {Passing} p @param {string} action */
function record(p, action) {
  const r = { n: seen.length, ...p, action };
  seen.push(r);
  emit({ event: 'seen', ...r });
  for (const w of [...waiters]) {
    const found = seen.filter((s) => matches(w.select, s));
    if (found.length >= w.count) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(found);
    }
  }
  return r;
}

// --- Links ----------------------------------------------------------------------------------

/** @typedef {{ party: string, ws: WebSocket, upstream: WebSocket | undefined }} Link */
/** @type {Map<string, Link>} */
const links = new Map();

/** @param {WebSocket} ws @param {object} frame */
const sendFrame = (ws, frame) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(frame));

/** Sends `envelope` down to `party`; false when it is not connected. */
function toParty(/** @type {string} */ party, /** @type {Envelope} */ envelope) {
  const link = links.get(party);
  if (link) sendFrame(link.ws, { t: 'env', envelope });
  return link !== undefined;
}

/** Like toParty, for a step: a party that is not connected fails the step. */
function toPartyOrFail(/** @type {string} */ party, /** @type {Envelope} */ envelope) {
  if (!toParty(party, envelope)) throw new Error(`${party} is not connected`);
}

/** @param {Passing} p */
const isOwn = (p) => ownSessions.has(p.envelope.sessionId);

/** Where an envelope goes when nothing stops it: down to its party, up to the real coordinator. */
function deliver(/** @type {Passing} */ p, /** @type {string} */ action) {
  if (p.dir === 'down') return record(p, toParty(p.party, p.envelope) ? action : 'lost');
  const upstream = links.get(p.party)?.upstream;
  if (isOwn(p) || !upstream) {
    const r = record(p, action === 'passed' ? 'kept' : action);
    relayDkg(r);
    return r;
  }
  sendFrame(upstream, { t: 'env', envelope: p.envelope });
  return record(p, action);
}

// --- Rules ----------------------------------------------------------------------------------

/** @type {{ id: number, kind: string, match?: any, bucket?: string, set?: Record<string, unknown>, reseal?: boolean, sessionId?: string, members?: string[] }[]} */
let rules = [];
let nextRule = 1;
/** @type {Map<string, Passing[]>} */
const buckets = new Map();

/** Sets `path` (dot separated, numbers index arrays) in a copy of `envelope`. */
function withFields(/** @type {Envelope} */ envelope, /** @type {Record<string, unknown>} */ set) {
  const copy = structuredClone(envelope);
  for (const [path, value] of Object.entries(set)) {
    const keys = path.split('.');
    let at = /** @type {any} */ (copy);
    for (const k of keys.slice(0, -1)) at = at[k];
    at[/** @type {string} */ (keys.at(-1))] = value;
  }
  return copy;
}

/** Signs `envelope` again with the coordinator's key; its seq stays, so it takes the original's place. */
function reseal(/** @type {Envelope} */ envelope) {
  const { signature: _old, ...header } = envelope;
  return { ...header, signature: toHex(identity.sign(envelopeSigningBytes(header))) };
}

/** Runs the first rule that matches `p`, or delivers it. */
function pass(/** @type {Passing} */ p) {
  const rule = rules.find((r) => r.match && matches(r.match, p));
  switch (rule?.kind) {
    case undefined:
      return deliver(p, 'passed');
    case 'hold': {
      const bucket = buckets.get(/** @type {string} */ (rule.bucket)) ?? [];
      bucket.push(p);
      buckets.set(/** @type {string} */ (rule.bucket), bucket);
      return record(p, 'held');
    }
    case 'drop':
      return record(p, 'dropped');
    case 'rewrite': {
      const changed = withFields(p.envelope, rule.set ?? {});
      return deliver({ ...p, envelope: rule.reseal ? reseal(changed) : changed }, 'rewritten');
    }
    default:
      throw new Error(`unknown rule ${rule.kind}`);
  }
}

/** An honest relay for the DKG sessions a `relay-dkg` rule names (the hostile's own sessions). */
function relayDkg(/** @type {Seen} */ r) {
  const e = r.envelope;
  if (r.dir !== 'up') return;
  for (const rule of rules) {
    if (rule.kind !== 'relay-dkg' || rule.sessionId !== e.sessionId) continue;
    const members = rule.members ?? [];
    const to = e.type === 'dkg_round1' ? members.filter((m) => m !== e.from) : e.type === 'dkg_round2' ? [e.to] : [];
    for (const m of to) record({ dir: 'down', party: m, origin: 'hostile', envelope: e }, toParty(m, e) ? 'relayed' : 'lost');
  }
}

// --- Steps ----------------------------------------------------------------------------------

/** @param {any} select */
const selected = (select) => seen.filter((s) => matches(select ?? {}, s));

/** @type {Record<string, (step: any) => Promise<object> | object>} */
const STEPS = {
  hold: (s) => addRule({ kind: 'hold', match: s.match, bucket: s.bucket }),
  drop: (s) => addRule({ kind: 'drop', match: s.match }),
  rewrite: (s) => addRule({ kind: 'rewrite', match: s.match, set: s.set, reseal: s.reseal === true }),
  'relay-dkg': (s) => {
    const out = addRule({ kind: 'relay-dkg', sessionId: s.sessionId, members: s.members });
    // What the parties sent in the session before the rule was in force is relayed now.
    for (const r of seen.filter((x) => x.action === 'kept' && x.envelope.sessionId === s.sessionId)) relayDkg(r);
    return out;
  },
  unrule: (s) => {
    rules = rules.filter((r) => r.id !== s.rule);
    return {};
  },
  release(s) {
    rules = rules.filter((r) => !(r.kind === 'hold' && r.bucket === s.bucket));
    const held = buckets.get(s.bucket) ?? [];
    buckets.delete(s.bucket);
    for (const p of s.reverse ? [...held].reverse() : held) deliver(p, 'released');
    return { released: held.length };
  },
  send(s) {
    const to = Array.isArray(s.to) ? s.to : [s.to];
    const missing = to.filter((p) => !links.has(p));
    if (missing.length > 0) throw new Error(`not connected: ${missing.join(', ')}`);
    ownSessions.add(s.message.sessionId);
    const sent = to.map((party) => {
      const envelope = sealer.seal({ ...s.message, to: party });
      toPartyOrFail(party, envelope);
      return record({ dir: 'down', party, origin: 'hostile', envelope }, 'sent');
    });
    return { sent };
  },
  replay(s) {
    const all = selected(s.select);
    const r = all.at(s.nth ?? -1);
    if (!r) throw new Error(`nothing recorded matches ${JSON.stringify(s.select)}`);
    const party = s.to ?? r.party;
    toPartyOrFail(party, r.envelope);
    return { replayed: record({ dir: 'down', party, origin: 'hostile', envelope: r.envelope }, 'replayed') };
  },
  deliver(s) {
    toPartyOrFail(s.to, s.envelope);
    return { delivered: record({ dir: 'down', party: s.to, origin: 'hostile', envelope: s.envelope }, 'delivered') };
  },
  await(s) {
    const count = s.count ?? 1;
    const now = selected(s.select);
    if (now.length >= count) return { envelopes: now };
    return new Promise((resolveWait, reject) => {
      const waiter = { select: s.select ?? {}, count, resolve: (/** @type {Seen[]} */ found) => resolveWait({ envelopes: found }) };
      waiters.push(waiter);
      setTimeout(() => {
        if (!waiters.includes(waiter)) return;
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`timed out waiting for ${count} × ${JSON.stringify(s.select)} (${selected(s.select).length} seen)`));
      }, s.timeoutMs ?? 15_000);
    });
  },
  mark: () => ({ n: seen.length }),
  cut(s) {
    const cut = [...links.values()].filter((l) => s.party === undefined || l.party === s.party);
    for (const l of cut) l.ws.close(1012, 'hostile coordinator: cut');
    return { cut: cut.map((l) => l.party) };
  },
};

/** @param {Omit<(typeof rules)[number], 'id'>} rule */
function addRule(rule) {
  const id = nextRule++;
  rules.push({ id, ...rule });
  return { rule: id };
}

let queue = Promise.resolve();
/** Runs steps one after another, in the order they came. */
function enqueue(/** @type {any} */ step) {
  queue = queue.then(async () => {
    try {
      const run = STEPS[step.do];
      if (!run) throw new Error(`unknown step "${step.do}"`);
      emit({ event: 'done', id: step.id, ...(await run(step)) });
    } catch (e) {
      emit({ event: 'failed', id: step.id, error: /** @type {Error} */ (e).message });
    }
  });
}

// --- The parties' endpoint --------------------------------------------------------------------

/** @param {unknown} data */
function parseFrame(data) {
  try {
    const r = transportFrameSchema.safeParse(JSON.parse(String(data)));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** Dials the real coordinator and reads its challenge; undefined if it does not answer. */
function dialUpstream() {
  const url = values.upstream;
  if (!url) return Promise.resolve(undefined);
  return new Promise((done) => {
    const ws = new WebSocket(url, { handshakeTimeout: 3_000 });
    const fail = () => {
      ws.terminate();
      done(undefined);
    };
    const timer = setTimeout(fail, 3_000);
    ws.once('error', () => {
      clearTimeout(timer);
      done(undefined);
    });
    ws.once('message', (data) => {
      clearTimeout(timer);
      const frame = parseFrame(data);
      if (frame?.t !== 'challenge') return fail();
      done({ ws, challenge: frame.nonce });
    });
  });
}

/** One party connection: the handshake (passed through, or answered here), then envelopes through `pass`. */
async function onPartySocket(/** @type {WebSocket} */ ws) {
  /** @type {Buffer[]} */
  const early = [];
  const buffer = (/** @type {Buffer} */ data) => early.push(data);
  ws.on('message', buffer);
  const up = await dialUpstream();
  if (ws.readyState !== WebSocket.OPEN) {
    up?.ws.close();
    return;
  }
  const upstream = up?.ws;
  const challenge = up?.challenge ?? toHex(randomBytes(32));
  /** @type {string | undefined} */
  let party;
  let established = false;

  const linked = (/** @type {'proxied' | 'standalone'} */ mode) => {
    const p = /** @type {string} */ (party);
    established = true;
    const previous = links.get(p);
    links.set(p, { party: p, ws, upstream });
    if (previous) previous.ws.close(4409, 'replaced by a newer connection');
    emit({ event: 'connected', party: p, mode });
  };
  const fromPartySocket = (/** @type {Buffer} */ data) => {
    const frame = parseFrame(data);
    if (!frame) return ws.close(4400, 'malformed frame');
    if (party === undefined) {
      if (frame.t !== 'auth') return ws.close(4401, 'expected auth');
      const key = partyKeys.get(frame.partyId);
      if (!key || !verifyIdentitySignature(fromHex(frame.signature), partyAuthBytes(challenge, frame.partyId), key))
        return ws.close(4401, 'authentication failed');
      party = frame.partyId;
      if (upstream) return sendFrame(upstream, frame); // the real coordinator's welcome completes it
      sendFrame(ws, { t: 'welcome', signature: toHex(identity.sign(coordinatorAuthBytes(frame.nonce, party))) });
      return linked('standalone');
    }
    if (frame.t === 'env' && established) pass({ dir: 'up', party, origin: 'party', envelope: frame.envelope });
  };

  if (upstream) {
    upstream.on('message', (data) => {
      const frame = parseFrame(data);
      if (!frame || party === undefined) return;
      if (frame.t === 'welcome' && !established) {
        sendFrame(ws, frame);
        return linked('proxied');
      }
      if (frame.t === 'env' && established) pass({ dir: 'down', party, origin: 'upstream', envelope: frame.envelope });
    });
    upstream.on('close', () => ws.close(1012, 'the real coordinator went away'));
    upstream.on('error', () => undefined);
  }
  ws.off('message', buffer);
  ws.on('message', fromPartySocket);
  ws.on('close', () => {
    upstream?.close();
    if (party !== undefined && links.get(party)?.ws === ws) {
      links.delete(party);
      emit({ event: 'disconnected', party });
    }
  });
  ws.on('error', () => undefined);
  sendFrame(ws, { t: 'challenge', nonce: challenge });
  for (const data of early) fromPartySocket(data);
}

const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
const server = createServer((_req, res) => res.writeHead(404).end());
server.on('upgrade', (req, socket, head) => {
  if ((req.url ?? '').split('?')[0] !== PATH) return socket.destroy();
  wss.handleUpgrade(req, socket, head, (ws) => {
    onPartySocket(ws).catch((e) => {
      process.stderr.write(`hostile coordinator: ${e.stack ?? e}\n`);
      ws.terminate();
    });
  });
});
server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  emit({ event: 'listening', port, url: `ws://127.0.0.1:${port}${PATH}` });
});

if (values.script) for (const step of JSON.parse(readFileSync(values.script, 'utf8'))) enqueue(step);
createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line.trim() === '') return;
    try {
      enqueue(JSON.parse(line));
    } catch (e) {
      emit({ event: 'failed', id: null, error: `not a JSON step: ${/** @type {Error} */ (e).message}` });
    }
  })
  // Driven over stdin, it ends with its driver; with a script file it runs until signalled.
  .on('close', () => {
    if (!values.script) shutdown();
  });

function shutdown() {
  for (const l of links.values()) {
    l.upstream?.terminate();
    l.ws.terminate();
  }
  server.close();
  process.exit(0);
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
