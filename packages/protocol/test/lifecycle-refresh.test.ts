/**
 * Share refresh (src/lifecycle/refresh.ts) under the sans-IO relay: every share replaced, the
 * group key unchanged, the new shares live only with a full certificate; every cheat named, a
 * dropout or a mixed-up relay changes nothing.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  createRefreshParticipant,
  type Envelope,
  fromHex,
  getSuite,
  type KeyShare,
  keyPackageHash,
  type MessageBody,
  makeKeyShare,
  type PendingSuccessor,
  SUITE_IDS,
  sealBox,
  toHex,
  utf8,
  verifyLifecycleCertificate,
} from '../src/index.js';
import { type Cluster, cluster, expectCode, expectError, resign, session } from './harness.js';
import {
  activateAll,
  expectClean,
  expectOnlyWrongSession,
  expectSignsUnder,
  freshBody,
  mixingIn,
  refreshMachines,
  runRefresh,
  sealAs,
  withFreshGuards,
  withShares,
} from './lifecycle-harness.js';
import { runSession } from './lifecycle-sim.js';
import { rng, type SimWorld } from './sim.js';

// Each test runs DKGs and lifecycle sessions on a machine shared with other work: no tight limits.
vi.setConfig({ testTimeout: 60_000 });

const pendingOf = (run: { results: Map<string, PendingSuccessor> }) => run.results;

/** A refreshed cluster: the run, and the activated shares. */
function refreshed(c: Cluster) {
  const run = runRefresh(c);
  expectClean(run);
  const shares = activateAll(pendingOf(run), c.pub, run.toCoordinator, c.world.keyOf);
  return { run, shares, next: withShares(c, shares) };
}

describe('refresh: every share replaced, same key', () => {
  for (const id of SUITE_IDS) {
    it(`${id}: 3-of-4 → new shares sign under the original public key`, () => {
      const c = cluster(id, 4, 3);
      const { run, shares, next } = refreshed(c);
      expect(run.toCoordinator.map((e) => e.type)).toEqual(Array(4).fill('lifecycle_confirm'));
      expect(next.pub.publicKey).toBe(c.pub.publicKey);
      expect(next.pub.groupCommitment[0]).toBe(c.pub.groupCommitment[0]);
      for (const n of c.names) {
        expect(next.pub.verifyingShares[n]).not.toBe(c.pub.verifyingShares[n]);
        expect(toHex((shares.get(n) as KeyShare).frostSecret.signingShare)).not.toBe(toHex(c.share(n).frostSecret.signingShare));
        // The new share passes noble's own VSS check against the new package.
        makeKeyShare(next.pub, n, (shares.get(n) as KeyShare).frostSecret.signingShare);
      }
      expectSignsUnder(next, ['p01', 'p03', 'p04'], c.pub.publicKey);
      expectSignsUnder(next, ['p02', 'p03', 'p04'], c.pub.publicKey);
    });
  }

  it('old and new shares do not mix: an old share in a session of the new key is named', () => {
    const c = cluster('ed25519', 3, 2);
    const { shares, next } = refreshed(c);
    const mixed = withShares(next, new Map([...shares, ['p02', c.share('p02')]]));
    const s = session({ ...mixed, pub: next.pub }, ['p01', 'p02'], utf8('mix'));
    for (const [n, h] of s.shares) s.addShare(n, h);
    expectCode(() => s.finish(), 'invalid_signature_share', ['p02']);
  });

  it('the old shares keep signing until the switch (pending shares are not live)', () => {
    const c = cluster('secp256k1-tr', 3, 2);
    const run = runRefresh(c);
    expectClean(run);
    expectSignsUnder(c, ['p01', 'p02'], c.pub.publicKey);
    const pending = run.results.get('p01') as PendingSuccessor;
    expect(JSON.stringify(pending)).not.toContain(toHex(pending.share.frostSecret.signingShare));
  });

  it('secp256k1-tr: a refresh keeps the tweaked x-only key and tweaks nothing again', () => {
    const c = cluster('secp256k1-tr', 3, 2);
    const { next } = refreshed(c);
    expect(next.pub.publicKey).toHaveLength(64);
    expect(next.pub.publicKey).toBe(c.pub.publicKey);
    expectSignsUnder(next, ['p01', 'p03'], c.pub.publicKey);
    // A second refresh on top of the first: still the same key.
    const again = refreshed(next);
    expectSignsUnder(again.next, ['p02', 'p03'], c.pub.publicKey);
  });
});

