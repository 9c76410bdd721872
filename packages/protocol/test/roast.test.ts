/**
 * The ROAST coordinator state machine, driven by hand: honest, silent, slow, cheating and refusing
 * signers, deadlines and the n − t + 1 session bound.
 */
import { describe, expect, it } from 'vitest';
import {
  createKeyCache,
  createRoastCoordinator,
  createSigner,
  fromHex,
  getSuite,
  type MessageBody,
  type OpenSession,
  parseNonceCommitment,
  type RoastAction,
  type RoastOptions,
  type Signer,
  signingMessages,
  toHex,
  utf8,
  WITHDRAWALS_PER_PARTY,
} from '../src/index.js';
import { countCalls, EDWARDS_DECODE } from './call-counts.js';
import { libsecpVerify } from './external-verifiers.js';
import { type Cluster, cluster, expectCode, rawSigning, shareOf } from './harness.js';
import { p2wpkhDestination, taprootSpend } from './psbt-fixtures.js';
import { rng } from './sim.js';

const message = utf8('roast me');

// One DKG per committee shape: every test gets fresh signers and a fresh ROAST run over it.
const clusters = new Map<string, Cluster>();

/** `p`'s fresh commitment, parsed as the driver parses it where it enters the coordinator. */
const fresh = (signers: ReadonlyMap<string, Signer>, p: string) =>
  parseNonceCommitment(getSuite('secp256k1-tr'), (signers.get(p) as Signer).commit(), p);

function setup(n: number, t: number, sessionGraceMs = 0, sessionHold?: RoastOptions['sessionHold']) {
  const c: Cluster = clusters.get(`${n}/${t}`) ?? cluster('secp256k1-tr', n, t);
  clusters.set(`${n}/${t}`, c);
  const signers = new Map<string, Signer>(c.names.map((p) => [p, createSigner(c.share(p), rng)]));
  const roast = createRoastCoordinator({
    key: c.pub,
    requestId: 'r1',
    intent: rawSigning(message).intent,
    sessionId: (i) => `s${i}`,
    sessionGraceMs,
    ...(sessionHold ? { sessionHold } : {}),
  });
  return { c, signers, roast };
}

const packages = (actions: RoastAction[]) =>
  actions.filter((a): a is Extract<RoastAction, { type: 'send_package' }> => a.type === 'send_package');

/** The signer's honest answer: its share and a fresh commitment. */
function answer(signers: Map<string, Signer>, p: string, sessionId: string, pkg: MessageBody<'signing_package'>) {
  const s = signers.get(p) as Signer;
  return { type: 'share' as const, from: p, sessionId, shares: [toHex(shareOf(s, pkg))], next: s.commit() };
}

