/**
 * Test helpers for refresh, repair and reshare on top of harness.ts (a DKG'd cluster) and
 * lifecycle-sim.ts (the relay): machines for a cluster, the switch to a successor, signing with
 * any set of shares under the ORIGINAL public key (suite verifier and, where one exists, an
 * independent one), and re-sealing tampered traffic as its (cheating) sender.
 */
import { expect } from 'vitest';
import {
  activateSuccessor,
  BROADCAST,
  COORDINATOR,
  createRefreshParticipant,
  createRepairParticipant,
  createReshareParticipant,
  type Envelope,
  fromHex,
  type KeyShare,
  type MessageBody,
  type MessageType,
  type Outgoing,
  openEnvelope,
  type PendingSuccessor,
  type PublicKeyPackage,
  type RepairResult,
  ReplayGuard,
  type ReshareResult,
  type Rng,
  utf8,
} from '../src/index.js';
import { independentVerifier } from './external-verifiers.js';
import { type Cluster, sign } from './harness.js';
import { type Machine, runSession, type SessionRun } from './lifecycle-sim.js';
import { makeWorld, rng, type SimParty, type SimWorld, type Tamper } from './sim.js';

/** Re-seals `body` as `from` (a fresh, valid signature and seq: the party itself is lying). */
export function sealAs(world: SimWorld, from: string, env: Envelope, body: unknown): Envelope {
  return (world.parties.get(from) as SimParty).sealer.seal({ type: env.type, sessionId: env.sessionId, to: env.to, body } as never);
}

/**
 * The same parties (identities, sealers) with new replay guards: a second relay, so that traffic
 * recorded in one session can be fed to another session's machines rather than stopped at the
 * transport as a replay.
 */
export function withFreshGuards(world: SimWorld): SimWorld {
  const parties = new Map([...world.parties].map(([n, p]) => [n, { ...p, guard: new ReplayGuard() }]));
  const coordinator = { ...world.coordinator, guard: new ReplayGuard() };
  return {
    parties,
    coordinator,
    keyOf: world.keyOf,
    open: (self, env) =>
      openEnvelope(JSON.parse(JSON.stringify(env)), {
        self,
        keyOf: world.keyOf,
        replay: (self === COORDINATOR ? coordinator : (parties.get(self) as SimParty)).guard,
      }),
  };
}

/** What `name`'s machine sends when started: a second, independent run of the same party (what an equivocator signs next). */
export function freshStart<R>(machines: ReadonlyMap<string, Machine<R>>, name: string): Outgoing[] {
  const m = machines.get(name);
  if (m === undefined) throw new Error(`no machine for ${name}`);
  return m.start().outgoing;
}

/** The body of the `type` message in what `name`'s machine sends when started again (see freshStart). */
export function freshBody<R, T extends MessageType>(machines: ReadonlyMap<string, Machine<R>>, name: string, type: T): MessageBody<T> {
  const found = freshStart(machines, name).find((o): o is Outgoing & { type: T; body: MessageBody<T> } => o.type === type);
  if (found === undefined) throw new Error(`${name} sends no ${type} when started`);
  return found.body;
}

/** `name`'s share with its scalar one more: it no longer matches Y_name (a holder that lies about its share). */
export function shareOffByOne(c: Cluster, name: string): KeyShare {
  const s = c.share(name);
  const scalar = c.suite.Fn.add(c.suite.Fn.fromBytes(s.frostSecret.signingShare), 1n);
  // slice(): a copy on an ArrayBuffer of its own, as FrostSecret wants.
  return { ...s, frostSecret: { ...s.frostSecret, signingShare: c.suite.Fn.toBytes(scalar).slice() } };
}

/** Throws on any error or refusal of a run: the happy path must be clean. */
export function expectClean(run: SessionRun<unknown>): void {
  expect([...run.errors.entries()].map(([p, e]) => `${p}: ${e.code} ${e.message}`)).toEqual([]);
  expect(run.refused.map((r) => `${r.to}: ${r.error.code} ${r.error.message}`)).toEqual([]);
}

const identity = (world: SimWorld, name: string) => (world.parties.get(name) as SimParty).identity;

/** A refresh participant for every member of `c` (or for the shares given). */
export function refreshMachines(
  c: Cluster,
  o: { sessionId?: string; rng?: Rng; shares?: ReadonlyMap<string, KeyShare> } = {},
): Map<string, Machine<PendingSuccessor>> {
  return new Map(
    c.names.map((n) => [
      n,
      createRefreshParticipant({
        share: o.shares?.get(n) ?? c.share(n),
        sessionId: o.sessionId ?? 'refresh-1',
        identity: identity(c.world, n),
        peerKey: c.world.keyOf,
        rng: o.rng ?? rng,
      }),
    ]),
  );
}

/** Runs a refresh of `c` through the relay. */
export function runRefresh(c: Cluster, o: { sessionId?: string; tamper?: Tamper; silent?: string[]; world?: SimWorld } = {}) {
  return runSession(o.world ?? c.world, refreshMachines(c, o.sessionId === undefined ? {} : { sessionId: o.sessionId }), o);
}

/** A world holding `c`'s parties (same identities) and fresh ones for `extra` names. */
export function widenWorld(c: Cluster, extra: readonly string[], identityRng: Rng = rng): SimWorld {
  const world = makeWorld(
    extra.filter((n) => !c.names.includes(n)),
    identityRng,
  );
  for (const n of c.names) world.parties.set(n, c.world.parties.get(n) as SimParty);
  return world;
}