describe('refresh: cheaters are named', () => {
  it('a member that tries to move the group key (a constant term in round 1) → lifecycle_invalid_commitment naming it', () => {
    const c = cluster('ed25519', 3, 2);
    const run = runRefresh(c, {
      tamper: (env) => {
        if (env.type !== 'refresh_round1' || env.from !== 'p02') return env;
        const body = env.body as MessageBody<'refresh_round1'>;
        const shift = toHex(c.suite.Point.BASE.toBytes());
        return sealAs(c.world, 'p02', env, { ...body, commitment: [shift, ...body.commitment] });
      },
    });
    expect(run.results.size).toBe(0);
    for (const p of ['p01', 'p03']) expectError(run.errors.get(p), 'lifecycle_invalid_commitment', ['p02']);
  });

  it('a dealt share that does not match its commitment → lifecycle_invalid_share naming the dealer', () => {
    for (const id of SUITE_IDS) {
      const c = cluster(id, 3, 2);
      const run = runRefresh(c, {
        tamper: (env, to) => {
          if (env.type !== 'refresh_round2' || env.from !== 'p02' || to !== 'p01') return env;
          const body = env.body as MessageBody<'refresh_round2'>;
          const box = sealBox(c.suite.frost.utils.randomScalar(rng), c.world.keyOf('p01') as Uint8Array, ctx(c, env, 'p01'), rng);
          return sealAs(c.world, 'p02', env, { ...body, box: wireBox(box) });
        },
      });
      expectError(run.errors.get('p01'), 'lifecycle_invalid_share', ['p02']);
      expect(run.results.has('p01')).toBe(false);
      // Without p01's confirmation there is no certificate: nobody can switch.
      expect(() => activateAll(pendingOf(run), c.pub, run.toCoordinator, c.world.keyOf)).toThrow();
      expectSignsUnder(c, ['p01', 'p02'], c.pub.publicKey);
    }
  });

  it('a box that does not open → decryption_failed naming its sender', () => {
    const c = cluster('ed25519', 3, 2);
    const run = runRefresh(c, {
      tamper: (env, to) => {
        if (env.type !== 'refresh_round2' || env.from !== 'p03' || to !== 'p02') return env;
        const body = env.body as MessageBody<'refresh_round2'>;
        const ct = fromHex(body.box.ciphertext);
        ct[1] = (ct[1] as number) ^ 0x40;
        return sealAs(c.world, 'p03', env, { ...body, box: { ...body.box, ciphertext: toHex(ct) } });
      },
    });
    expectError(run.errors.get('p02'), 'decryption_failed', ['p03']);
  });

  it('two different signed round-1 packages → lifecycle_equivocation naming the sender', () => {
    const c = cluster('p256', 3, 2);
    const other = otherRound1(c, 'p02');
    const run = runRefresh(c, {
      tamper: (env, to) =>
        env.type === 'refresh_round1' && env.from === 'p02' && to === 'p01' ? [env, sealAs(c.world, 'p02', env, other)] : env,
    });
    expectError(run.errors.get('p01'), 'lifecycle_equivocation', ['p02']);
  });

  it('two different signed round-2 packages for one recipient → lifecycle_equivocation naming the sender', () => {
    const c = cluster('ed25519', 4, 2);
    const run = runRefresh(c, {
      tamper: (env, to) => {
        if (env.type !== 'refresh_round2' || to !== 'p01') return env;
        if (env.from === 'p04') return null; // keep p01 collecting
        if (env.from !== 'p02') return env;
        const box = sealBox(c.suite.frost.utils.randomScalar(rng), c.world.keyOf('p01') as Uint8Array, ctx(c, env, 'p01'), rng);
        return [env, sealAs(c.world, 'p02', env, { ...(env.body as MessageBody<'refresh_round2'>), box: wireBox(box) })];
      },
    });
    expectError(run.errors.get('p01'), 'lifecycle_equivocation', ['p02']);
  });

  it('a round 1 sent to one member only (not a broadcast) → lifecycle_unexpected_message naming the sender', () => {
    const c = cluster('ed25519', 3, 2);
    const run = runRefresh(c, {
      tamper: (env, to) =>
        env.type === 'refresh_round1' && env.from === 'p03' && to === 'p01' ? sealAs(c.world, 'p03', { ...env, to: 'p01' }, env.body) : env,
    });
    expectError(run.errors.get('p01'), 'lifecycle_unexpected_message', ['p03']);
  });

  it('a relay that shows one member another (validly signed) round 1 → lifecycle_transcript_mismatch, nobody named', () => {
    const c = cluster('ed25519', 3, 2);
    const other = otherRound1(c, 'p02');
    const run = runRefresh(c, {
      tamper: (env, to) => (env.type === 'refresh_round1' && env.from === 'p02' && to === 'p03' ? sealAs(c.world, 'p02', env, other) : env),
    });
    expect(run.results.size).toBe(0);
    const mismatches = [...run.errors.values()].filter((e) => e.code === 'lifecycle_transcript_mismatch');
    expect(mismatches.length).toBeGreaterThan(0);
    for (const e of mismatches) expect(e.culprits).toEqual([]);
  });
});

