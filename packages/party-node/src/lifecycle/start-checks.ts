/**
 * What a party checks before it takes part in a refresh, repair or reshare, against what it holds
 * and has pinned itself, never on the coordinator's word: the key generation the operation starts
 * from must be the one it holds (or, for a newcomer, the package it is sent must hash to the
 * start's `predecessor`), every other participant must be pinned here, and its own lifecycle
 * policy (`party.json` → `lifecycle`) must allow its role. Then it builds the protocol machine.
 * Every refusal is a ProtocolError naming nobody: the start comes from the coordinator.
 */
import {
  createRefreshParticipant,
  createRepairParticipant,
  createReshareParticipant,
  type IdentityKey,
  type KeyShare,
  keyPackageHash,
  type LifecycleMachine,
  type LifecycleOperation,
  type Message,
  type PendingSuccessor,
  ProtocolError,
  type PublicKeyPackage,
  type Rng,
} from '@glacis/protocol';
import type { LifecycleConfig } from '../config.js';
import { isPartyError } from '../errors.js';
import type { Keystore, StoredShare } from '../keystore/keystore.js';

/** A start message from the coordinator. */
export type StartMessage = Extract<Message, { type: 'refresh_start' | 'repair_start' | 'reshare_start' }>;

/** How this party's part of an operation ended, whatever the operation. */
export type Outcome =
  | { kind: 'successor'; pending: PendingSuccessor }
  | { kind: 'repaired'; share: KeyShare }
  | { kind: 'helped' }
  | { kind: 'dealt' };

/** A machine whose result is read as an Outcome. */
export type AnyMachine = LifecycleMachine<unknown, string>;

/** The machine for a start, and what the handler needs to know about it. */
export interface Plan {
  keyId: string;
  operation: LifecycleOperation;
  machine: AnyMachine;
  /** Reads the machine's result. */
  outcome(result: unknown): Outcome;
  /** True when this party ends holding a successor (it stages one and confirms it). */
  producesSuccessor: boolean;
  /** The generation this party's new share will be of (successor or repaired share). */
  generation: number;
  /** The package the operation starts from. */
  predecessorKey: PublicKeyPackage;
}

export interface StartContext {
  self: string;
  identity: IdentityKey;
  keystore: Keystore;
  keyOf: (partyId: string) => Uint8Array | undefined;
  policy: LifecycleConfig;
  rng: Rng;
  /**
   * The offline party re-creating the machine of a session it joined on an earlier trip (its
   * inputs are replayed): a repair target may then already hold the share this session rebuilt
   * (a crash after storing it, before its proof left), which is no reason to refuse.
   */
  resuming?: boolean;
}

const refuse = (code: 'lifecycle_refused' | 'lifecycle_wrong_generation' | 'wrong_key' | 'unknown_party', why: string) =>
  new ProtocolError(code, why);

/** The active share of `keyId`, or undefined (none, not active, or unreadable). */
function activeShare(keystore: Keystore, keyId: string): StoredShare | undefined {
  try {
    const s = keystore.get(keyId);
    return s?.status === 'active' ? s : undefined;
  } catch (e) {
    if (isPartyError(e, 'corrupt_file')) return undefined; // a damaged share: this party needs a repair
    throw e;
  }
}

/** The stored share, which must be active and of the generation `predecessor`. */
function currentShare(keystore: Keystore, keyId: string, predecessor: string): StoredShare {
  const s = activeShare(keystore, keyId);
  if (s === undefined) throw refuse('wrong_key', `this party holds no active share of key ${keyId}`);
  if (keyPackageHash(s.share.public) !== predecessor) {
    throw refuse('lifecycle_wrong_generation', `key ${keyId}: the operation starts from another generation than the one held here`);
  }
  return s;
}

/** A newcomer's package: it must be the generation the start names. */
function sentPackage(key: PublicKeyPackage | undefined, keyId: string, predecessor: string): PublicKeyPackage {
  if (key === undefined || key.keyId !== keyId || keyPackageHash(key) !== predecessor) {
    throw refuse('lifecycle_wrong_generation', `key ${keyId}: no package of the generation the operation starts from was sent`);
  }
  return key;
}

function assertPinned(ctx: StartContext, parties: readonly string[]): void {
  const unpinned = parties.filter((p) => p !== ctx.self && ctx.keyOf(p) === undefined);
  if (unpinned.length > 0) throw refuse('unknown_party', `no pinned identity key for ${unpinned.join(', ')}`);
}