/** A world holding `c`'s parties, `name` re-created with a new identity (a lost disk, re-enrolled). */
export function recreatedWorld(c: Cluster, name: string): SimWorld {
  const world = makeWorld([]);
  for (const [n, p] of c.world.parties) world.parties.set(n, p);
  const fresh = makeWorld([name]).parties.get(name);
  if (!fresh) throw new Error(`no fresh ${name}`);
  world.parties.set(name, fresh);
  return world;
}

/** What every party of a session passes its machine, besides the operation's own parameters. */
interface SessionParams {
  sessionId?: string;
  rng?: Rng;
  /** A party's share to use instead of its real one (a cheating or damaged party). */
  shares?: ReadonlyMap<string, KeyShare>;
}

/**
 * One machine per name: `make` gets the party's own options (its share when `hasShare`, its
 * identity, the world's pinned keys, the session and rng).
 */
function machinesFor<R, O>(
  c: Cluster,
  world: SimWorld,
  names: readonly string[],
  p: SessionParams & { defaultSession: string; hasShare: (n: string) => boolean },
  make: (o: O) => Machine<R>,
  own: (n: string) => Omit<O, 'share' | 'sessionId' | 'identity' | 'peerKey' | 'rng'>,
): Map<string, Machine<R>> {
  return new Map(
    names.map((n) => {
      const share = p.shares?.get(n) ?? (p.hasShare(n) ? c.share(n) : undefined);
      const options = {
        ...own(n),
        ...(share ? { share } : {}),
        sessionId: p.sessionId ?? p.defaultSession,
        identity: identity(world, n),
        peerKey: world.keyOf,
        rng: p.rng ?? rng,
      } as O;
      return [n, make(options)];
    }),
  );
}

export interface ReshareParams extends SessionParams {
  dealers: readonly string[];
  committee: readonly string[];
  threshold: number;
}

/** A reshare participant for every dealer and new member, in `world`. */
export function reshareMachines(c: Cluster, world: SimWorld, p: ReshareParams): Map<string, Machine<ReshareResult>> {
  const names = [...new Set([...p.dealers, ...p.committee])].sort();
  const session = { ...p, defaultSession: 'reshare-1', hasShare: (n: string) => p.dealers.includes(n) };
  return machinesFor(c, world, names, session, createReshareParticipant, (self) => ({
    key: c.pub,
    self,
    dealers: p.dealers,
    committee: p.committee,
    threshold: p.threshold,
  }));
}

export interface RepairParams extends SessionParams {
  target: string;
  helpers: readonly string[];
}

/** A repair participant for every helper and the target, in `world` (default: the cluster's). */
export function repairMachines(c: Cluster, p: RepairParams, world: SimWorld = c.world): Map<string, Machine<RepairResult>> {
  const session = { ...p, defaultSession: 'repair-1', hasShare: (n: string) => n !== p.target };
  return machinesFor(c, world, [...p.helpers, p.target], session, createRepairParticipant, (self) => ({
    key: c.pub,
    self,
    target: p.target,
    helpers: p.helpers,
  }));
}

/**
 * A relay that delivers, before each message, its counterpart from another session's `log` (same
 * type, sender and recipient): a coordinator that mixes sessions up.
 */
export function mixingIn(log: readonly Envelope[]): Tamper {
  return (env, to) => {
    const twin = log.find((e) => e.type === env.type && e.from === env.from && (e.to === to || e.to === BROADCAST));
    return twin ? [twin, env] : env;
  };
}

/** The run was fed another session's traffic: all of it refused as `wrong_session`, nothing else went wrong. */
export function expectOnlyWrongSession(run: SessionRun<unknown>): void {
  expect(run.errors.size).toBe(0);
  expect(run.refused.length).toBeGreaterThan(0);
  expect(new Set(run.refused.map((r) => r.error.code))).toEqual(new Set(['wrong_session']));
}

/** Every pending successor of a run, activated with the run's own certificate. */
export function activateAll(
  pending: ReadonlyMap<string, PendingSuccessor>,
  predecessor: PublicKeyPackage,
  confirmations: readonly Envelope[],
  keyOf: (p: string) => Uint8Array | undefined,
): Map<string, KeyShare> {
  return new Map([...pending].map(([n, p]) => [n, activateSuccessor(p, { predecessor, confirmations, keyOf })]));
}

/** The successors a reshare run produced, by new member. */
export function reshareSuccessors(run: SessionRun<ReshareResult>): Map<string, PendingSuccessor> {
  const out = new Map<string, PendingSuccessor>();
  for (const [n, r] of run.results) if (r.kind === 'successor') out.set(n, r.successor);
  return out;
}

/** `c` as seen through another set of shares (all of one key generation). */
export function withShares(c: Cluster, shares: ReadonlyMap<string, KeyShare>, world: SimWorld = c.world): Cluster {
  const first = shares.values().next().value as KeyShare;
  return {
    ...c,
    world,
    names: [...shares.keys()].sort(),
    pub: first.public,
    share: (n) => shares.get(n) ?? expect.fail(`no share for ${n}`),
  };
}

/**
 * `signers` sign a fresh message; the signature must verify under `originalPublicKey` (hex) with
 * the suite's verifier and with the independent verifier where one exists (OpenSSL, libsecp256k1).
 */
export function expectSignsUnder(c: Cluster, signers: readonly string[], originalPublicKey: string): void {
  // BIP-340 signers sign a 32-byte digest (the only length libsecp256k1 takes).
  const message = c.suite.id === 'secp256k1-tr' ? rng(32) : utf8(`after the lifecycle operation ${signers.join(',')}`);
  const sig = sign(c, signers, message);
  const pk = fromHex(originalPublicKey);
  expect(c.suite.verify(sig, message, pk)).toBe(true);
  const independent = independentVerifier(c.suite.id);
  if (independent) expect(independent(sig, message, pk)).toBe(true);
}
