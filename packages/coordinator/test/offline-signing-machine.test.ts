import { createSigner, type Signer, toHex, utf8 } from '@glacis/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../protocol/test/harness.js';
import { parseSessionId, type SessionRefOf } from '../src/orchestrator/session-id.js';
import { createSigningMachine, type SigningAction } from '../src/orchestrator/signing-machine.js';
import { requestInput, rng, sends } from './signing-machine-harness.js';
import { keyFor } from './signing-sim.js';

let key: Cluster;
beforeAll(() => {
  key = keyFor('ed25519', 3, 2);
});

describe('signing machine with an offline party', () => {
  it('party-1 down, party-3 offline: party-3’s preprocessed commitment goes into the package, its share completes the request; it is never asked to refill', () => {
    const [, p2, p3] = key.names as [string, string, string];
    const m = createSigningMachine({ epoch: 'e1', poolTarget: 4, offlineParties: [p3] });
    const signers = new Map<string, Signer>([p2, p3].map((p) => [p, createSigner(key.share(p), rng)]));
    for (const p of [p2, p3]) m.handle({ type: 'connect', party: p }, 0);
    // The vault's batch arrives before any request: pooled, nothing sent.
    const pre = (signers.get(p3) as Signer).preprocess();
    (signers.get(p3) as Signer).adopt(pre);
    expect(
      m.handle({ type: 'preprocessed', from: p3, keyId: key.pub.keyId, suite: key.pub.suite, commitments: [pre.commitment] }, 0),
    ).toEqual([]);
    const started = m.handle(requestInput(key), 1);
    expect(sends(started, 'commit_request').map((a) => a.to)).not.toContain(p3);
    const ask = sends(started, 'commit_request').find((a) => a.to === p2 && parseSessionId(a.message.sessionId)?.kind === 'commit');
    const session = parseSessionId(ask?.message.sessionId ?? '') as SessionRefOf<'commit'>;
    const out = m.handle(
      { type: 'commitments', from: p2, session, keyId: key.pub.keyId, commitments: [(signers.get(p2) as Signer).commit()] },
      2,
    );
    const packages = sends(out, 'signing_package');
    expect(packages.map((a) => a.to).sort()).toEqual([p2, p3]);
    let done: SigningAction[] = [];
    for (const a of packages) {
      if (a.message.type !== 'signing_package') continue;
      const own = a.message.body.commitments.find((c) => c.partyId === p3);
      if (a.to === p3) expect(own).toMatchObject(pre.commitment);
      const signed = (signers.get(a.to) as Signer).sign(a.message.body, [utf8('m')]);
      const ref = parseSessionId(a.message.sessionId) as SessionRefOf<'sign'>;
      done = done.concat(m.handle({ type: 'share', from: a.to, session: ref, shares: signed.shares.map(toHex), next: null }, 3));
    }
    expect(done).toContainEqual(expect.objectContaining({ type: 'settle', outcome: expect.objectContaining({ status: 'completed' }) }));
  });

  it('preprocessed commitments from a party that is not offline, or invalid ones, are discarded', () => {
    const [p1, , p3] = key.names as [string, string, string];
    const m = createSigningMachine({ epoch: 'e1', offlineParties: [p3] });
    const good = createSigner(key.share(p1), rng).commit();
    expect(m.handle({ type: 'preprocessed', from: p1, keyId: key.pub.keyId, suite: key.pub.suite, commitments: [good] }, 0)).toEqual([
      { type: 'discarded', from: p1, reason: expect.stringContaining('not offline') },
    ]);
    const bad = { hiding: 'ff'.repeat(32), binding: 'ff'.repeat(32) };
    expect(m.handle({ type: 'preprocessed', from: p3, keyId: key.pub.keyId, suite: key.pub.suite, commitments: [bad] }, 0)).toEqual([
      { type: 'discarded', from: p3, reason: expect.stringContaining('invalid commitment') },
    ]);
  });

  it('an offline party with nothing pooled is drawn for (draw_offline), never sent a commit request; the drawn commitments build the package', () => {
    const [p1, , p3] = key.names as [string, string, string];
    const m = createSigningMachine({ epoch: 'e1', poolTarget: 4, offlineParties: [p3] });
    for (const p of [p1, p3]) m.handle({ type: 'connect', party: p }, 0);
    const started = m.handle(requestInput(key, 'sig_2'), 1);
    expect(sends(started, 'commit_request').map((a) => a.to)).not.toContain(p3);
    const draws = started.filter((a) => a.type === 'draw_offline');
    expect(draws).toEqual([{ type: 'draw_offline', requestId: 'sig_2', party: p3, keyId: key.pub.keyId, suite: key.pub.suite, count: 1 }]);
    // Asked once: another input for the request does not draw again.
    expect(m.handle({ type: 'tick', requestId: 'sig_2' }, 2).filter((a) => a.type === 'draw_offline')).toEqual([]);
    const s3 = createSigner(key.share(p3), rng);
    const pre = s3.preprocess();
    const fed = m.handle({ type: 'preprocessed', from: p3, keyId: key.pub.keyId, suite: key.pub.suite, commitments: [pre.commitment] }, 3);
    expect(m.roastOf('sig_2')?.partyPhase(p3)).toBe('ready');
    expect(fed.filter((a) => a.type === 'draw_offline')).toEqual([]);
  });
});
