/**
 * The signing machine driven by hand (no driver, no network): what it does with answers that do
 * not belong to it, and where a commitment is checked.
 */
import { randomBytes } from 'node:crypto';
import {
  createSigner,
  fromHex,
  getSuite,
  type MessageBody,
  type NonceCommitmentWire,
  type PendingSuccessor,
  rawIntent,
  runAggregationJob,
  type Signer,
  signingMessages,
  toHex,
  utf8,
} from '@glacis/protocol';
import { schnorr } from '@noble/curves/secp256k1.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../protocol/test/harness.js';
import { activateAll, runRefresh } from '../../protocol/test/lifecycle-harness.js';
import { p2wpkhDestination, taprootSpend } from '../../protocol/test/psbt-fixtures.js';
import { encodeSessionId, parseSessionId, type SessionRefOf } from '../src/orchestrator/session-id.js';
import { createSigningMachine, type SigningAction } from '../src/orchestrator/signing-machine.js';
import { requestInput, rng, sends } from './signing-machine-harness.js';
import { keyFor } from './signing-sim.js';

let key: Cluster;
beforeAll(() => {
  key = keyFor('ed25519', 3, 2);
});

/** A machine with every party connected and one request running; the parties' signers. */
function running(poolTarget = 0, sessionGraceMs = 0) {
  const m = createSigningMachine({ epoch: 'e1', poolTarget, sessionGraceMs });
  const signers = new Map<string, Signer>(key.names.map((p) => [p, createSigner(key.share(p), rng)]));
  for (const p of key.names) m.handle({ type: 'connect', party: p }, 0);
  const started = m.handle(requestInput(key), 0);
  const session = (a: Extract<SigningAction, { type: 'send' }>) => parseSessionId(a.message.sessionId) as SessionRefOf<'commit'>;
  return { m, signers, started, session };
}

