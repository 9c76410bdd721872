/**
 * In-memory cluster for protocol tests (our quinn `Pair`): parties with identity keys and a relay
 * that delivers every message through seal → JSON → parse → open, as the real transport does.
 * Hooks let a test drop, duplicate or rewrite envelopes in flight. Loops are bounded.
 */
import { randomBytes } from 'node:crypto';
import {
  BROADCAST,
  COORDINATOR,
  createDkgParticipant,
  createEnvelopeSealer,
  type DkgParticipant,
  type Envelope,
  type EnvelopeSealer,
  generateIdentity,
  type IdentityKey,
  type KeyShare,
  type Message,
  openEnvelope,
  type ProtocolError,
  ReplayGuard,
  type Rng,
  type Suite,
} from '../src/index.js';

export const rng: Rng = (n = 32) => new Uint8Array(randomBytes(n));

export interface SimParty {
  name: string;
  identity: IdentityKey;
  sealer: EnvelopeSealer;
  guard: ReplayGuard;
}

export interface SimWorld {
  parties: Map<string, SimParty>;
  coordinator: SimParty;
  keyOf(name: string): Uint8Array | undefined;
  open(self: string, env: Envelope): Message;
}

/** Parties with fresh identity keys (drawn from `identityRng`: pass a seeded one for vectors). */
export function makeWorld(names: readonly string[], identityRng: Rng = rng): SimWorld {
  const mk = (name: string): SimParty => {
    const identity = generateIdentity(identityRng);
    return { name, identity, sealer: createEnvelopeSealer(name, identity, 1), guard: new ReplayGuard() };
  };
  const parties = new Map(names.map((n) => [n, mk(n)]));
  const coordinator = mk(COORDINATOR);
  const keyOf = (name: string) => (name === COORDINATOR ? coordinator.identity.publicKey : parties.get(name)?.identity.publicKey);
  return {
    parties,
    coordinator,
    keyOf,
    open: (self, env) => {
      const p = self === COORDINATOR ? coordinator : (parties.get(self) as SimParty);
      return openEnvelope(JSON.parse(JSON.stringify(env)), { self, keyOf, replay: p.guard });
    },
  };
}

export interface DkgRun {
  shares: Map<string, KeyShare>;
  errors: Map<string, ProtocolError>;
  /** Every envelope that went over the relay, in order. */
  log: Envelope[];
  confirmations: Envelope[];
}

/** What the relay does with one envelope on its way to one recipient. */
export type Tamper = (env: Envelope, to: string) => Envelope | Envelope[] | null;

/** Runs a whole DKG among `committee` through the state machines. */
export function runDkg(
  world: SimWorld,
  suite: Suite,
  committee: readonly string[],
  threshold: number,
  opts: { keyId?: string; tamper?: Tamper; participants?: Map<string, DkgParticipant>; rng?: Rng } = {},
): DkgRun {
  const keyId = opts.keyId ?? `key-${Math.random().toString(36).slice(2, 10)}`;
  const sessionId = `dkg-${keyId}`;
  const machines =
    opts.participants ??
    new Map(
      committee.map((name) => {
        const p = world.parties.get(name) as SimParty;
        return [
          name,
          createDkgParticipant({
            suite,
            keyId,
            sessionId,
            self: name,
            committee,
            threshold,
            identity: p.identity,
            peerKey: world.keyOf,
            rng: opts.rng ?? rng,
          }),
        ];
      }),
    );
  const run: DkgRun = { shares: new Map(), errors: new Map(), log: [], confirmations: [] };
  const queue: { env: Envelope; to: string }[] = [];
  const post = (from: string, step: ReturnType<DkgParticipant['start']>) => {
    if (step.share) run.shares.set(from, step.share);
    if (step.error) run.errors.set(from, step.error);
    const sealer = (world.parties.get(from) as SimParty).sealer;
    for (const out of step.outgoing) {
      const env = sealer.seal(out);
      run.log.push(env);
      if (out.to === COORDINATOR) {
        run.confirmations.push(env);
        continue;
      }
      const targets = out.to === BROADCAST ? committee.filter((m) => m !== from) : [out.to];
      for (const to of targets) queue.push({ env, to });
    }
  };
  for (const [name, m] of machines) post(name, m.start());
  for (let steps = 0; queue.length > 0; steps++) {
    if (steps > 100_000) throw new Error('DKG simulation did not settle');
    const { env, to } = queue.shift() as { env: Envelope; to: string };
    const delivered = opts.tamper ? opts.tamper(env, to) : env;
    if (delivered === null) continue;
    for (const d of Array.isArray(delivered) ? delivered : [delivered]) {
      const msg = world.open(to, d);
      post(to, (machines.get(to) as DkgParticipant).receive(msg));
    }
  }
  return run;
}
