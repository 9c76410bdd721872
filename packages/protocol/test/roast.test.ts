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
  type MessageBody,
  ProtocolError,
  parseNonceCommitment,
  type RoastAction,
  type Signer,
  toHex,
  utf8,
} from '../src/index.js';
import { countCalls, EDWARDS_DECODE } from './call-counts.js';
import { type Cluster, cluster } from './harness.js';
import { rng } from './sim.js';

const message = utf8('roast me');

function setup(n: number, t: number, sessionGraceMs = 0) {
  const c: Cluster = cluster('secp256k1-tr', n, t);
  const signers = new Map<string, Signer>(c.names.map((p) => [p, createSigner(c.share(p), rng)]));
  const roast = createRoastCoordinator({ key: c.pub, requestId: 'r1', message, sessionId: (i) => `s${i}`, sessionGraceMs });
  /** `p`'s fresh commitment, parsed as the driver parses it where it enters. */
  const commit = (p: string) =>
    ({ type: 'commitment', from: p, commitment: parseNonceCommitment(c.suite, (signers.get(p) as Signer).commit(), p) }) as const;
  return { c, signers, roast, commit };
}

const packages = (actions: RoastAction[]) =>
  actions.filter((a): a is Extract<RoastAction, { type: 'send_package' }> => a.type === 'send_package');

/** The signer's honest answer: its share and a fresh commitment. */
function answer(signers: Map<string, Signer>, p: string, sessionId: string, pkg: MessageBody<'signing_package'>) {
  const s = signers.get(p) as Signer;
  return { type: 'share' as const, from: p, sessionId, share: toHex(s.sign(pkg).share), next: s.commit() };
}

