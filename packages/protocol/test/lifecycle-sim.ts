/**
 * The in-memory relay for key-lifecycle sessions (refresh, repair, reshare): any set of
 * lifecycle machines, every message sealed by its sender and delivered through
 * seal → JSON → parse → open (sim.ts `SimWorld`), broadcasts to every other participant, messages to
 * the coordinator collected. A `Tamper` hook drops, duplicates or rewrites envelopes in flight;
 * what a machine refuses by throwing is recorded, not fatal. Loops are bounded.
 */
import { BROADCAST, COORDINATOR, type Envelope, type LifecycleStep, type Message, type ProtocolError } from '../src/index.js';
import type { SimParty, SimWorld, Tamper } from './sim.js';

/** What the relay needs of a machine. */
export interface Machine<R> {
  readonly phase: string;
  start(): LifecycleStep<R>;
  receive(msg: Message): LifecycleStep<R>;
}

export interface SessionRun<R> {
  results: Map<string, R>;
  errors: Map<string, ProtocolError>;
  /** Every envelope sent, in order. */
  log: Envelope[];
  /** Envelopes addressed to the coordinator (confirmations, proofs), in order. */
  toCoordinator: Envelope[];
  /** Inputs a machine refused by throwing (state unchanged), in order. */
  refused: { to: string; env: Envelope; error: ProtocolError }[];
}

/**
 * Starts every machine (in `machines`' order, or `opts.startOrder`) and relays until no message
 * is left. Parties not in `opts.skipStart` start; a party in `opts.silent` sends nothing at all
 * (it dropped out).
 */
export function runSession<R>(
  world: SimWorld,
  machines: ReadonlyMap<string, Machine<R>>,
  opts: { tamper?: Tamper; silent?: readonly string[] } = {},
): SessionRun<R> {
  const run: SessionRun<R> = { results: new Map(), errors: new Map(), log: [], toCoordinator: [], refused: [] };
  const names = [...machines.keys()];
  const silent = new Set(opts.silent ?? []);
  const queue: { env: Envelope; to: string }[] = [];
  const post = (from: string, step: LifecycleStep<R>) => {
    if (step.result !== undefined) run.results.set(from, step.result);
    if (step.error) run.errors.set(from, step.error);
    if (silent.has(from)) return;
    const sealer = (world.parties.get(from) as SimParty).sealer;
    for (const out of step.outgoing) {
      const env = sealer.seal(out);
      run.log.push(env);
      if (out.to === COORDINATOR) run.toCoordinator.push(env);
      else for (const to of out.to === BROADCAST ? names.filter((m) => m !== from) : [out.to]) queue.push({ env, to });
    }
  };
  for (const [name, m] of machines) post(name, m.start());
  for (let steps = 0; queue.length > 0; steps++) {
    if (steps > 100_000) throw new Error('lifecycle simulation did not settle');
    const { env, to } = queue.shift() as { env: Envelope; to: string };
    const delivered = opts.tamper ? opts.tamper(env, to) : env;
    if (delivered === null) continue;
    for (const d of Array.isArray(delivered) ? delivered : [delivered]) {
      const machine = machines.get(to);
      if (machine === undefined) continue;
      try {
        post(to, machine.receive(world.open(to, d)));
      } catch (e) {
        run.refused.push({ to, env: d, error: e as ProtocolError });
      }
    }
  }
  return run;
}