describe('refresh: failures change nothing', () => {
  it('a member that drops out after round 1: nobody derives a successor; the old key signs on', () => {
    const c = cluster('ed25519', 4, 3);
    const run = runRefresh(c, { tamper: (env) => (env.type === 'refresh_round2' && env.from === 'p04' ? null : env) });
    expect(run.errors.size).toBe(0);
    expect(['p01', 'p02', 'p03'].filter((n) => run.results.has(n))).toEqual([]);
    expect(run.toCoordinator.filter((e) => e.from !== 'p04')).toEqual([]);
    expectSignsUnder(c, ['p01', 'p02', 'p04'], c.pub.publicKey);
  });

  it('a member silent from the start: nobody leaves round 1', () => {
    const c = cluster('secp256k1', 3, 2);
    const run = runRefresh(c, { silent: ['p03'] });
    expect(run.results.size).toBe(0);
    expect(run.errors.size).toBe(0);
    expect(run.toCoordinator).toEqual([]);
    expect((run as unknown as { log: Envelope[] }).log.some((e) => e.type === 'refresh_round2')).toBe(false);
  });

  it('a member that drops out before confirming: the others’ pending shares cannot be activated', () => {
    const c = cluster('secp256k1', 3, 2);
    const run = runRefresh(c);
    const partial = run.toCoordinator.filter((e) => e.from !== 'p03');
    for (const n of ['p01', 'p02']) {
      expectCode(
        () => activateAll(new Map([[n, run.results.get(n) as PendingSuccessor]]), c.pub, partial, c.world.keyOf),
        'lifecycle_confirmation_mismatch',
      );
    }
    expectSignsUnder(c, ['p01', 'p02'], c.pub.publicKey);
  });

  it('a machine that failed on early input sends nothing when started', () => {
    const c = cluster('ed25519', 3, 2);
    const m = refreshMachines(c).get('p01');
    const bad = c.world.parties.get('p02')?.sealer.seal({
      type: 'refresh_round1',
      sessionId: 'refresh-1',
      to: '*',
      body: { keyId: c.pub.keyId, commitment: ['ab'.repeat(32), 'ab'.repeat(32)] },
    }) as Envelope;
    expectError(m?.receive(c.world.open('p01', bad)).error, 'lifecycle_invalid_commitment', ['p02']);
    expect(m?.start()).toEqual({ outgoing: [] });
    expect(m?.phase).toBe('failed');
  });

  it('a failed member aborts: a lifecycle_abort ends every other member’s session', () => {
    const c = cluster('ed25519', 3, 2);
    const machines = refreshMachines(c);
    const p01 = machines.get('p01');
    p01?.start();
    const abort = c.world.parties.get('p02')?.sealer.seal({
      type: 'lifecycle_abort',
      sessionId: 'refresh-1',
      to: '*',
      body: { keyId: c.pub.keyId, operation: 'refresh', code: 'lifecycle_invalid_share', message: 'bad share', culprits: ['p03'] },
    }) as Envelope;
    const step = p01?.receive(c.world.open('p01', abort));
    expectError(step?.error, 'lifecycle_failed', ['p03']);
    expect(p01?.phase).toBe('failed');
  });
});

