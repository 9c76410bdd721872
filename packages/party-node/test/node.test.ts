/**
 * The party node's logic with a fake coordinator link and a virtual clock: what a hostile
 * coordinator can and cannot make a party do with its DKG sessions and its approvals. The
 * coordinator here is the test, holding the coordinator's own identity key.
 */
import { createSigner, type MessageBody, type Outgoing, toHex, utf8 } from '@glacis/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { makeApprover } from '../../../test/support/approvals.js';
import { type Harness, nextSent, only, rng, startHarness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const start = (keyId: string, sessionId = `dkg-${keyId}`): Outgoing => ({
  type: 'dkg_start',
  sessionId,
  to: 'p1',
  body: { keyId, suite: 'ed25519', threshold: 2, committee: ['p1', 'p2', 'p3'] },
});
const abort = (keyId: string, sessionId = `dkg-${keyId}`): Outgoing & { type: 'dkg_abort' } => ({
  type: 'dkg_abort',
  sessionId,
  to: 'p1',
  body: { keyId, code: 'dkg_timeout', message: 'the coordinator gave up', culprits: [] },
});

describe('DKG sessions on a party', () => {
  it('a key id claimed by a running session is refused to a second session (dkg_key_reserved); the first runs on', async () => {
    h = await startHarness();
    h.deliver(start('k1'));
    expect(only(h.take(), 'dkg_round1')).toBeDefined();
    h.deliver(start('k1', 'evil'));
    const [refusal] = h.take();
    expect(refusal).toMatchObject({ type: 'dkg_abort', sessionId: 'evil', body: { keyId: 'k1', code: 'dkg_key_reserved', culprits: [] } });
    expect(h.liveSessions()).toEqual(['dkg-k1']);
  });

  it("a session still open at the party's own deadline is abandoned: dkg_timeout, and its late messages are ignored", async () => {
    h = await startHarness({ deadlineMs: 60_000 });
    h.deliver(start('k1'));
    h.take();
    h.clock.advance(59_999);
    expect(h.take()).toEqual([]);
    h.clock.advance(1);
    expect(only(h.take(), 'dkg_abort')).toMatchObject({ keyId: 'k1', code: 'dkg_timeout' });
    expect(h.liveSessions()).toEqual([]);
    // A late round 1 for it gets no answer (a running session would abort on this one).
    const late: Outgoing = {
      type: 'dkg_round1',
      sessionId: 'dkg-k1',
      to: '*',
      body: { paramsHash: '00'.repeat(32), commitment: ['00'], proofOfKnowledge: '00' },
    };
    h.deliver(late, 'p2');
    expect(h.take()).toEqual([]);
  });

  it("the coordinator's dkg_abort ends the session it names, and nothing else", async () => {
    h = await startHarness();
    h.deliver(start('k1'));
    h.deliver(start('k2'));
    h.take();
    h.deliver(abort('k2', 'dkg-k1')); // names another key than its session: ignored
    expect(h.liveSessions().sort()).toEqual(['dkg-k1', 'dkg-k2']);
    h.deliver(abort('k1'));
    expect(h.liveSessions()).toEqual(['dkg-k2']);
    expect(h.take()).toEqual([]);
    // A peer cannot abort a session for the coordinator, nor blame anyone in it by its word.
    h.deliver({ ...abort('k2'), to: 'p1', body: { ...abort('k2').body, culprits: ['p3'] } }, 'p2');
    expect(only(h.take(), 'dkg_abort')).toMatchObject({ keyId: 'k2', code: 'dkg_failed', culprits: [] });
  });

  it('a dkg_start replayed after a restart is refused (replayed_message) and starts nothing', async () => {
    h = await startHarness();
    const env = h.deliver(start('k1'));
    h.take();
    await h.restart();
    h.take(); // the key_sync every connection starts with
    h.deliverEnvelope(env);
    expect(h.take()).toEqual([expect.objectContaining({ type: 'dkg_abort', body: expect.objectContaining({ code: 'replayed_message' }) })]);
    expect(h.liveSessions()).toEqual([]);
    // Nor a new session for the same key id.
    h.deliver(start('k1', 'dkg-k1-again'));
    expect(only(h.take(), 'dkg_abort')).toMatchObject({ code: 'dkg_key_reserved' });
  });

  it('a stored share is never deleted: an abort after the DKG marks it failed, its certificate still activates it', async () => {
    h = await startHarness();
    const { sessionId, confirmations } = await h.dkg('k1');
    expect(h.keystore().get('k1')?.status).toBe('pending');
    await h.restart();
    h.deliver(abort('k1')); // what key_sync gets for a key the coordinator says failed
    expect(h.keystore().get('k1')?.status).toBe('failed');
    h.deliver({ type: 'dkg_complete', sessionId, to: 'p1', body: { keyId: 'k1', confirmations } });
    expect(h.keystore().get('k1')?.status).toBe('active');
    h.deliver(abort('k1'));
    h.deliver(start('k1', 'dkg-k1-bis'));
    expect(h.keystore().get('k1')?.status).toBe('active');
  });
});

describe('approvals on a party', () => {
  const approver = makeApprover();

  /** A party whose policy needs one approval, holding active key k1 (2-of-3). */
  async function withKey() {
    const hh = await startHarness({ policy: { approvers: [approver.approverKey], requiredApprovals: 1 } });
    const { sessionId, confirmations, peerShares } = await hh.dkg('k1');
    hh.deliver({ type: 'dkg_complete', sessionId, to: 'p1', body: { keyId: 'k1', confirmations } });
    const peer = createSigner(peerShares.get('p2')!, rng);
    let sessions = 0;
    /** Sends a signing package for `requestId` with fresh commitments; returns what the party answered. */
    const sign = async (requestId: string, message: string, approvals: MessageBody<'signing_package'>['approvals']) => {
      hh.deliver({ type: 'commit_request', sessionId: `c-${requestId}`, to: 'p1', body: { keyId: 'k1', count: 1 } });
      const [mine] = only(hh.take(), 'commitments').commitments;
      const commitments = [
        { partyId: 'p1', ...mine! },
        { partyId: 'p2', ...peer.commit() },
      ];
      hh.deliver({
        type: 'signing_package',
        sessionId: `s-${requestId}-${++sessions}`,
        to: 'p1',
        body: { keyId: 'k1', requestId, intent: { type: 'raw', message }, approvals, commitments },
      });
      const [answer] = await nextSent(hh);
      return answer;
    };
    return { hh, sign };
  }

  it('an approval counted for one request is refused for another (policy_approval_reused), after a restart too', async () => {
    const { hh, sign } = await withKey();
    h = hh;
    const message = toHex(utf8('pay 1 BTC'));
    const approval = approver.approve({ keyId: 'k1', message, expiresAt: new Date(hh.clock.clock.now() + 3_600_000).toISOString() });
    expect(await sign('r1', message, [approval])).toMatchObject({ type: 'signature_share' });
    expect(await sign('r2', message, [approval])).toMatchObject({ type: 'sign_refused', body: { code: 'policy_approval_reused' } });
    await hh.restart();
    expect(await sign('r3', message, [approval])).toMatchObject({ type: 'sign_refused', body: { code: 'policy_approval_reused' } });
  });

  it('the same request re-presented in a later session counts its approval again (a stalled session must not use it up)', async () => {
    const { hh, sign } = await withKey();
    h = hh;
    const message = toHex(utf8('pay 2 BTC'));
    const approval = approver.approve({ keyId: 'k1', message, expiresAt: new Date(hh.clock.clock.now() + 3_600_000).toISOString() });
    expect(await sign('r1', message, [approval])).toMatchObject({ type: 'signature_share' });
    expect(await sign('r1', message, [approval])).toMatchObject({ type: 'signature_share' });
    await hh.restart();
    expect(await sign('r1', message, [approval])).toMatchObject({ type: 'signature_share' });
  });

  it("an approval past its expiry, or valid for longer than the policy allows, is refused on the party's clock (policy_approval_expired)", async () => {
    const { hh, sign } = await withKey();
    h = hh;
    const message = toHex(utf8('pay 3 BTC'));
    const now = hh.clock.clock.now();
    const soon = approver.approve({ keyId: 'k1', message, expiresAt: new Date(now + 60_000).toISOString() });
    const tooLong = approver.approve({ keyId: 'k1', message, expiresAt: new Date(now + 8 * 86_400_000).toISOString() });
    expect(await sign('r1', message, [tooLong])).toMatchObject({ type: 'sign_refused', body: { code: 'policy_approval_expired' } });
    hh.clock.advance(60_000);
    expect(await sign('r2', message, [soon])).toMatchObject({ type: 'sign_refused', body: { code: 'policy_approval_expired' } });
  });
});

describe('the next commitments a share carries', () => {
  it('are made once the share before it has left, not while a package waits: no randomness is drawn between a package and its share', async () => {
    let draws = 0;
    const hh = await startHarness({
      rng: (n = 32) => {
        draws++;
        return rng(n);
      },
    });
    const { sessionId, confirmations, peerShares } = await hh.dkg('k1');
    hh.deliver({ type: 'dkg_complete', sessionId, to: 'p1', body: { keyId: 'k1', confirmations } });
    const peer = createSigner(peerShares.get('p2')!, rng);
    hh.deliver({ type: 'commit_request', sessionId: 'c-1', to: 'p1', body: { keyId: 'k1', count: 1 } });
    let [mine] = only(hh.take(), 'commitments').commitments;
    const sign = async (n: number) => {
      const commitments = [
        { partyId: 'p1', ...mine! },
        { partyId: 'p2', ...peer.commit() },
      ];
      hh.deliver({
        type: 'signing_package',
        sessionId: `s-${n}`,
        to: 'p1',
        body: { keyId: 'k1', requestId: `r${n}`, intent: { type: 'raw', message: `aa0${n}` }, approvals: [], commitments },
      });
      const share = only(await nextSent(hh), 'signature_share');
      mine = share.next === null ? undefined : { hiding: share.next.hiding, binding: share.next.binding };
      return share;
    };
    await sign(1); // no spare yet: its next commitments are made before it leaves
    hh.clock.advance(0); // the party's next turn: the spare is made
    const drawnBefore = draws;
    const second = await sign(2);
    expect(draws, 'the second share left without a commitment being made for it').toBe(drawnBefore);
    // What it carried is a commitment the party holds: the next package with it is signed.
    expect(second.next).not.toBeNull();
    const third = await sign(3);
    expect(third.share).toMatch(/^[0-9a-f]+$/);
    await hh.close();
  });
});