/** The plan of `machine`, whose own result `outcome` reads. */
function planOf<R>(machine: LifecycleMachine<R, string>, outcome: (result: R) => Outcome, rest: Omit<Plan, 'machine' | 'outcome'>): Plan {
  // The handler hands `outcome` only the result of this plan's machine, so it is an R.
  return { ...rest, machine: machine as AnyMachine, outcome: (result) => outcome(result as R) };
}

/** Checks a start and builds its machine; throws a ProtocolError (nothing started) to refuse. */
export function planStart(msg: StartMessage, ctx: StartContext): Plan {
  const common = { sessionId: msg.sessionId, identity: ctx.identity, peerKey: ctx.keyOf, rng: ctx.rng };
  switch (msg.type) {
    case 'refresh_start': {
      const b = msg.body;
      const stored = currentShare(ctx.keystore, b.keyId, b.predecessor);
      const pkg = stored.share.public;
      if (b.threshold !== pkg.threshold || b.committee.join() !== pkg.committee.join()) {
        throw refuse('lifecycle_wrong_generation', `key ${b.keyId}: a refresh keeps the committee and threshold held here`);
      }
      assertPinned(ctx, pkg.committee);
      return planOf(createRefreshParticipant({ share: stored.share, ...common }), (pending) => ({ kind: 'successor', pending }), {
        keyId: b.keyId,
        operation: 'refresh',
        producesSuccessor: true,
        generation: stored.generation + 1,
        predecessorKey: pkg,
      });
    }
    case 'repair_start': {
      const b = msg.body;
      const target = b.target === ctx.self;
      let key: PublicKeyPackage;
      let share: KeyShare | undefined;
      let generation: number;
      if (target) {
        const held = activeShare(ctx.keystore, b.keyId);
        if (held && keyPackageHash(held.share.public) === b.predecessor && !ctx.resuming) {
          throw refuse('lifecycle_refused', `this party holds an intact share of key ${b.keyId} of this generation`);
        }
        key = sentPackage(b.key, b.keyId, b.predecessor);
        generation = b.generation ?? 0;
      } else {
        if (ctx.policy.repairHelp === 'never') throw refuse('lifecycle_refused', 'this party helps no repair (lifecycle.repairHelp)');
        const stored = currentShare(ctx.keystore, b.keyId, b.predecessor);
        if (ctx.keyOf(b.target) === undefined) {
          throw refuse('lifecycle_refused', `the identity of ${b.target} is not pinned here: this party helps only parties it pinned`);
        }
        key = stored.share.public;
        share = stored.share;
        generation = stored.generation;
      }
      assertPinned(ctx, [...b.helpers, b.target]);
      return planOf(
        createRepairParticipant({ key, ...(share ? { share } : {}), self: ctx.self, target: b.target, helpers: b.helpers, ...common }),
        (r) => (r.kind === 'repaired' ? { kind: 'repaired', share: r.share } : { kind: 'helped' }),
        { keyId: b.keyId, operation: 'repair', producesSuccessor: false, generation, predecessorKey: key },
      );
    }
    case 'reshare_start': {
      const b = msg.body;
      if (ctx.policy.reshare === 'never') throw refuse('lifecycle_refused', 'this party takes no part in reshares (lifecycle.reshare)');
      const dealer = b.dealers.includes(ctx.self);
      const receiver = b.committee.includes(ctx.self);
      const held = activeShare(ctx.keystore, b.keyId);
      const stored = held && keyPackageHash(held.share.public) === b.predecessor ? held : undefined;
      if (dealer && stored === undefined) currentShare(ctx.keystore, b.keyId, b.predecessor); // throws the precise refusal
      const key = stored?.share.public ?? sentPackage(b.key, b.keyId, b.predecessor);
      assertPinned(ctx, [...b.dealers, ...b.committee]);
      return planOf(
        createReshareParticipant({
          key,
          ...(dealer && stored ? { share: stored.share } : {}),
          self: ctx.self,
          dealers: b.dealers,
          committee: b.committee,
          threshold: b.threshold,
          ...common,
        }),
        (r) => (r.kind === 'successor' ? { kind: 'successor', pending: r.successor } : { kind: 'dealt' }),
        {
          keyId: b.keyId,
          operation: 'reshare',
          producesSuccessor: receiver,
          generation: (stored?.generation ?? b.generation ?? 0) + 1,
          predecessorKey: key,
        },
      );
    }
    default: {
      const never: never = msg;
      throw new Error(`unhandled start ${JSON.stringify(never)}`);
    }
  }
}