describe('refresh: a coordinator that mixes sessions', () => {
  it('messages of session A fed to session B are refused (wrong_session) and B completes as if they never came', () => {
    const c = cluster('ed25519', 3, 2);
    // Session A ran through another relay: B's transport has not seen its envelopes.
    const a = runRefresh(c, { sessionId: 'refresh-A', world: withFreshGuards(c.world) });
    expectClean(a);
    const b = runSession(c.world, refreshMachines(c, { sessionId: 'refresh-B' }), { tamper: mixingIn(a.log) });
    expectOnlyWrongSession(b);
    const shares = activateAll(pendingOf(b), c.pub, b.toCoordinator, c.world.keyOf);
    expectSignsUnder(withShares(c, shares), ['p01', 'p02'], c.pub.publicKey);
    // A's certificate does not activate B's successors, nor the other way round.
    expectCode(() => activateAll(pendingOf(b), c.pub, a.toCoordinator, c.world.keyOf), 'lifecycle_confirmation_mismatch');
  });

  it('a box of session A re-sealed by its own sender into session B does not open there (decryption_failed)', () => {
    const c = cluster('ed25519', 3, 2);
    const a = runRefresh(c, { sessionId: 'refresh-A' });
    const boxA = (a.log.find((e) => e.type === 'refresh_round2' && e.from === 'p02' && e.to === 'p01') as Envelope)
      .body as MessageBody<'refresh_round2'>;
    const b = runSession(c.world, refreshMachines(c, { sessionId: 'refresh-B' }), {
      tamper: (env, to) => {
        if (env.type !== 'refresh_round2' || env.from !== 'p02' || to !== 'p01') return env;
        return sealAs(c.world, 'p02', env, { ...(env.body as MessageBody<'refresh_round2'>), box: boxA.box });
      },
    });
    expectError(b.errors.get('p01'), 'decryption_failed', ['p02']);
  });
});

describe('refresh certificate', () => {
  const c = cluster('ed25519', 3, 2);
  const run = runRefresh(c);
  const confirmations = run.toCoordinator;
  const exp = {
    predecessor: c.pub,
    operation: 'refresh' as const,
    sessionId: 'refresh-1',
    committee: c.names,
    threshold: 2,
    keyOf: c.world.keyOf,
  };

  it('accepts the run’s confirmations, in any order, and yields every member’s successor package', () => {
    const pkg = verifyLifecycleCertificate(confirmations, exp);
    expect(verifyLifecycleCertificate([...confirmations].reverse(), exp)).toEqual(pkg);
    for (const n of c.names) expect((run.results.get(n) as PendingSuccessor).public).toEqual(pkg);
    expect(((confirmations[0] as Envelope).body as MessageBody<'lifecycle_confirm'>).predecessor).toBe(keyPackageHash(c.pub));
  });

  it('rejects a missing confirmation, another session, another predecessor, another committee', () => {
    expectCode(() => verifyLifecycleCertificate(confirmations.slice(1), exp), 'lifecycle_confirmation_mismatch');
    expectCode(() => verifyLifecycleCertificate(confirmations, { ...exp, sessionId: 'refresh-2' }), 'lifecycle_confirmation_mismatch', []);
    const { next } = refreshed(c);
    expectCode(() => verifyLifecycleCertificate(confirmations, { ...exp, predecessor: next.pub }), 'lifecycle_confirmation_mismatch');
    expectCode(() => verifyLifecycleCertificate(confirmations, { ...exp, threshold: 3 }), 'lifecycle_confirmation_mismatch');
  });

  it('a DKG certificate presented as the refresh certificate is refused, and nobody is blamed for it', () => {
    expectCode(() => verifyLifecycleCertificate(c.run.confirmations, exp), 'lifecycle_confirmation_mismatch', []);
  });

  it('a member that signs two different confirmations is named; a duplicated one is not', () => {
    const first = confirmations[0] as Envelope;
    expectCode(() => verifyLifecycleCertificate([...confirmations, first], exp), 'lifecycle_confirmation_mismatch', []);
    const body = first.body as MessageBody<'lifecycle_confirm'>;
    const other = resign(
      { ...first, seq: first.seq + 1, body: { ...body, transcriptHash: '00'.repeat(32) } },
      identityOf(c.world, first.from),
    );
    expectCode(() => verifyLifecycleCertificate([...confirmations, other], exp), 'lifecycle_confirmation_mismatch', [first.from]);
  });

  it('confirmations that agree on a successor with another group key are refused', () => {
    const suite = getSuite('ed25519');
    const forged = confirmations.map((env) => {
      const body = env.body as MessageBody<'lifecycle_confirm'>;
      const moved = toHex(
        suite.Point.fromBytes(fromHex(body.groupCommitment[0] as string))
          .add(suite.Point.BASE)
          .toBytes(),
      );
      return resign(
        { ...env, body: { ...body, publicKey: moved, groupCommitment: [moved, ...body.groupCommitment.slice(1)] } },
        identityOf(c.world, env.from),
      );
    });
    expectCode(() => verifyLifecycleCertificate(forged, exp), 'lifecycle_confirmation_mismatch');
  });

  it('an altered verifying share is caught even when every member signed it', () => {
    const forged = confirmations.map((env) => {
      const body = env.body as MessageBody<'lifecycle_confirm'>;
      return resign(
        { ...env, body: { ...body, verifyingShares: { ...body.verifyingShares, p02: body.verifyingShares.p01 as string } } },
        identityOf(c.world, env.from),
      );
    });
    expectCode(() => verifyLifecycleCertificate(forged, exp), 'lifecycle_confirmation_mismatch');
  });
});

