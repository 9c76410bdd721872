/**
 * Signed envelopes. Every protocol message travels as
 * `{v, type, sessionId, from, to, seq, body, signature}`; the Ed25519 signature of the sender's
 * identity key covers the canonical bytes of everything but `signature`, so JSON key order,
 * whitespace or a relay's re-serialisation cannot change what was signed.
 */
import { fromHex, toHex } from '../bytes.js';
import { canonicalBytes } from '../canonical.js';
import { ProtocolError } from '../errors.js';
import { type IdentityKey, verifyIdentitySignature } from '../identity.js';
import { type Envelope, envelopeSchema, isMessageType, type Message, messageBodySchemas, type Outgoing } from './messages.js';
import { BROADCAST } from './primitives.js';

/** The only envelope version this code speaks. */
export const ENVELOPE_VERSION = 1;
const DOMAIN = 'glacis/envelope/v1';

type Header = Omit<Envelope, 'signature'>;

/** The exact bytes an envelope's signature covers. */
export function envelopeSigningBytes(h: Header): Uint8Array {
  return canonicalBytes(DOMAIN, { v: h.v, type: h.type, sessionId: h.sessionId, from: h.from, to: h.to, seq: h.seq, body: h.body });
}

/** Signs outgoing messages as one sender, numbering them. */
export interface EnvelopeSealer {
  readonly name: string;
  seal(out: Outgoing): Envelope;
}

/**
 * A sealer for `name`. `firstSeq` must exceed every seq this sender used before (drivers pass a
 * clock-derived value so that a restarted sender is not taken for a replay).
 */
export function createEnvelopeSealer(name: string, identity: IdentityKey, firstSeq: number): EnvelopeSealer {
  let seq = firstSeq;
  return Object.freeze({
    name,
    seal(out: Outgoing): Envelope {
      const header: Header = {
        v: ENVELOPE_VERSION,
        type: out.type,
        sessionId: out.sessionId,
        from: name,
        to: out.to,
        seq: seq++,
        body: out.body,
      };
      return { ...header, signature: toHex(identity.sign(envelopeSigningBytes(header))) };
    },
  });
}

/**
 * Rejects replays: per (session, sender), seq must strictly increase. Memory is bounded; the
 * oldest sessions are forgotten first (their state machines have ended and refuse input anyway).
 */
export class ReplayGuard {
  private readonly last = new Map<string, number>();
  constructor(private readonly maxEntries = 100_000) {}

  /** Throws `replayed_message` unless `seq` is new for (sessionId, from); then records it. */
  accept(sessionId: string, from: string, seq: number): void {
    const k = `${sessionId}\u0000${from}`;
    const prev = this.last.get(k);
    if (prev !== undefined && seq <= prev) {
      throw new ProtocolError('replayed_message', `${from}: seq ${seq} in session ${sessionId} already seen (last ${prev})`);
    }
    this.last.delete(k);
    this.last.set(k, seq);
    if (this.last.size > this.maxEntries) {
      const oldest = this.last.keys().next().value;
      if (oldest !== undefined) this.last.delete(oldest);
    }
  }
}

/** How to authenticate incoming envelopes. */
export interface OpenOptions {
  /** This endpoint's name; `to` must be it (or broadcast, when allowed). */
  self: string;
  /** The pinned identity key of a sender, or undefined for a stranger. */
  keyOf: (name: string) => Uint8Array | undefined;
  /** Replay protection; omit only where replays are harmless (e.g. certificate checks). */
  replay?: ReplayGuard;
  /** Accept envelopes addressed to anyone (the relaying coordinator). */
  anyRecipient?: boolean;
}

/**
 * Parses and authenticates one envelope. Every failure is a ProtocolError with a code; a message
 * that is validly signed but malformed names its sender as culprit.
 */
export function openEnvelope(raw: unknown, opts: OpenOptions): Message {
  const parsed = envelopeSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ProtocolError('invalid_envelope', `envelope: ${parsed.error.issues[0]?.message ?? 'malformed'}`);
  }
  const env = parsed.data;
  if (env.v !== ENVELOPE_VERSION)
    throw new ProtocolError('unsupported_version', `envelope version ${env.v} is not supported (expected ${ENVELOPE_VERSION})`);
  if (!isMessageType(env.type)) throw new ProtocolError('unknown_message_type', `unknown message type "${env.type}"`);
  const key = opts.keyOf(env.from);
  if (key === undefined) throw new ProtocolError('unknown_party', `envelope from unknown sender "${env.from}"`);
  const signature = fromHex(env.signature, 'envelope signature');
  if (!verifyIdentitySignature(signature, envelopeSigningBytes(env), key)) {
    throw new ProtocolError('bad_signature', `envelope from ${env.from}: signature does not verify`);
  }
  if (!opts.anyRecipient && env.to !== opts.self && env.to !== BROADCAST) {
    throw new ProtocolError('wrong_recipient', `envelope for ${env.to} delivered to ${opts.self}`);
  }
  const body = messageBodySchemas[env.type].safeParse(env.body);
  if (!body.success) {
    const issue = body.error.issues[0];
    throw new ProtocolError(
      'invalid_message',
      `${env.type} from ${env.from}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'malformed'}`.trim(),
      [env.from],
    );
  }
  opts.replay?.accept(env.sessionId, env.from, env.seq);
  return { type: env.type, sessionId: env.sessionId, from: env.from, to: env.to, seq: env.seq, body: body.data } as Message;
}
