/**
 * The session ids the coordinator hands out, encoded and parsed here and nowhere else. A party
 * treats a session id as opaque and echoes it in its answer; the coordinator reads back from it
 * which driver, request or pool refill the answer belongs to, and dispatches on `kind`.
 *
 * Every id fits `sessionIdSchema` (1–128 chars of A–Z a–z 0–9 _ -). The variable-length id comes
 * last, so ids that contain `-` or `_` still parse unambiguously; `parseSessionId` accepts only
 * the canonical encoding (it re-encodes and compares).
 */
import { sessionIdSchema, toHex } from '@glacis/protocol';

/** What a session id names. */
export type SessionRef =
  /** The DKG of `keyId` (parties bind this id into the DKG's transcript and boxes). */
  | { kind: 'dkg'; keyId: string }
  /** The `n`-th refill of preprocessed commitments in this coordinator life (`epoch`). */
  | { kind: 'pool'; epoch: string; n: number; keyId: string }
  /** A signing request's own ask for a fresh commitment. */
  | { kind: 'commit'; epoch: string; signatureId: string }
  /** The `n`-th ROAST session of a signing request. */
  | { kind: 'sign'; epoch: string; n: number; signatureId: string }
  /**
   * A lifecycle operation's session (parties bind it into transcripts, boxes and the successor's
   * certificate). One per operation: an operation is never run twice under one session id.
   */
  | { kind: LifecycleKind; operationId: string }
  /** Policy distribution: offers to a party and its status reports (one channel per party). */
  | { kind: 'policy' };

/** The lifecycle operations' session kinds: the operation's type. */
export type LifecycleKind = 'refresh' | 'repair' | 'reshare' | 'drill';
const LIFECYCLE_KINDS: readonly string[] = ['refresh', 'repair', 'reshare', 'drill'] satisfies LifecycleKind[];

/** A session id as it travels: a string made by `encodeSessionId`. */
export type SessionId = string & { readonly __brand: 'SessionId' };

/** The refs of one kind. */
export type SessionRefOf<K extends SessionRef['kind']> = Extract<SessionRef, { kind: K }>;

const EPOCH = /^[0-9a-f]{1,16}$/;
const COUNTER = /^(?:0|[1-9][0-9]{0,8})$/;

/** A fresh coordinator-life tag from `random` (≥ 4 bytes): session ids of two lives never meet. */
export function newEpoch(random: Uint8Array): string {
  if (random.length < 4) throw new RangeError('newEpoch: random must hold at least 4 bytes');
  return toHex(random.subarray(0, 8));
}

/** The wire form of `ref`. Throws a RangeError if it would not be a valid session id. */
export function encodeSessionId(ref: SessionRef): SessionId {
  if (ref.kind === 'policy') return 'policy' as SessionId;
  if (idOf(ref) === '') throw new RangeError('session id: empty id');
  let s: string;
  switch (ref.kind) {
    case 'refresh':
    case 'repair':
    case 'reshare':
    case 'drill':
      s = `${ref.kind}-${ref.operationId}`;
      break;
    case 'dkg':
      s = `dkg-${ref.keyId}`;
      break;
    case 'pool':
      s = `pool-${ref.epoch}-${ref.n}-${ref.keyId}`;
      break;
    case 'commit':
      s = `commit-${ref.epoch}-${ref.signatureId}`;
      break;
    case 'sign':
      s = `sign-${ref.epoch}-${ref.n}-${ref.signatureId}`;
      break;
    default: {
      const never: never = ref;
      throw new RangeError(`unknown session kind ${JSON.stringify(never)}`);
    }
  }
  if (!sessionIdSchema.safeParse(s).success) throw new RangeError(`session id out of range: ${s.slice(0, 140)}`);
  return s as SessionId;
}

/** The variable-length id a ref carries. */
function idOf(ref: Exclude<SessionRef, { kind: 'policy' }>): string {
  switch (ref.kind) {
    case 'dkg':
    case 'pool':
      return ref.keyId;
    case 'commit':
    case 'sign':
      return ref.signatureId;
    default:
      return ref.operationId;
  }
}

/** What `sessionId` names, or undefined if the coordinator never makes such an id. */
export function parseSessionId(sessionId: string): SessionRef | undefined {
  if (sessionId === 'policy') return { kind: 'policy' };
  const [kind, ...rest] = sessionId.split('-');
  let ref: SessionRef | undefined;
  if (kind === 'dkg' && rest.length > 0) ref = { kind, keyId: rest.join('-') };
  else if (kind !== undefined && LIFECYCLE_KINDS.includes(kind) && rest.length > 0) {
    ref = { kind: kind as LifecycleKind, operationId: rest.join('-') };
  } else if (kind === 'commit' && rest.length > 1) ref = { kind, epoch: rest[0] as string, signatureId: rest.slice(1).join('-') };
  else if ((kind === 'pool' || kind === 'sign') && rest.length > 2 && COUNTER.test(rest[1] as string)) {
    const [epoch, n, ...id] = rest as [string, string, ...string[]];
    ref = kind === 'pool' ? { kind, epoch, n: Number(n), keyId: id.join('-') } : { kind, epoch, n: Number(n), signatureId: id.join('-') };
  }
  if (ref === undefined || ('epoch' in ref && !EPOCH.test(ref.epoch))) return undefined;
  try {
    return encodeSessionId(ref) === sessionId ? ref : undefined;
  } catch {
    return undefined;
  }
}