describe('signing machine', () => {
  it('asks every connected member for a commitment and persists `signing` first', () => {
    const { started } = running();
    expect(started[0]).toEqual({ type: 'persist', requestId: 'sig_1', keyId: key.pub.keyId, change: { kind: 'signing' } });
    expect(sends(started, 'commit_request').map((a) => a.to)).toEqual(key.names);
  });

  it('an invalid commitment answering a request’s ask excludes its sender from that request (invalid_point)', () => {
    const { m, started, session } = running();
    const ask = sends(started, 'commit_request')[0] as Extract<SigningAction, { type: 'send' }>;
    const bad: NonceCommitmentWire = { hiding: 'ff'.repeat(32), binding: 'ff'.repeat(32) };
    const out = m.handle({ type: 'commitments', from: ask.to, session: session(ask), keyId: key.pub.keyId, commitments: [bad] }, 1);
    expect(out).toEqual([
      {
        type: 'persist',
        requestId: 'sig_1',
        keyId: key.pub.keyId,
        change: { kind: 'excluded', partyId: ask.to, code: 'invalid_point', reason: expect.any(String) },
      },
    ]);
    expect(m.roastOf('sig_1')?.partyPhase(ask.to)).toBe('excluded');
  });

  it('a refill nobody asked for, or one with an invalid commitment, is discarded without touching any request', () => {
    const { m, started } = running(2);
    const refill = sends(started, 'commit_request').find((a) => parseSessionId(a.message.sessionId)?.kind === 'pool');
    const ref = parseSessionId(refill?.message.sessionId ?? '') as SessionRefOf<'pool'>;
    expect(ref).toMatchObject({ kind: 'pool', epoch: 'e1', keyId: key.pub.keyId });
    const from = refill?.to as string;
    const good = createSigner(key.share(from), rng).commit();
    const unknown = { ...ref, n: 99 };
    expect(m.handle({ type: 'commitments', from, session: unknown, keyId: key.pub.keyId, commitments: [good] }, 1)).toEqual([
      { type: 'discarded', from, reason: expect.stringContaining('unknown refill') },
    ]);
    const bad: NonceCommitmentWire = { hiding: 'ff'.repeat(32), binding: good.binding };
    expect(m.handle({ type: 'commitments', from, session: ref, keyId: key.pub.keyId, commitments: [good, bad] }, 1)).toEqual([
      { type: 'discarded', from, reason: expect.stringContaining('invalid commitment') },
    ]);
    expect(m.roastOf('sig_1')?.partyPhase(from), 'not blamed, and not given the good one either').toBe('idle');
  });

  it('ignores answers for a session of an earlier coordinator life', () => {
    const { m, signers, started, session } = running();
    let out: SigningAction[] = [];
    for (const ask of sends(started, 'commit_request')) {
      const p = ask.to;
      const commitments = [(signers.get(p) as Signer).commit()];
      out = out.concat(m.handle({ type: 'commitments', from: p, session: session(ask), keyId: key.pub.keyId, commitments }, 1));
    }
    const [pkg] = sends(out, 'signing_package');
    if (pkg?.message.type !== 'signing_package') throw new Error('no session started');
    const signer = signers.get(pkg.to) as Signer;
    const share = toHex(signer.sign(pkg.message.body, [utf8('m')]).shares[0] as Uint8Array);
    const ref = parseSessionId(pkg.message.sessionId) as SessionRefOf<'sign'>;
    const stale = { ...ref, epoch: 'e0' };
    expect(m.handle({ type: 'share', from: pkg.to, session: stale, shares: [share], next: null }, 2)).toEqual([]);
    expect(m.roastOf('sig_1')?.partyPhase(pkg.to)).toBe('signing');
    expect(encodeSessionId(stale)).not.toBe(pkg.message.sessionId);
  });

  it('a request whose lease moved elsewhere is abandoned: no settle, no more sends, its unused commitments kept for the next request', () => {
    const { m, signers, started, session } = running(0);
    // One member answers the request's ask (too few for a session of 2) before the lease is lost.
    const [first] = sends(started, 'commit_request');
    if (!first) throw new Error('no ask');
    const commitments = [(signers.get(first.to) as Signer).commit()];
    expect(m.handle({ type: 'commitments', from: first.to, session: session(first), keyId: key.pub.keyId, commitments }, 1)).toEqual([]);
    const out = m.handle({ type: 'abandon', requestId: 'sig_1' }, 2);
    expect(out).toEqual([{ type: 'set_timer', requestId: 'sig_1', at: null }]);
    expect(m.has('sig_1')).toBe(false);
    expect(m.handle({ type: 'tick', requestId: 'sig_1' }, 20_000)).toEqual([]);
    expect(m.handle({ type: 'abandon', requestId: 'sig_1' }, 3)).toEqual([]);
    // Started again here (claimed back): a fresh run, which persists `signing` again and starts over.
    const again = m.handle(requestInput(key), 4);
    expect(again[0]).toEqual({ type: 'persist', requestId: 'sig_1', keyId: key.pub.keyId, change: { kind: 'signing' } });
    // The commitment the abandoned run held unused came back to the pool: its party is not asked again.
    expect(sends(again, 'commit_request').map((a) => a.to)).toEqual(key.names.filter((p) => p !== first.to));
  });

  it('the commitment that comes with the share ending a request goes to the pool: the next request asks nobody', () => {
    const { m, signers, started, session } = running(0, 250); // the grace: one session only
    let out: SigningAction[] = [];
    for (const ask of sends(started, 'commit_request')) {
      const commitments = [(signers.get(ask.to) as Signer).commit()];
      out = out.concat(m.handle({ type: 'commitments', from: ask.to, session: session(ask), keyId: key.pub.keyId, commitments }, 1));
    }
    const packages = sends(out, 'signing_package');
    expect(packages).toHaveLength(2);
    let end: SigningAction[] = [];
    for (const pkg of packages) {
      if (pkg.message.type !== 'signing_package') throw new Error('not a package');
      const signer = signers.get(pkg.to) as Signer;
      const shares = signer.sign(pkg.message.body, [utf8('m')]).shares.map((z) => toHex(z));
      const ref = parseSessionId(pkg.message.sessionId) as SessionRefOf<'sign'>;
      end = m.handle({ type: 'share', from: pkg.to, session: ref, shares, next: signer.commit() }, 2);
    }
    expect(end.some((a) => a.type === 'settle')).toBe(true);
    const second = m.handle(requestInput(key, 'sig_2', rawIntent(toHex(utf8('m2')))), 3);
    // Every member holds a fresh commitment in the pool: the last signer's came with its share.
    expect(sends(second, 'commit_request')).toEqual([]);
    expect(new Set(sends(second, 'signing_package').map((a) => a.message.sessionId)).size, 'its session starts at once').toBe(1);
  });

  it('a request none of whose committee is connected holds no ROAST run until a member connects, then signs; unanswered, it fails at its deadline as before', () => {
    const m = createSigningMachine({ epoch: 'e1', poolTarget: 0, sessionGraceMs: 250 });
    const signers = new Map<string, Signer>(key.names.map((p) => [p, createSigner(key.share(p), rng)]));
    const started = m.handle(requestInput(key, 'sig_1'), 0);
    expect(started.map((a) => a.type)).toEqual(['persist', 'set_timer']);
    expect(m.has('sig_1')).toBe(true);
    expect(m.roastOf('sig_1')).toBeUndefined();
    // Parties that drop before it started leave it as it was.
    m.handle({ type: 'disconnect', party: key.names[0] as string }, 1);
    expect(m.roastOf('sig_1')).toBeUndefined();
    let out: SigningAction[] = [];
    for (const p of key.names) out = out.concat(m.handle({ type: 'connect', party: p }, 2));
    expect(m.roastOf('sig_1')?.phase).toBe('running');
    const asks = sends(out, 'commit_request');
    expect(asks.map((a) => a.to)).toEqual(key.names);
    let packages: SigningAction[] = [];
    for (const ask of asks) {
      const commitments = [(signers.get(ask.to) as Signer).commit()];
      const session = parseSessionId(ask.message.sessionId) as SessionRefOf<'commit'>;
      packages = packages.concat(m.handle({ type: 'commitments', from: ask.to, session, keyId: key.pub.keyId, commitments }, 3));
    }
    let end: SigningAction[] = [];
    for (const pkg of sends(packages, 'signing_package')) {
      if (pkg.message.type !== 'signing_package') throw new Error('not a package');
      const signer = signers.get(pkg.to) as Signer;
      const shares = signer.sign(pkg.message.body, [utf8('m')]).shares.map((z) => toHex(z));
      const ref = parseSessionId(pkg.message.sessionId) as SessionRefOf<'sign'>;
      end = end.concat(m.handle({ type: 'share', from: pkg.to, session: ref, shares, next: null }, 4));
    }
    expect(end.find((a) => a.type === 'settle')).toMatchObject({ outcome: { status: 'completed' } });

    const alone = createSigningMachine({ epoch: 'e2', poolTarget: 0, sessionGraceMs: 250 });
    alone.handle(requestInput(key, 'sig_2'), 0);
    expect(alone.roastOf('sig_2')).toBeUndefined();
    expect(alone.handle({ type: 'tick', requestId: 'sig_2' }, 10_000)).toContainEqual(
      expect.objectContaining({
        type: 'settle',
        outcome: {
          status: 'failed',
          code: 'insufficient_parties',
          message: expect.stringMatching(/before the deadline \(0 session\(s\) started/),
        },
      }),
    );
    expect(alone.has('sig_2')).toBe(false);
  });

  it('reports each ROAST session once when it starts (session_started), not when its package is sent again to a party that reconnects', () => {
    const { m, signers, started, session } = running(0, 250);
    let out: SigningAction[] = [];
    for (const ask of sends(started, 'commit_request')) {
      const commitments = [(signers.get(ask.to) as Signer).commit()];
      out = out.concat(m.handle({ type: 'commitments', from: ask.to, session: session(ask), keyId: key.pub.keyId, commitments }, 1));
    }
    const [pkg] = sends(out, 'signing_package');
    const reported = out.filter((a) => a.type === 'session_started');
    expect(reported).toEqual([
      { type: 'session_started', requestId: 'sig_1', sessionId: pkg?.message.sessionId, signers: expect.any(Array), index: 0 },
    ]);
    const signer = pkg?.to as string;
    m.handle({ type: 'disconnect', party: signer }, 2);
    const again = m.handle({ type: 'connect', party: signer }, 3);
    expect(sends(again, 'signing_package').map((a) => a.message.sessionId)).toEqual([pkg?.message.sessionId]);
    expect(again.filter((a) => a.type === 'session_started')).toEqual([]);
  });

  it('a key that switches mid-request: the request starts over on the new material, old shares meet no session, it completes under the same public key', () => {
    const { m, signers, started, session } = running();
    let out: SigningAction[] = [];
    for (const ask of sends(started, 'commit_request')) {
      const commitments = [(signers.get(ask.to) as Signer).commit()];
      out = out.concat(m.handle({ type: 'commitments', from: ask.to, session: session(ask), keyId: key.pub.keyId, commitments }, 1));
    }
    const [oldPkg] = sends(out, 'signing_package');
    if (oldPkg?.message.type !== 'signing_package') throw new Error('no session started');
    const oldShare = toHex((signers.get(oldPkg.to) as Signer).sign(oldPkg.message.body, [utf8('m')]).shares[0] as Uint8Array);

    // The key is refreshed: new shares of the same key.
    const run = runRefresh(key, { sessionId: 'refresh-op_1' });
    const pending = new Map([...run.results]);
    const successor = (pending.get('p01') as PendingSuccessor).public;
    const next = activateAll(
      pending as Map<string, PendingSuccessor>,
      key.pub,
      run.toCoordinator.filter((e) => e.type === 'lifecycle_confirm'),
      key.world.keyOf,
    );
    const switched = m.handle({ type: 'key_switched', keyId: key.pub.keyId, key: successor }, 2);
    const asks = sends(switched, 'commit_request');
    expect(asks.map((a) => a.to).sort()).toEqual(key.names);

    // The new shares sign the request through.
    const fresh = new Map<string, Signer>([...next].map(([p, share]) => [p, createSigner(share, rng)]));
    let again: SigningAction[] = [];
    for (const ask of asks) {
      const commitments = [(fresh.get(ask.to) as Signer).commit()];
      again = again.concat(m.handle({ type: 'commitments', from: ask.to, session: session(ask), keyId: key.pub.keyId, commitments }, 4));
    }
    const pkgs = sends(again, 'signing_package');
    expect(pkgs.length).toBeGreaterThanOrEqual(2);
    // A share made on the old material, for the old session, arrives late, while the new session
    // runs: it meets no session (under the same session id it would blame an honest party).
    const oldRef = parseSessionId(oldPkg.message.sessionId) as SessionRefOf<'sign'>;
    expect(m.handle({ type: 'share', from: oldPkg.to, session: oldRef, shares: [oldShare], next: null }, 3)).toEqual([]);
    const newRef = parseSessionId(pkgs[0]?.message.sessionId ?? '') as SessionRefOf<'sign'>;
    expect(newRef.n).not.toBe(oldRef.n);
    let settled: SigningAction[] = [];
    for (const p of pkgs) {
      if (p.message.type !== 'signing_package') continue;
      const share = toHex((fresh.get(p.to) as Signer).sign(p.message.body, [utf8('m')]).shares[0] as Uint8Array);
      const session = parseSessionId(p.message.sessionId) as SessionRefOf<'sign'>;
      settled = settled.concat(m.handle({ type: 'share', from: p.to, session, shares: [share], next: null }, 5));
    }
    const done = settled.find((a) => a.type === 'settle');
    expect(done).toMatchObject({ type: 'settle', outcome: { status: 'completed' } });
    const [signature] = (done as Extract<SigningAction, { type: 'settle' }> & { outcome: { signatures: Uint8Array[] } }).outcome.signatures;
    expect(getSuite('ed25519').verify(signature as Uint8Array, utf8('m'), fromHex(key.pub.publicKey))).toBe(true);
    expect(settled.filter((a) => a.type === 'persist' && a.change.kind === 'excluded')).toEqual([]);
  });
});

/** `actions` settle the request completed with one valid BIP-340 signature per message, in order. */
function expectSignedEvery(actions: SigningAction[], messages: readonly Uint8Array[], publicKey: Uint8Array): void {
  const settle = actions.find((a) => a.type === 'settle');
  if (settle?.type !== 'settle' || settle.outcome.status !== 'completed') throw new Error(`not completed: ${JSON.stringify(settle)}`);
  const sigs = settle.outcome.signatures;
  expect(sigs).toHaveLength(messages.length);
  sigs.forEach((sig, i) => {
    expect(schnorr.verify(sig, messages[i] as Uint8Array, publicKey)).toBe(true);
  });
}

describe('a request whose intent yields several messages (a PSBT with listed inputs)', () => {
  it('asks each member for one commitment per input in one ask, signs every input in one session, settles with every signature', () => {
    const tr = keyFor('secp256k1-tr', 3, 2);
    const publicKey = fromHex(tr.pub.publicKey);
    const { intent } = taprootSpend(publicKey, [10_000n, 20_000n, 30_000n], [{ ...p2wpkhDestination(4), amount: 55_000n }]);
    const messages = signingMessages(intent, { keyId: tr.pub.keyId, suite: 'secp256k1-tr', publicKey });
    const m = createSigningMachine({ epoch: 'e1', poolTarget: 32 });
    const signers = new Map<string, Signer>(tr.names.map((p) => [p, createSigner(tr.share(p), rng)]));
    for (const p of tr.names) m.handle({ type: 'connect', party: p }, 0);
    const started = m.handle(requestInput(tr, 'sig_w', intent), 0);
    const asks = sends(started, 'commit_request').filter((a) => parseSessionId(a.message.sessionId)?.kind === 'commit');
    expect(asks.map((a) => (a.message.body as { count: number }).count)).toEqual([3, 3, 3]);
    let out: SigningAction[] = [];
    for (const ask of asks.slice(0, 2)) {
      const commitments = Array.from({ length: 3 }, () => (signers.get(ask.to) as Signer).commit());
      const session = parseSessionId(ask.message.sessionId) as SessionRefOf<'commit'>;
      out = out.concat(m.handle({ type: 'commitments', from: ask.to, session, keyId: tr.pub.keyId, commitments }, 1));
    }
    const packages = sends(out, 'signing_package');
    expect(packages).toHaveLength(2);
    let done: SigningAction[] = [];
    for (const pkg of packages) {
      const body = pkg.message.body as MessageBody<'signing_package'>;
      expect(body.commitments.every((c) => c.more?.length === 2)).toBe(true);
      const signed = (signers.get(pkg.to) as Signer).sign(body, messages);
      const ref = parseSessionId(pkg.message.sessionId) as SessionRefOf<'sign'>;
      done = m.handle({ type: 'share', from: pkg.to, session: ref, shares: signed.shares.map(toHex), next: null }, 2);
    }
    expectSignedEvery(done, messages, publicKey);
  });

  it('on a worker (deferAggregation): one job carries all three inputs, its verdict settles with every signature; the next commitments go to the pool', () => {
    const tr = keyFor('secp256k1-tr', 3, 2);
    const publicKey = fromHex(tr.pub.publicKey);
    const { intent } = taprootSpend(publicKey, [10_000n, 20_000n, 30_000n], [{ ...p2wpkhDestination(5), amount: 55_000n }], 3);
    const messages = signingMessages(intent, { keyId: tr.pub.keyId, suite: 'secp256k1-tr', publicKey });
    const m = createSigningMachine({ epoch: 'e1', poolTarget: 32, sessionGraceMs: 250, deferAggregation: true });
    const signers = new Map<string, Signer>(tr.names.map((p) => [p, createSigner(tr.share(p), rng)]));
    for (const p of tr.names) m.handle({ type: 'connect', party: p }, 0);
    const request = (signatureId: string) => m.handle(requestInput(tr, signatureId, intent), 0);
    const asksOf = (out: SigningAction[]) =>
      sends(out, 'commit_request').filter((a) => parseSessionId(a.message.sessionId)?.kind === 'commit');
    const asks = asksOf(request('sig_w'));
    let out: SigningAction[] = [];
    for (const ask of asks.slice(0, 2)) {
      const commitments = Array.from({ length: 3 }, () => (signers.get(ask.to) as Signer).commit());
      const session = parseSessionId(ask.message.sessionId) as SessionRefOf<'commit'>;
      out = out.concat(m.handle({ type: 'commitments', from: ask.to, session, keyId: tr.pub.keyId, commitments }, 1));
    }
    let answered: SigningAction[] = [];
    for (const pkg of sends(out, 'signing_package')) {
      const signer = signers.get(pkg.to) as Signer;
      const signed = signer.sign(pkg.message.body as MessageBody<'signing_package'>, messages);
      const ref = parseSessionId(pkg.message.sessionId) as SessionRefOf<'sign'>;
      const next = { ...signer.commit(), more: [signer.commit(), signer.commit()] };
      answered = answered.concat(
        m.handle({ type: 'share', from: pkg.to, session: ref, shares: signed.shares.map((z) => toHex(z)), next }, 2),
      );
    }
    const ask = answered.find((a) => a.type === 'aggregate');
    if (ask?.type !== 'aggregate') throw new Error('no aggregate action');
    expect(
      answered.some((a) => a.type === 'settle'),
      'nothing settles before the verdict',
    ).toBe(false);
    expect(ask.job.messages).toHaveLength(3);
    for (const s of ask.job.signers) expect([s.commitments.length, s.shares.length]).toEqual([3, 3]);
    const verdict = runAggregationJob(structuredClone(ask.job));
    const done = m.handle({ type: 'aggregated', requestId: 'sig_w', sessionId: ask.sessionId, verdict }, 3);
    expectSignedEvery(done, messages, publicKey);
    // The last signer's three next commitments went to the pool with the other signer's: a
    // second request of the same width asks only the member that holds none.
    const second = request('sig_w2');
    expect(asksOf(second).map((a) => a.to)).toEqual(tr.names.filter((p) => !asks.slice(0, 2).some((a) => a.to === p)));
  });

  it('an intent the key cannot sign settles the request failed (intent_invalid) instead of running it', () => {
    const m = createSigningMachine({ epoch: 'e1' });
    const { intent } = taprootSpend(randomBytes(32), [10_000n], [{ ...p2wpkhDestination(4), amount: 5_000n }]);
    const out = m.handle(requestInput(key, 'sig_x', intent), 0);
    expect(out).toEqual([
      expect.objectContaining({ type: 'settle', outcome: expect.objectContaining({ status: 'failed', code: 'intent_invalid' }) }),
    ]);
    expect(m.has('sig_x')).toBe(false);
  });
});
