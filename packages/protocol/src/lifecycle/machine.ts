/**
 * What every key-lifecycle state machine (refresh, repair, reshare) shares: the step it returns,
 * the guard every input passes before it can touch the session, and the terminal states. Like the
 * DKG participant: inputs are authenticated messages; outputs are unsigned messages for the driver
 * to seal and send, a result once, or an error once.
 */
import type { Rng } from '../bytes.js';
import { canonicalJson } from '../canonical.js';
import { ProtocolError } from '../errors.js';
import type { IdentityKey } from '../identity.js';
import type { LifecycleOperation, Message, MessageType, Outgoing } from '../wire/messages.js';
import { BROADCAST } from '../wire/primitives.js';

/**
 * What a member addresses to other members in a lifecycle operation: each round's messages and a
 * member's signed abort (the coordinator relays them; everything else of an operation is addressed
 * to the coordinator or comes from it). One list for the coordinator's offline inbox and the
 * offline party.
 */
export const LIFECYCLE_PEER_MESSAGES: ReadonlySet<MessageType> = new Set<MessageType>([
  'refresh_round1',
  'refresh_round2',
  'reshare_round1',
  'reshare_round2',
  'repair_commit',
  'repair_delta',
  'repair_sigma',
  'lifecycle_abort',
]);

/** What every lifecycle participant is given besides its part of the key. */
export interface LifecycleParticipantOptions {
  sessionId: string;
  /** This party's identity key, which opens the boxes sent to it. */
  identity: IdentityKey;
  /** Pinned identity key of a participant (from this party's own configuration). */
  peerKey: (partyId: string) => Uint8Array | undefined;
  /** Randomness: what each operation draws is listed with its options. */
  rng: Rng;
}

/** What one step of a lifecycle machine produced. */
export interface LifecycleStep<R> {
  outgoing: Outgoing[];
  /** Set once, when this party's part succeeded. */
  result?: R;
  /** Set once, when the operation failed here; the driver should broadcast a `lifecycle_abort`. */
  error?: ProtocolError;
}

/** A lifecycle state machine. `P` are its working phases; `done` and `failed` are final. */
export interface LifecycleMachine<R, P extends string> {
  readonly phase: P | 'done' | 'failed';
  /** Sends this party's first messages. Call once. */
  start(): LifecycleStep<R>;
  /**
   * Feeds one authenticated message. Throws (state unchanged) for a message of another session or
   * from a non-participant; a fault that ends the operation comes back as `error`.
   */
  receive(msg: Message): LifecycleStep<R>;
}

/** Which session a lifecycle machine runs, of which key, and as whom. */
export interface LifecycleSession {
  readonly operation: LifecycleOperation;
  readonly keyId: string;
  readonly sessionId: string;
  readonly self: string;
}

/** The machine-specific half, wrapped by `createLifecycleMachine`. */
export interface LifecycleCore<R, P extends string> {
  readonly session: LifecycleSession;
  /** Everyone who may send into this session (self included). */
  readonly participants: ReadonlySet<string>;
  phase(): P;
  start(): LifecycleStep<R>;
  /** Called with messages that passed the session and sender checks, before the machine ended (see receiveByType). */
  receive(msg: Message): LifecycleStep<R>;
  /** Forget every secret held (called once the machine has ended, either way). */
  forget(): void;
}