describe('refresh: parameters', () => {
  it('a session started twice, or a message from outside the committee: refused, state unchanged', () => {
    const c = cluster('ed25519', 3, 2);
    const m = createRefreshParticipant({
      share: c.share('p01'),
      sessionId: 's',
      identity: identityOf(c.world, 'p01'),
      peerKey: c.world.keyOf,
      rng,
    });
    m.start();
    expectCode(() => m.start(), 'lifecycle_unexpected_message');
    const stranger = c.world.coordinator.sealer.seal({
      type: 'refresh_round1',
      sessionId: 's',
      to: '*',
      body: { keyId: c.pub.keyId, commitment: [] },
    });
    expectCode(() => m.receive(c.world.open('p01', stranger)), 'invalid_message');
    const stranger2 = c.world.coordinator.sealer.seal({
      type: 'refresh_round1',
      sessionId: 's',
      to: '*',
      body: { keyId: c.pub.keyId, commitment: [toHex(c.suite.Point.BASE.toBytes())] },
    });
    expectCode(() => m.receive(c.world.open('p01', stranger2)), 'not_in_committee');
    expect(m.phase).toBe('round1');
  });

  it('a message of this session for another key (a coordinator reusing session ids) → wrong_key, state unchanged', () => {
    const c = cluster('ed25519', 3, 2);
    const machines = refreshMachines(c);
    const m = machines.get('p01');
    m?.start();
    const round1 = freshBody(refreshMachines(c), 'p02', 'refresh_round1');
    const env = c.world.parties
      .get('p02')
      ?.sealer.seal({ type: 'refresh_round1', sessionId: 'refresh-1', to: '*', body: { ...round1, keyId: 'other-key' } }) as Envelope;
    expectCode(() => m?.receive(c.world.open('p01', env)), 'wrong_key');
    expect(m?.phase).toBe('round1');
  });

  it('a message of another type in a refresh session → lifecycle_unexpected_message naming the sender', () => {
    const c = cluster('ed25519', 3, 2);
    const machines = refreshMachines(c);
    const m = machines.get('p01');
    m?.start();
    const wrong = c.world.parties.get('p02')?.sealer.seal({
      type: 'drill_request',
      sessionId: 'refresh-1',
      to: 'p01',
      body: { keyId: c.pub.keyId, drillId: 'd', nonce: '00'.repeat(32) },
    }) as Envelope;
    expectError(m?.receive(c.world.open('p01', wrong)).error, 'lifecycle_unexpected_message', ['p02']);
  });
});

/** Another valid refresh round 1 of `name` (what an equivocator signs second). */
function otherRound1(c: Cluster, name: string): MessageBody<'refresh_round1'> {
  return freshBody(refreshMachines(c), name, 'refresh_round1');
}

/** The box context of `env` for `to`, as the machines bind it. */
const ctx = (c: Cluster, env: Envelope, to: string) => ({
  suite: c.suite.id,
  sessionId: env.sessionId,
  round: env.type,
  from: env.from,
  to,
});

function wireBox(b: { epk: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array }) {
  return { epk: toHex(b.epk), nonce: toHex(b.nonce), ciphertext: toHex(b.ciphertext) };
}

function identityOf(world: SimWorld, name: string) {
  const p = world.parties.get(name);
  if (!p) throw new Error(`no party ${name}`);
  return p.identity;
}