describe('ROAST coordinator', () => {
  it('starts a session as soon as t parties are ready and completes on valid shares', () => {
    const { c, signers, roast } = setup(3, 2);
    expect(roast.handle({ type: 'commitment', from: 'p01', commitments: [fresh(signers, 'p01')] })).toEqual([]);
    const [start] = packages(roast.handle({ type: 'commitment', from: 'p03', commitments: [fresh(signers, 'p03')] }));
    expect(start?.to).toEqual(['p01', 'p03']);
    roast.handle(answer(signers, 'p01', start!.sessionId, start!.pkg));
    const done = roast.handle(answer(signers, 'p03', start!.sessionId, start!.pkg));
    const completed = done.find((a) => a.type === 'completed');
    expect(completed).toMatchObject({ type: 'completed', signers: ['p01', 'p03'] });
    const [signature] = completed?.signatures ?? [];
    expect(signature && c.suite.verify(signature, message, fromHex(c.pub.publicKey))).toBe(true);
    expect(roast.phase).toBe('completed');
  });

  it("asks for its session's arithmetic after the package, not before: prepare_session follows send_package; the result is the same either way", () => {
    for (const prepared of [true, false]) {
      const { c, signers, roast } = setup(3, 2);
      roast.handle({ type: 'commitment', from: 'p01', commitments: [fresh(signers, 'p01')] });
      const started = roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02')] });
      expect(started.map((a) => a.type)).toEqual(['send_package', 'prepare_session']);
      const [start] = packages(started);
      if (prepared) expect(roast.handle({ type: 'prepare_session', sessionId: start!.sessionId })).toEqual([]);
      roast.handle(answer(signers, 'p01', start!.sessionId, start!.pkg));
      const done = roast.handle(answer(signers, 'p02', start!.sessionId, start!.pkg));
      const [signature] = done.find((a) => a.type === 'completed')?.signatures ?? [];
      expect(signature && c.suite.verify(signature, message, fromHex(c.pub.publicKey))).toBe(true);
      // Once the session ended, a late prepare changes nothing.
      expect(roast.handle({ type: 'prepare_session', sessionId: start!.sessionId })).toEqual([]);
    }
  });

  it('a silent signer stalls only its session: the others, ready again, sign without it and nobody is blamed', () => {
    const { signers, roast } = setup(4, 2);
    const a1 = roast.handle({ type: 'commitment', from: 'p01', commitments: [fresh(signers, 'p01')] });
    const [s0] = packages([...a1, ...roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02')] })]);
    expect(s0?.to).toEqual(['p01', 'p02']);
    roast.handle({ type: 'commitment', from: 'p03', commitments: [fresh(signers, 'p03')] });
    // p02 never answers s0; p01 does, and with p03 ready a second session starts.
    const [s1] = packages(roast.handle(answer(signers, 'p01', s0!.sessionId, s0!.pkg)));
    expect(s1?.to.slice().sort()).toEqual(['p01', 'p03']);
    roast.handle(answer(signers, 'p03', s1!.sessionId, s1!.pkg));
    const done = roast.handle(answer(signers, 'p01', s1!.sessionId, s1!.pkg));
    expect(done.some((a) => a.type === 'completed')).toBe(true);
    expect([...roast.excluded.keys()]).toEqual([]);
  });

  it('an invalid share excludes exactly its sender; the request completes with honest parties', () => {
    const { signers, roast } = setup(3, 2);
    roast.handle({ type: 'commitment', from: 'p01', commitments: [fresh(signers, 'p01')] });
    const [s0] = packages(roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02')] }));
    roast.handle({ type: 'commitment', from: 'p03', commitments: [fresh(signers, 'p03')] });
    const good = answer(signers, 'p01', s0!.sessionId, s0!.pkg);
    const bad = answer(signers, 'p02', s0!.sessionId, s0!.pkg);
    bad.shares = good.shares; // a valid scalar, the wrong share
    // p01's answer makes it ready again: with p03, a second session starts at once (no grace).
    const [s1] = packages(roast.handle(good));
    const out = roast.handle(bad);
    expect(out.filter((a) => a.type === 'exclude')).toEqual([expect.objectContaining({ party: 'p02', code: 'invalid_signature_share' })]);
    expect(s1?.to.slice().sort()).toEqual(['p01', 'p03']);
    roast.handle(answer(signers, 'p01', s1!.sessionId, s1!.pkg));
    expect(roast.handle(answer(signers, 'p03', s1!.sessionId, s1!.pkg)).some((a) => a.type === 'completed')).toBe(true);
    expect([...roast.excluded.keys()]).toEqual(['p02']);
  });

  it('refusals by more than n − t parties reject the request, naming them', () => {
    const { signers, roast } = setup(3, 2);
    roast.handle({ type: 'commitment', from: 'p01', commitments: [fresh(signers, 'p01')] });
    const [s0] = packages(roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02')] }));
    roast.handle({ type: 'refused', from: 'p01', sessionId: s0!.sessionId, code: 'policy_approvals_missing', message: 'no' });
    const out = roast.handle({ type: 'refused', from: 'p02', sessionId: s0!.sessionId, code: 'policy_approvals_missing', message: 'no' });
    expect(out.find((a) => a.type === 'failed')).toMatchObject({ code: 'rejected' });
  });

  it('the deadline fails the request with insufficient_parties; later input changes nothing', () => {
    const { signers, roast } = setup(3, 2);
    roast.handle({ type: 'commitment', from: 'p01', commitments: [fresh(signers, 'p01')] });
    expect(roast.handle({ type: 'deadline' })).toEqual([expect.objectContaining({ type: 'failed', code: 'insufficient_parties' })]);
    expect(roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02')] })).toEqual([]);
  });

  it('never starts more than n − t + 1 sessions', () => {
    const { signers, roast } = setup(4, 3);
    const all: RoastAction[] = [];
    for (const p of ['p01', 'p02', 'p03', 'p04'])
      all.push(...roast.handle({ type: 'commitment', from: p, commitments: [fresh(signers, p)] }));
    // Every session stalls on one silent member while the others keep answering.
    for (let round = 0; round < 6; round++) {
      for (const s of packages(all.splice(0))) {
        for (const p of s.to.slice(1)) all.push(...roast.handle(answer(signers, p, s.sessionId, s.pkg)));
      }
    }
    expect(roast.sessionsStarted).toBeLessThanOrEqual(4 - 3 + 1);
    expect(roast.phase).toBe('running');
  });

  it('with a session grace, a second session waits for the grace (wake_at), then starts on tick', () => {
    const { signers, roast } = setup(3, 2, 200);
    roast.handle({ type: 'commitment', from: 'p01', commitments: [fresh(signers, 'p01')] }, 0);
    const [s0] = packages(roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02')] }, 0));
    roast.handle({ type: 'commitment', from: 'p03', commitments: [fresh(signers, 'p03')] }, 10);
    const early = roast.handle(answer(signers, 'p01', s0!.sessionId, s0!.pkg), 50);
    expect(packages(early)).toEqual([]);
    expect(early).toContainEqual({ type: 'wake_at', at: 200 });
    const [s1] = packages(roast.handle({ type: 'tick' }, 200));
    expect(s1?.to.slice().sort()).toEqual(['p01', 'p03']);
  });

  it('with a sessionHold, an open session holds back another for as long as the driver says, asked again on every input', () => {
    let holdUntil = 300;
    const asked: OpenSession[] = [];
    const { signers, roast } = setup(3, 2, 0, (s) => {
      asked.push(s);
      return holdUntil;
    });
    roast.handle({ type: 'commitment', from: 'p01', commitments: [fresh(signers, 'p01')] }, 0);
    const [s0] = packages(roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02')] }, 0));
    roast.handle({ type: 'commitment', from: 'p03', commitments: [fresh(signers, 'p03')] }, 10);
    const early = roast.handle(answer(signers, 'p01', s0!.sessionId, s0!.pkg), 50);
    expect(packages(early)).toEqual([]);
    expect(early).toContainEqual({ type: 'wake_at', at: 300 });
    // The hold sees the session and who still owes it a share.
    expect(asked.at(-1)).toEqual({ sessionId: s0!.sessionId, startedAt: 0, waiting: ['p02'] });
    // The driver learnt more (the missing signer is busy, not stalled): the hold moves on.
    holdUntil = 900;
    const moved = roast.handle({ type: 'tick' }, 300);
    expect(packages(moved)).toEqual([]);
    expect(moved).toContainEqual({ type: 'wake_at', at: 900 });
    const [s1] = packages(roast.handle({ type: 'tick' }, 900));
    expect(s1?.to.slice().sort()).toEqual(['p01', 'p03']);
  });

  it('a party whose link drops keeps its place: on reconnect it gets the package again and signs', () => {
    const { signers, roast } = setup(2, 2);
    roast.handle({ type: 'commitment', from: 'p01', commitments: [fresh(signers, 'p01')] });
    const [s0] = packages(roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02')] }));
    roast.handle(answer(signers, 'p01', s0!.sessionId, s0!.pkg));
    // The package to p02 went down a dead link; its nonce is still in its process.
    expect(roast.handle({ type: 'unavailable', party: 'p02' })).toEqual([]);
    expect(roast.partyPhase('p02')).toBe('signing');
    const [again] = packages(roast.handle({ type: 'available', party: 'p02' }));
    expect(again).toEqual({ type: 'send_package', sessionId: s0!.sessionId, to: ['p02'], pkg: s0!.pkg });
    expect(roast.handle(answer(signers, 'p02', s0!.sessionId, s0!.pkg)).some((a) => a.type === 'completed')).toBe(true);
    expect(roast.sessionsStarted).toBe(1);
  });

  it('a party that reconnects after its session was ended by someone else is released and may rejoin', () => {
    const { signers, roast } = setup(3, 2);
    roast.handle({ type: 'commitment', from: 'p01', commitments: [fresh(signers, 'p01')] });
    const [s0] = packages(roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02')] }));
    roast.handle({ type: 'unavailable', party: 'p02' });
    roast.handle({ type: 'withdrawn', from: 'p01', sessionId: s0!.sessionId }); // s0 is over
    expect(packages(roast.handle({ type: 'available', party: 'p02' }))).toEqual([]);
    expect(roast.partyPhase('p02')).toBe('idle');
    roast.handle({ type: 'commitment', from: 'p03', commitments: [fresh(signers, 'p03')] });
    const [s1] = packages(roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02')] }));
    expect(s1?.to.slice().sort()).toEqual(['p02', 'p03']);
  });

  it('a signer that withdraws (lost its nonce) leaves the session unblamed and can rejoin', () => {
    const { c, signers, roast } = setup(3, 2);
    roast.handle({ type: 'commitment', from: 'p01', commitments: [fresh(signers, 'p01')] });
    const [s0] = packages(roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02')] }));
    roast.handle({ type: 'withdrawn', from: 'p02', sessionId: s0!.sessionId });
    roast.handle(answer(signers, 'p01', s0!.sessionId, s0!.pkg));
    signers.set('p02', createSigner(c.share('p02'), rng));
    const [s1] = packages(roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02')] }));
    roast.handle(answer(signers, 'p01', s1!.sessionId, s1!.pkg));
    expect(roast.handle(answer(signers, 'p02', s1!.sessionId, s1!.pkg)).some((a) => a.type === 'completed')).toBe(true);
    expect(roast.excluded.size).toBe(0);
  });

  it('t-of-t: a withdrawal within budget gives the session back, so a restarted party still signs the request', () => {
    const { c, signers, roast } = setup(2, 2);
    roast.handle({ type: 'commitment', from: 'p01', commitments: [fresh(signers, 'p01')] });
    const [s0] = packages(roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02')] }));
    roast.handle(answer(signers, 'p01', s0!.sessionId, s0!.pkg));
    signers.set('p02', createSigner(c.share('p02'), rng)); // restarted: s0's nonce is gone
    roast.handle({ type: 'withdrawn', from: 'p02', sessionId: s0!.sessionId });
    const [s1] = packages(roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02')] }));
    expect(s1?.to.slice().sort()).toEqual(['p01', 'p02']);
    roast.handle(answer(signers, 'p01', s1!.sessionId, s1!.pkg));
    expect(roast.handle(answer(signers, 'p02', s1!.sessionId, s1!.pkg)).some((a) => a.type === 'completed')).toBe(true);
  });

  it('a second withdrawal benches the party for the request: no blame, and the others sign without it', () => {
    const { signers, roast } = setup(3, 2);
    const commit = (p: string) => roast.handle({ type: 'commitment', from: p, commitments: [fresh(signers, p)] });
    commit('p01');
    const [s0] = packages(commit('p02'));
    roast.handle({ type: 'withdrawn', from: 'p01', sessionId: s0!.sessionId });
    expect(packages(commit('p01'))).toEqual([]); // p02 still owes s0 a share
    const [s1] = packages(roast.handle(answer(signers, 'p02', s0!.sessionId, s0!.pkg)));
    expect(s1?.to).toEqual(['p01', 'p02']);
    const out = roast.handle({ type: 'withdrawn', from: 'p01', sessionId: s1!.sessionId });
    expect(
      out.filter((a) => a.type === 'exclude'),
      'a withdrawal is never blame',
    ).toEqual([]);
    expect(roast.partyPhase('p01')).toBe('benched');
    expect(commit('p01')).toEqual([]);
    commit('p03');
    const [s2] = packages(roast.handle(answer(signers, 'p02', s1!.sessionId, s1!.pkg)));
    expect(s2?.to).toEqual(['p03', 'p02']);
    roast.handle(answer(signers, 'p03', s2!.sessionId, s2!.pkg));
    expect(roast.handle(answer(signers, 'p02', s2!.sessionId, s2!.pkg)).some((a) => a.type === 'completed')).toBe(true);
    expect(roast.excluded.size).toBe(0);
  });

  it('benched parties count as gone: when fewer than t remain the request fails at once, blaming nobody', () => {
    const { signers, roast } = setup(2, 2);
    const commit = (p: string) => roast.handle({ type: 'commitment', from: p, commitments: [fresh(signers, p)] });
    commit('p01');
    const [s0] = packages(commit('p02'));
    roast.handle(answer(signers, 'p02', s0!.sessionId, s0!.pkg));
    roast.handle({ type: 'withdrawn', from: 'p01', sessionId: s0!.sessionId });
    const [s1] = packages(commit('p01'));
    roast.handle(answer(signers, 'p02', s1!.sessionId, s1!.pkg));
    const out = roast.handle({ type: 'withdrawn', from: 'p01', sessionId: s1!.sessionId });
    expect(out).toEqual([expect.objectContaining({ type: 'failed', code: 'insufficient_parties' })]);
    expect(roast.excluded.size).toBe(0);
  });
});

/**
 * ROAST against parties that never sign but never get caught either: a FIFO network where the
 * faulty parties answer at once and honest ones answer in turn. Bounded; returns how it ended.
 */
function runAgainst(n: number, t: number, faulty: readonly string[], behaviour: 'withdraw' | 'reconnect') {
  const { signers, roast } = setup(n, t);
  const queue: (() => RoastAction[])[] = [];
  const out: RoastAction[] = [];
  const play = (actions: RoastAction[]) => {
    out.push(...actions);
    for (const a of actions) {
      if (a.type !== 'send_package') continue;
      for (const p of a.to) {
        if (faulty.includes(p) && behaviour === 'withdraw') {
          // Answers at once (first in line): gives up its place, and is ready again right away.
          queue.unshift(() => [
            ...roast.handle({ type: 'withdrawn', from: p, sessionId: a.sessionId }),
            ...roast.handle({ type: 'commitment', from: p, commitments: [fresh(signers, p)] }),
          ]);
        } else if (faulty.includes(p)) {
          // Drops its link on every package and dials again, with a fresh commitment to offer.
          queue.push(() => [
            ...roast.handle({ type: 'unavailable', party: p }),
            ...roast.handle({ type: 'available', party: p }),
            ...roast.handle({ type: 'commitment', from: p, commitments: [fresh(signers, p)] }),
          ]);
        } else {
          queue.push(() => roast.handle(answer(signers, p, a.sessionId, a.pkg)));
        }
      }
    }
  };
  // The faulty parties are ready first, so they are in the first sessions.
  const order = [...faulty, ...[...signers.keys()].filter((p) => !faulty.includes(p))];
  for (const p of order) play(roast.handle({ type: 'commitment', from: p, commitments: [fresh(signers, p)] }));
  for (let steps = 0; queue.length > 0 && roast.phase === 'running'; steps++) {
    if (steps > 10_000) throw new Error('ROAST did not settle');
    play((queue.shift() as () => RoastAction[])());
  }
  return { roast, out };
}

describe('ROAST liveness against withdrawing parties (issue 10 item 3)', () => {
  // n = t + k: the k faulty parties are exactly the n − t ROAST tolerates, with 1 ≤ k ≤ t − 1.
  for (const [t, k] of [
    [2, 1],
    [3, 1],
    [3, 2],
    [4, 3],
  ] as const) {
    for (const behaviour of ['withdraw', 'reconnect'] as const) {
      const what = behaviour === 'withdraw' ? 'withdrawing from' : 'reconnecting on';
      it(`${k} part${k === 1 ? 'y' : 'ies'} ${what} every session forever cannot stop ${t} honest parties (${t}-of-${t + k})`, () => {
        const faulty = Array.from({ length: k }, (_, i) => `p${String(i + 1).padStart(2, '0')}`);
        const { roast, out } = runAgainst(t + k, t, faulty, behaviour);
        const done = out.find((a) => a.type === 'completed');
        expect(roast.phase, `${roast.sessionsStarted} sessions started`).toBe('completed');
        for (const p of faulty) expect((done as { signers: readonly string[] }).signers).not.toContain(p);
        expect(
          out.filter((a) => a.type === 'exclude'),
          'neither is blame',
        ).toEqual([]);
        expect(roast.sessionsStarted).toBeLessThanOrEqual(k + 1 + (t + k) * WITHDRAWALS_PER_PARTY);
      });
    }
  }
});

describe('ROAST with commitments parsed where they enter', () => {
  it('an invalid `next` commitment sent with a share excludes its sender (invalid_point), as an invalid share would', () => {
    const { signers, roast } = setup(3, 2);
    roast.handle({ type: 'commitment', from: 'p01', commitments: [fresh(signers, 'p01')] });
    const [s0] = packages(roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02')] }));
    const answer2 = answer(signers, 'p02', s0!.sessionId, s0!.pkg);
    const bad = { ...answer2, next: { ...(answer2.next as { hiding: string; binding: string }), binding: `01${'00'.repeat(32)}` } };
    const out = roast.handle(bad);
    expect(out.filter((a) => a.type === 'exclude')).toEqual([expect.objectContaining({ party: 'p02', code: 'invalid_point' })]);
  });

  it('a commitment that failed parsing where it entered excludes its sender (invalid_point)', () => {
    const { roast } = setup(3, 2);
    const out = roast.handle({ type: 'invalid_commitment', from: 'p03', reason: 'hiding commitment: not in the prime-order subgroup' });
    expect(out).toEqual([expect.objectContaining({ type: 'exclude', party: 'p03', code: 'invalid_point' })]);
    expect(roast.ready).toEqual([]);
  });

  it('a commitment parsed for another suite is not taken: its sender is excluded', () => {
    const { roast } = setup(3, 2);
    const other = cluster('secp256k1', 3, 2);
    const foreign = parseNonceCommitment(other.suite, createSigner(other.share('p01'), rng).commit(), 'p01');
    const out = roast.handle({ type: 'commitment', from: 'p01', commitments: [foreign] });
    expect(out).toEqual([expect.objectContaining({ type: 'exclude', party: 'p01', code: 'invalid_point' })]);
    expect(roast.ready).toEqual([]);
  });

  it('a whole request decodes no point when its commitments arrive parsed and its key is prepared', () => {
    const c = cluster('ed25519', 3, 2);
    const keys = createKeyCache();
    keys.get(c.pub);
    const signers = new Map<string, Signer>(c.names.map((p) => [p, createSigner(c.share(p), rng)]));
    const roast = createRoastCoordinator({
      key: c.pub,
      requestId: 'r1',
      intent: rawSigning(message).intent,
      sessionId: (i) => `s${i}`,
      keys,
    });
    const parsed = ['p01', 'p02'].map((p) => parseNonceCommitment(c.suite, (signers.get(p) as Signer).commit(), p));
    const share = (p: string, s: Extract<RoastAction, { type: 'send_package' }>) => ({
      type: 'share' as const,
      from: p,
      sessionId: s.sessionId,
      shares: [toHex(shareOf(signers.get(p) as Signer, s.pkg))],
      next: null,
    });
    let done: RoastAction[] = [];
    let s0: Extract<RoastAction, { type: 'send_package' }> | undefined;
    const [decodes] = countCalls([EDWARDS_DECODE], () => {
      roast.handle({ type: 'commitment', from: 'p01', commitments: [parsed[0] as (typeof parsed)[number]] });
      [s0] = packages(roast.handle({ type: 'commitment', from: 'p02', commitments: [parsed[1] as (typeof parsed)[number]] }));
    });
    // The signers' work (outside the count) decodes the package on their side.
    const answers = ['p01', 'p02'].map((p) => share(p, s0 as NonNullable<typeof s0>));
    const [more] = countCalls([EDWARDS_DECODE], () => {
      for (const a of answers) done = roast.handle(a);
    });
    expect(done.some((a) => a.type === 'completed')).toBe(true);
    expect([decodes, more]).toEqual([0, 0]);
  });
});

describe('ROAST over an intent with several messages', () => {
  it('a PSBT with two inputs is one session: two commitments and two shares per signer, two BIP-340 signatures', () => {
    const c = cluster('secp256k1-tr', 3, 2);
    const key = fromHex(c.pub.publicKey);
    const { intent } = taprootSpend(key, [40_000n, 60_000n], [{ ...p2wpkhDestination(1), amount: 90_000n }]);
    const messages = signingMessages(intent, { keyId: c.pub.keyId, suite: 'secp256k1-tr', publicKey: key });
    expect(messages).toHaveLength(2);
    const signers = new Map<string, Signer>(c.names.map((p) => [p, createSigner(c.share(p), rng)]));
    const roast = createRoastCoordinator({ key: c.pub, requestId: 'r1', intent, sessionId: (i) => `s${i}` });
    expect(roast.width).toBe(2);
    const two = (p: string) => [fresh(signers, p), fresh(signers, p)];
    roast.handle({ type: 'commitment', from: 'p01', commitments: two('p01') });
    const [s0] = packages(roast.handle({ type: 'commitment', from: 'p02', commitments: two('p02') }));
    expect(s0?.pkg.intent).toEqual(intent);
    expect(s0?.pkg.commitments.every((x) => x.more?.length === 1)).toBe(true);
    let done: RoastAction[] = [];
    for (const p of s0?.to ?? []) {
      const signed = (signers.get(p) as Signer).sign(s0?.pkg as MessageBody<'signing_package'>, messages);
      expect(signed.shares).toHaveLength(2);
      done = roast.handle({ type: 'share', from: p, sessionId: s0?.sessionId as string, shares: signed.shares.map(toHex), next: null });
    }
    const completed = done.find((a) => a.type === 'completed') as Extract<RoastAction, { type: 'completed' }>;
    expect(completed.signatures).toHaveLength(2);
    completed.signatures.forEach((sig, i) => {
      expect(libsecpVerify(sig, messages[i] as Uint8Array, key)).toBe(true);
    });
    // Each signature is bound to its own input: swapped, neither verifies.
    expect(libsecpVerify(completed.signatures[0] as Uint8Array, messages[1] as Uint8Array, key)).toBe(false);
  });

  it('a signer given one commitment for a two-message intent refuses (commitment_count_mismatch) and keeps its nonce', () => {
    const c = cluster('secp256k1-tr', 3, 2);
    const key = fromHex(c.pub.publicKey);
    const { intent } = taprootSpend(key, [40_000n, 60_000n], [{ ...p2wpkhDestination(2), amount: 90_000n }], 1);
    const messages = signingMessages(intent, { keyId: c.pub.keyId, suite: 'secp256k1-tr', publicKey: key });
    const [a, b] = [createSigner(c.share('p01'), rng), createSigner(c.share('p02'), rng)];
    const pkg: MessageBody<'signing_package'> = {
      keyId: c.pub.keyId,
      requestId: 'r1',
      intent,
      approvals: [],
      commitments: [
        { partyId: 'p01', ...a.commit() },
        { partyId: 'p02', ...b.commit(), more: [b.commit()] },
      ],
    };
    expectCode(() => a.sign(pkg, messages), 'commitment_count_mismatch');
    expect(a.pending).toBe(1);
  });

  it('a share message with one share for a two-message session blames its sender', () => {
    const c = cluster('secp256k1-tr', 3, 2);
    const key = fromHex(c.pub.publicKey);
    const { intent } = taprootSpend(key, [40_000n, 60_000n], [{ ...p2wpkhDestination(3), amount: 90_000n }], 2);
    const messages = signingMessages(intent, { keyId: c.pub.keyId, suite: 'secp256k1-tr', publicKey: key });
    const signers = new Map<string, Signer>(c.names.map((p) => [p, createSigner(c.share(p), rng)]));
    const roast = createRoastCoordinator({ key: c.pub, requestId: 'r1', intent, sessionId: (i) => `s${i}` });
    roast.handle({ type: 'commitment', from: 'p01', commitments: [fresh(signers, 'p01'), fresh(signers, 'p01')] });
    const [s0] = packages(roast.handle({ type: 'commitment', from: 'p02', commitments: [fresh(signers, 'p02'), fresh(signers, 'p02')] }));
    const signed = (signers.get('p01') as Signer).sign(s0?.pkg as MessageBody<'signing_package'>, messages);
    const out = roast.handle({
      type: 'share',
      from: 'p01',
      sessionId: s0?.sessionId as string,
      shares: [toHex(signed.shares[0] as Uint8Array)],
      next: null,
    });
    expect(out.filter((x) => x.type === 'exclude')).toEqual([expect.objectContaining({ party: 'p01', code: 'invalid_signature_share' })]);
  });
});