/** Wraps a core: session and sender checks, one start, terminal states, errors as values. */
export function createLifecycleMachine<R, P extends string>(core: LifecycleCore<R, P>): LifecycleMachine<R, P> {
  const { operation, keyId, sessionId, self } = core.session;
  let terminal: 'done' | 'failed' | undefined;
  let started = false;

  const settle = (run: () => LifecycleStep<R>): LifecycleStep<R> => {
    let step: LifecycleStep<R>;
    try {
      step = run();
    } catch (e) {
      const error =
        e instanceof ProtocolError
          ? e
          : new ProtocolError('lifecycle_failed', `${operation} of ${keyId}: ${(e as Error).message}`, [], { cause: e });
      step = { outgoing: [], error };
    }
    if (step.error) {
      terminal = 'failed';
      // Whatever was computed before the fault is not sent: a failed operation changes nothing.
      step = { outgoing: [], error: step.error };
    } else if (step.result !== undefined) {
      terminal = 'done';
    }
    if (terminal !== undefined) core.forget();
    return step;
  };

  return {
    get phase() {
      return terminal ?? core.phase();
    },
    start() {
      if (started) throw new ProtocolError('lifecycle_unexpected_message', `${operation} ${sessionId} already started`);
      started = true;
      // Input before start may already have ended the session: then nothing is sent.
      if (terminal !== undefined) return { outgoing: [] };
      return settle(() => core.start());
    },
    receive(msg) {
      // Input that is not this session's is refused without touching the session.
      if (msg.sessionId !== sessionId) {
        throw new ProtocolError('wrong_session', `message for session ${msg.sessionId} fed to ${sessionId}`);
      }
      if (!core.participants.has(msg.from) || msg.from === self) {
        throw new ProtocolError('not_in_committee', `${operation} message from ${msg.from}, who is not another participant`);
      }
      // Misrouted by the relay: not this party's to act on, and no reason to end the session.
      if (msg.to !== BROADCAST && msg.to !== self) {
        throw new ProtocolError('wrong_recipient', `${msg.type} for ${msg.to} delivered to ${self}`);
      }
      // Every lifecycle body names its key. Another key's message under this session id (a
      // coordinator reusing ids) may be honest where it belongs: refused here, nobody blamed.
      const bodyKey = (msg.body as { keyId?: unknown }).keyId;
      if (bodyKey !== undefined && bodyKey !== keyId) {
        throw new ProtocolError('wrong_key', `${msg.type} for key ${String(bodyKey)} fed to a ${operation} of ${keyId}`);
      }
      if (terminal !== undefined) return { outgoing: [] };
      if (msg.type === 'lifecycle_abort') {
        const b = msg.body;
        return settle(() => {
          throw new ProtocolError('lifecycle_failed', `${operation} aborted by ${msg.from}: ${b.code}: ${b.message}`, b.culprits);
        });
      }
      return settle(() => core.receive(msg));
    },
  };
}

/** One handler per message type a lifecycle operation takes. */
export type LifecycleHandlers<R, T extends MessageType> = {
  readonly [K in T]: (msg: Extract<Message, { type: K }>) => LifecycleStep<R>;
};

/**
 * A core's `receive` from one handler per message type the operation takes: a message of any other
 * type is `lifecycle_unexpected_message` naming its sender (it ends the session, as any fault does).
 */
export function receiveByType<R, T extends MessageType>(
  operation: LifecycleOperation,
  handlers: LifecycleHandlers<R, T>,
): (msg: Message) => LifecycleStep<R> {
  const takes = (msg: Message): msg is Extract<Message, { type: T }> => Object.hasOwn(handlers, msg.type);
  return (msg) => {
    if (!takes(msg)) throw unexpected(msg, `not a ${operation} message`);
    // A message of type K goes to handlers[K]; TypeScript cannot follow that correlation through the union.
    return (handlers[msg.type as T] as (m: Message) => LifecycleStep<R>)(msg);
  };
}

/** Concatenates two steps (the later result or error wins only where the earlier has none). */
export function mergeSteps<R>(a: LifecycleStep<R>, b: LifecycleStep<R>): LifecycleStep<R> {
  const out: LifecycleStep<R> = { outgoing: [...a.outgoing, ...b.outgoing] };
  const result = a.result ?? b.result;
  const error = a.error ?? b.error;
  if (result !== undefined) out.result = result;
  if (error) out.error = error;
  return out;
}

/**
 * Records the one message `from` may sign for a slot. An identical copy (a relay's duplicate) is
 * ignored (false); a different one is proof that `from` signed two versions: `lifecycle_equivocation`.
 */
export function recordOnce<B>(slot: Map<string, B>, from: string, body: B, what: string): boolean {
  const prev = slot.get(from);
  if (prev === undefined) {
    slot.set(from, body);
    return true;
  }
  if (canonicalJson(prev) === canonicalJson(body)) return false;
  throw new ProtocolError('lifecycle_equivocation', `${from} signed two different ${what}`, [from]);
}

/**
 * Refuses a message sent the wrong way by its own (signing) sender: a broadcast round sent to one
 * party (every participant must provably see the same package), or a secret sent to everyone.
 */
export function assertAddressed(msg: Message, broadcast: boolean): void {
  if ((msg.to === BROADCAST) === broadcast) return;
  throw unexpected(msg, broadcast ? 'must be a broadcast' : 'must be addressed to one party');
}

/** A message of a type or from a role this machine does not take at all. */
export function unexpected(msg: Message, why: string): ProtocolError {
  return new ProtocolError('lifecycle_unexpected_message', `${msg.type} from ${msg.from}: ${why}`, [msg.from]);
}