describe('ROAST coordinator', () => {
  it('starts a session as soon as t parties are ready and completes on valid shares', () => {
    const { c, signers, roast, commit } = setup(3, 2);
    expect(roast.handle(commit('p01'))).toEqual([]);
    const [start] = packages(roast.handle(commit('p03')));
    expect(start?.to).toEqual(['p01', 'p03']);
    roast.handle(answer(signers, 'p01', start!.sessionId, start!.pkg));
    const done = roast.handle(answer(signers, 'p03', start!.sessionId, start!.pkg));
    const completed = done.find((a) => a.type === 'completed');
    expect(completed).toMatchObject({ type: 'completed', signers: ['p01', 'p03'] });
    expect(c.suite.verify((completed as { signature: Uint8Array }).signature, message, fromHex(c.pub.publicKey))).toBe(true);
    expect(roast.phase).toBe('completed');
  });

  it('a silent signer stalls only its session: the others, ready again, sign without it and nobody is blamed', () => {
    const { signers, roast, commit } = setup(4, 2);
    const a1 = roast.handle(commit('p01'));
    const [s0] = packages([...a1, ...roast.handle(commit('p02'))]);
    expect(s0?.to).toEqual(['p01', 'p02']);
    roast.handle(commit('p03'));
    // p02 never answers s0; p01 does, and with p03 ready a second session starts.
    const [s1] = packages(roast.handle(answer(signers, 'p01', s0!.sessionId, s0!.pkg)));
    expect(s1?.to.slice().sort()).toEqual(['p01', 'p03']);
    roast.handle(answer(signers, 'p03', s1!.sessionId, s1!.pkg));
    const done = roast.handle(answer(signers, 'p01', s1!.sessionId, s1!.pkg));
    expect(done.some((a) => a.type === 'completed')).toBe(true);
    expect([...roast.excluded.keys()]).toEqual([]);
  });

  it('an invalid share excludes exactly its sender; the request completes with honest parties', () => {
    const { signers, roast, commit } = setup(3, 2);
    roast.handle(commit('p01'));
    const [s0] = packages(roast.handle(commit('p02')));
    roast.handle(commit('p03'));
    const good = answer(signers, 'p01', s0!.sessionId, s0!.pkg);
    const bad = answer(signers, 'p02', s0!.sessionId, s0!.pkg);
    bad.share = good.share; // a valid scalar, the wrong share
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
    const { roast, commit } = setup(3, 2);
    roast.handle(commit('p01'));
    const [s0] = packages(roast.handle(commit('p02')));
    roast.handle({ type: 'refused', from: 'p01', sessionId: s0!.sessionId, code: 'policy_approvals_missing', message: 'no' });
    const out = roast.handle({ type: 'refused', from: 'p02', sessionId: s0!.sessionId, code: 'policy_approvals_missing', message: 'no' });
    expect(out.find((a) => a.type === 'failed')).toMatchObject({ code: 'rejected' });
  });

  it('the deadline fails the request with insufficient_parties; later input changes nothing', () => {
    const { roast, commit } = setup(3, 2);
    roast.handle(commit('p01'));
    expect(roast.handle({ type: 'deadline' })).toEqual([expect.objectContaining({ type: 'failed', code: 'insufficient_parties' })]);
    expect(roast.handle(commit('p02'))).toEqual([]);
  });

  it('never starts more than n − t + 1 sessions', () => {
    const { signers, roast, commit } = setup(4, 3);
    const all: RoastAction[] = [];
    for (const p of ['p01', 'p02', 'p03', 'p04']) all.push(...roast.handle(commit(p)));
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
    const { signers, roast, commit } = setup(3, 2, 200);
    roast.handle(commit('p01'), 0);
    const [s0] = packages(roast.handle(commit('p02'), 0));
    roast.handle(commit('p03'), 10);
    const early = roast.handle(answer(signers, 'p01', s0!.sessionId, s0!.pkg), 50);
    expect(packages(early)).toEqual([]);
    expect(early).toContainEqual({ type: 'wake_at', at: 200 });
    const [s1] = packages(roast.handle({ type: 'tick' }, 200));
    expect(s1?.to.slice().sort()).toEqual(['p01', 'p03']);
  });

  it('a party that disconnects is released from its session without blame and may rejoin', () => {
    const { c, signers, roast, commit } = setup(3, 2);
    roast.handle(commit('p01'));
    const [s0] = packages(roast.handle(commit('p02')));
    roast.handle({ type: 'unavailable', party: 'p02' });
    expect(packages(roast.handle(answer(signers, 'p01', s0!.sessionId, s0!.pkg)))).toEqual([]);
    // p02 restarts (its old nonces are gone) and comes back with a fresh commitment.
    signers.set('p02', createSigner(c.share('p02'), rng));
    const [s1] = packages(roast.handle(commit('p02')));
    expect(s1?.to.slice().sort()).toEqual(['p01', 'p02']);
    roast.handle(answer(signers, 'p01', s1!.sessionId, s1!.pkg));
    expect(roast.handle(answer(signers, 'p02', s1!.sessionId, s1!.pkg)).some((a) => a.type === 'completed')).toBe(true);
    expect(roast.excluded.size).toBe(0);
  });

  it('a signer that withdraws (lost its nonce) leaves the session unblamed and can rejoin', () => {
    const { c, signers, roast, commit } = setup(3, 2);
    roast.handle(commit('p01'));
    const [s0] = packages(roast.handle(commit('p02')));
    roast.handle({ type: 'withdrawn', from: 'p02', sessionId: s0!.sessionId });
    roast.handle(answer(signers, 'p01', s0!.sessionId, s0!.pkg));
    signers.set('p02', createSigner(c.share('p02'), rng));
    const [s1] = packages(roast.handle(commit('p02')));
    roast.handle(answer(signers, 'p01', s1!.sessionId, s1!.pkg));
    expect(roast.handle(answer(signers, 'p02', s1!.sessionId, s1!.pkg)).some((a) => a.type === 'completed')).toBe(true);
    expect(roast.excluded.size).toBe(0);
  });

  it('an invalid `next` commitment sent with a share excludes its sender (invalid_point), as an invalid share would', () => {
    const { signers, roast, commit } = setup(3, 2);
    roast.handle(commit('p01'));
    const [s0] = packages(roast.handle(commit('p02')));
    const answer2 = answer(signers, 'p02', s0!.sessionId, s0!.pkg);
    const bad = { ...answer2, next: { ...(answer2.next as { hiding: string; binding: string }), binding: `01${'00'.repeat(32)}` } };
    const out = roast.handle(bad);
    expect(out.filter((a) => a.type === 'exclude')).toEqual([expect.objectContaining({ party: 'p02', code: 'invalid_point' })]);
  });

  it('a commitment that failed parsing where it entered excludes its sender with the parse error’s code', () => {
    const { roast } = setup(3, 2);
    const error = new ProtocolError('invalid_point', 'hiding commitment: not in the prime-order subgroup', ['p03']);
    const out = roast.handle({ type: 'invalid_commitment', from: 'p03', error });
    expect(out).toEqual([expect.objectContaining({ type: 'exclude', party: 'p03', code: 'invalid_point' })]);
    expect(roast.ready).toEqual([]);
  });

  it('a commitment parsed for another suite is not taken (wrong_suite)', () => {
    const { roast } = setup(3, 2);
    const other = cluster('secp256k1', 3, 2);
    const foreign = parseNonceCommitment(other.suite, createSigner(other.share('p01'), rng).commit(), 'p01');
    const out = roast.handle({ type: 'commitment', from: 'p01', commitment: foreign });
    expect(out).toEqual([expect.objectContaining({ type: 'exclude', party: 'p01', code: 'wrong_suite' })]);
  });

  it('a whole request decodes no point when its commitments arrive parsed and its key is prepared', () => {
    const c = cluster('ed25519', 3, 2);
    const keys = createKeyCache();
    keys.get(c.pub);
    const signers = new Map<string, Signer>(c.names.map((p) => [p, createSigner(c.share(p), rng)]));
    const roast = createRoastCoordinator({ key: c.pub, requestId: 'r1', message, sessionId: (i) => `s${i}`, keys });
    const parsed = ['p01', 'p02'].map((p) => parseNonceCommitment(c.suite, (signers.get(p) as Signer).commit(), p));
    const share = (p: string, s: Extract<RoastAction, { type: 'send_package' }>) => ({
      type: 'share' as const,
      from: p,
      sessionId: s.sessionId,
      share: toHex((signers.get(p) as Signer).sign(s.pkg).share),
      next: null,
    });
    let done: RoastAction[] = [];
    let s0: Extract<RoastAction, { type: 'send_package' }> | undefined;
    const [decodes] = countCalls([EDWARDS_DECODE], () => {
      roast.handle({ type: 'commitment', from: 'p01', commitment: parsed[0] as (typeof parsed)[number] });
      [s0] = packages(roast.handle({ type: 'commitment', from: 'p02', commitment: parsed[1] as (typeof parsed)[number] }));
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
