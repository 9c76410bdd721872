/**
 * Test helpers on top of sim.ts: a finished DKG per suite, one signing session through
 * createSigner/createAggregator, re-signing tampered envelopes as their (cheating) sender, and
 * asserting typed protocol errors by code and culprits, never by message text.
 */
import type { NonceCommitments } from '@noble/curves/abstract/frost.js';
import { expect } from 'vitest';
import type { SignerCommitment } from '../src/fast/index.js';
import {
  BROADCAST,
  createAggregator,
  createDkgParticipant,
  createSigner,
  type Envelope,
  envelopeSigningBytes,
  fromHex,
  getSuite,
  type IdentityKey,
  type Intent,
  isProtocolError,
  type KeyShare,
  type MessageBody,
  type NonceCommitment,
  type NonceCommitmentWire,
  type Outgoing,
  type ProtocolError,
  type ProtocolErrorCode,
  type PublicKeyPackage,
  parseNonceCommitment,
  type Rng,
  type Signer,
  type Suite,
  type SuiteId,
  toHex,
} from '../src/index.js';
import { type DkgRun, makeWorld, rng, runDkg, type SimParty, type SimWorld, type Tamper } from './sim.js';

/** Runs `f` and returns the ProtocolError it throws; fails the test if it throws nothing or anything else. */
export function catchProtocolError(f: () => unknown): ProtocolError {
  try {
    f();
  } catch (e) {
    if (isProtocolError(e)) return e;
    throw new Error(`expected a ProtocolError, got: ${String(e)}`, { cause: e });
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

/** Asserts that `f` throws a ProtocolError with `code` (and exactly `culprits`, when given). */
export function expectCode(f: () => unknown, code: ProtocolErrorCode, culprits?: readonly string[]): ProtocolError {
  const e = catchProtocolError(f);
  expect({ code: e.code, message: e.message }).toMatchObject({ code });
  if (culprits !== undefined) expect([...e.culprits].sort()).toEqual([...culprits].sort());
  return e;
}

/** Asserts a ProtocolError value (e.g. a DkgStep error) by code and culprits. */
export function expectError(e: ProtocolError | undefined, code: ProtocolErrorCode, culprits?: readonly string[]): void {
  expect(e, `expected a ${code} error`).toBeDefined();
  expect({ code: e?.code, message: e?.message }).toMatchObject({ code });
  if (culprits !== undefined) expect([...(e?.culprits ?? [])].sort()).toEqual([...culprits].sort());
}

/** The same envelope with a fresh, valid signature by `identity`: the sender itself is lying. */
export function resign(env: Envelope, identity: IdentityKey): Envelope {
  const { signature: _old, ...header } = env;
  return { ...header, signature: toHex(identity.sign(envelopeSigningBytes(header))) };
}

export interface Cluster {
  suite: Suite;
  world: SimWorld;
  names: string[];
  run: DkgRun;
  pub: PublicKeyPackage;
  share(name: string): KeyShare;
}

/** A completed DKG among `names` (party names p01…) with threshold `t`. */
export function cluster(id: SuiteId, n: number, t: number, opts: { tamper?: Tamper } = {}): Cluster {
  const suite = getSuite(id);
  const names = Array.from({ length: n }, (_, i) => `p${String(i + 1).padStart(2, '0')}`);
  const world = makeWorld(names);
  const run = runDkg(world, suite, names, t, opts.tamper ? { tamper: opts.tamper } : {});
  expect([...run.errors.entries()].map(([p, e]) => `${p}: ${e.code} ${e.message}`)).toEqual([]);
  expect(run.shares.size).toBe(n);
  const share = (name: string) => run.shares.get(name) ?? expect.fail(`no share for ${name}`);
  return { suite, world, names, run, pub: share(names[0] as string).public, share };
}

export interface SigningSession {
  signers: Map<string, Signer>;
  pkg: MessageBody<'signing_package'>;
  shares: Map<string, string>;
  finish(): Uint8Array;
  addShare(name: string, hex: string): boolean;
}

/** noble's commitment list, each commitment parsed as a commitment entering Glacis is. */
export function parsedCommitments(suite: Suite, list: readonly NonceCommitments[]): SignerCommitment[] {
  return list.map((c) => ({
    identifier: c.identifier,
    commitment: parseNonceCommitment(suite, { hiding: toHex(c.hiding), binding: toHex(c.binding) }),
  }));
}

/** The intent and messages of a raw signing request for `message` (aggregator and ROAST options). */
export function rawSigning(message: Uint8Array): { intent: Intent; messages: Uint8Array[] } {
  return { intent: { type: 'raw', message: toHex(message) }, messages: [message] };
}

/** One entry of a signing package's commitment list: `partyId`'s commitment. */
export function entry(partyId: string, commitment: NonceCommitmentWire): MessageBody<'signing_package'>['commitments'][number] {
  return { partyId, ...commitment };
}

/**
 * A raw signing package of `c`'s key over `commitments`, as a coordinator (honest or not)
 * assembles it: request r1, message 0x01, no approvals, unless `over` says otherwise.
 */
export function rawPackage(
  c: Cluster,
  commitments: MessageBody<'signing_package'>['commitments'],
  over: Partial<MessageBody<'signing_package'>> = {},
): MessageBody<'signing_package'> {
  return { keyId: c.pub.keyId, requestId: 'r1', intent: { type: 'raw', message: '01' }, approvals: [], commitments, ...over };
}

/** The messages a party derives from a raw package's intent. */
export function rawMessages(pkg: MessageBody<'signing_package'>): Uint8Array[] {
  if (pkg.intent.type !== 'raw') throw new Error('rawMessages: not a raw intent');
  return [fromHex(pkg.intent.message)];
}

/** `signer` signing a raw package with the message its intent carries. */
export function signRaw(signer: Signer, pkg: MessageBody<'signing_package'>) {
  return signer.sign(pkg, rawMessages(pkg));
}

/** `signer`'s one share of a single-message (raw) package. */
export function shareOf(signer: Signer, pkg: MessageBody<'signing_package'>): Uint8Array {
  return signer.sign(pkg, rawMessages(pkg)).shares[0] as Uint8Array;
}

/** A fresh commitment of `signer` (party `name`), parsed as the coordinator parses it where it enters. */
export function commitmentOf(suite: Suite, signer: Signer, name: string): NonceCommitment {
  return parseNonceCommitment(suite, signer.commit(), name);
}

/** One signing session over `names`, through the signer and aggregator state machines. */
export function session(
  c: Cluster,
  names: readonly string[],
  message: Uint8Array,
  requestId = 'req-1',
  signerRng: Rng = rng,
): SigningSession {
  const agg = createAggregator({ key: c.pub, requestId, ...rawSigning(message) });
  const signers = new Map(names.map((n) => [n, createSigner(c.share(n), signerRng)]));
  for (const [n, s] of signers) agg.addCommitment(n, [commitmentOf(c.suite, s, n)]);
  const pkg = agg.buildPackage();
  const shares = new Map<string, string>();
  for (const [n, s] of signers) shares.set(n, toHex(shareOf(s, pkg)));
  return { signers, pkg, shares, finish: () => agg.finish()[0] as Uint8Array, addShare: (n, h) => agg.addShare(n, [h]) };
}

/**
 * One session of the first two members over `messages` (one commitment and one share per message),
 * every share in, aggregated two ways: `inline` (finish) and `deferred` (its `job()` for another
 * thread, then `conclude`). `cheat` adds 1 to that signer's share of message `cheatAt` (default 0).
 */
export function aggregatedTwoWays(c: Cluster, messages: readonly Uint8Array[], cheat?: string, cheatAt = 0) {
  const [a, b] = c.names as [string, string];
  // The package carries the first message as a raw intent; the sessions sign `messages`, as a
  // party's own reading of a wider intent (a PSBT's inputs) would give them.
  const intent: Intent = { type: 'raw', message: toHex(messages[0] as Uint8Array) };
  const inline = createAggregator({ key: c.pub, requestId: 'r', intent, messages });
  const deferred = createAggregator({ key: c.pub, requestId: 'r', intent, messages, deferred: true });
  const signers = [a, b].map((n) => [n, createSigner(c.share(n), rng)] as const);
  for (const [n, s] of signers) {
    const commitments = messages.map(() => commitmentOf(c.suite, s, n));
    inline.addCommitment(n, commitments);
    deferred.addCommitment(n, commitments);
  }
  const pkg = inline.buildPackage();
  expect(deferred.buildPackage()).toEqual(pkg);
  for (const [n, s] of signers) {
    const zs = s
      .sign(pkg, messages)
      .shares.map((z, i) => (n === cheat && i === cheatAt ? c.suite.Fn.toBytes(c.suite.Fn.add(c.suite.Fn.fromBytes(z), 1n)) : z));
    inline.addShare(
      n,
      zs.map((z) => toHex(z)),
    );
    deferred.addShare(
      n,
      zs.map((z) => toHex(z)),
    );
  }
  return { inline, deferred };
}

/** Signs `message` with `names` and returns the aggregate signature (nonces from `signerRng`). */
export function sign(c: Cluster, names: readonly string[], message: Uint8Array, signerRng: Rng = rng): Uint8Array {
  const s = session(c, names, message, 'req-1', signerRng);
  for (const [n, h] of s.shares) s.addShare(n, h);
  return s.finish();
}

export const publicKeyBytes = (c: Cluster) => fromHex(c.pub.publicKey);

/** Big-endian or little-endian SerializeScalar of an arbitrary integer (no reduction). */
export function scalarBytes(suite: Suite, n: bigint): Uint8Array {
  const out = new Uint8Array(suite.scalarLength);
  let x = n;
  for (let i = 0; i < out.length; i++) {
    out[suite.Fn.isLE ? i : out.length - 1 - i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/**
 * One DKG participant (`p01`) of an n-member committee, started, with helpers to feed it
 * envelopes that other members sealed: the way to show it hostile round-1 or round-2 input.
 */
export function dkgVictim(id: SuiteId, n = 3, t = 2) {
  const suite = getSuite(id);
  const names = Array.from({ length: n }, (_, i) => `p${String(i + 1).padStart(2, '0')}`);
  const world = makeWorld(names);
  const keyId = 'k1';
  const sessionId = 'dkg-k1';
  /** `self`'s participant in this DKG, or in one over another `committee` (same key and session ids). */
  const participant = (self: string, committee: readonly string[] = names) =>
    createDkgParticipant({
      suite,
      keyId,
      sessionId,
      self,
      committee: [...committee],
      threshold: t,
      identity: (world.parties.get(self) as SimParty).identity,
      peerKey: world.keyOf,
      rng,
    });
  const victim = participant('p01');
  const own = victim.start();
  /** A valid round-1 body of `name` (a fresh polynomial each call). */
  const round1Of = (name: string) => (participant(name).start().outgoing[0] as Outgoing & { type: 'dkg_round1' }).body;
  /** Seals `body` as `from`'s round-1 broadcast and feeds it to the victim. */
  const sendRound1 = (from: string, body: MessageBody<'dkg_round1'>) =>
    victim.receive(
      world.open('p01', (world.parties.get(from) as SimParty).sealer.seal({ type: 'dkg_round1', sessionId, to: BROADCAST, body })),
    );
  return { suite, world, names, keyId, sessionId, victim, own, participant, round1Of, sendRound1 };
}
