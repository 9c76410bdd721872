/**
 * What leaves an offline party's outbox, and when: each DKG or lifecycle answer takes out what it
 * shows the vault has (a lifecycle answer read before, nothing again); a last word stays until its
 * deadline, or, for a DKG, until the party shows it holds the key active; nothing else of another
 * session or party moves.
 */
import type { Envelope, Message } from '@glacis/protocol';
import { describe, expect, it } from 'vitest';
import { createOfflineOutbox } from './offline-outbox.js';

const env = (type: string, sessionId: string, from = 'coordinator', body: object = {}): Envelope => ({
  v: 1,
  type,
  sessionId,
  from,
  to: 'p3',
  seq: 1,
  body,
  signature: '00',
});
/** A message the vault sent (only its type, session, recipient and body matter here). */
const from3 = (type: string, sessionId: string, body: object = {}) =>
  ({ ...env(type, sessionId, 'p3', body), to: 'coordinator' }) as unknown as Message;
const typesOf = (list: Envelope[]) => list.map((e) => `${e.type}:${e.from}`);

describe('the offline outbox, DKG messages', () => {
  it('the vault’s round 1 takes out the start, its round 2 the round-1 packages, its confirmation the round-2 shares', () => {
    const box = createOfflineOutbox();
    box.putDkg('p3', 'k1', env('dkg_start', 'dkg-k1'));
    box.putDkg('p3', 'k1', env('dkg_round1', 'dkg-k1', 'p1'));
    box.putDkg('p3', 'k1', env('dkg_round2', 'dkg-k1', 'p1'));
    box.putDkg('p3', 'k2', env('dkg_start', 'dkg-k2'));
    box.dkgAnswered('p3', 'dkg-k1', 'dkg_round1');
    expect(typesOf(box.pending('p3', 0).envelopes)).toEqual(['dkg_round1:p1', 'dkg_round2:p1', 'dkg_start:coordinator']);
    box.dkgAnswered('p3', 'dkg-k1', 'dkg_round2');
    expect(typesOf(box.pending('p3', 0).envelopes)).toEqual(['dkg_round2:p1', 'dkg_start:coordinator']);
    box.dkgAnswered('p3', 'dkg-k1', 'dkg_confirm');
    expect(box.pending('p3', 0)).toEqual({ envelopes: [env('dkg_start', 'dkg-k2')], requestIds: [], keyIds: ['k2'], operationIds: [] });
  });

  it('a certificate outlives its DKG’s rounds, until its deadline or until the party preprocesses for the key', () => {
    const box = createOfflineOutbox();
    box.putDkg('p3', 'k1', env('dkg_round2', 'dkg-k1', 'p1'));
    box.putDkg('p3', 'k1', env('dkg_complete', 'dkg-k1'), 1000);
    box.dropDkg('k1');
    expect(typesOf(box.pending('p3', 999).envelopes)).toEqual(['dkg_complete:coordinator']);
    expect(box.pending('p3', 1000).envelopes).toEqual([]);
    box.putDkg('p3', 'k1', env('dkg_complete', 'dkg-k1'), 5000);
    box.keyActive('p3', 'k1');
    expect(box.pending('p3', 0).envelopes).toEqual([]);
  });
});

describe('the offline outbox, lifecycle messages', () => {
  it('each answer takes out what it shows the vault has: round 1 the start, round 2 the round 1s, the confirmation every round, the test commitment the request, the share the package', () => {
    const box = createOfflineOutbox();
    box.putLifecycle('p3', 'op1', env('refresh_start', 'refresh-op1'));
    box.putLifecycle('p3', 'op1', env('refresh_round1', 'refresh-op1', 'p1'));
    box.putLifecycle('p3', 'op2', env('drill_request', 'drill-op2'));
    box.lifecycleAnswered('p3', 'op1', from3('refresh_round1', 'refresh-op1'));
    expect(typesOf(box.pending('p3', 0).envelopes)).toEqual(['refresh_round1:p1', 'drill_request:coordinator']);
    box.putLifecycle('p3', 'op1', env('refresh_round2', 'refresh-op1', 'p1'));
    box.lifecycleAnswered('p3', 'op1', from3('refresh_round2', 'refresh-op1'));
    expect(typesOf(box.pending('p3', 0).envelopes)).toEqual(['drill_request:coordinator', 'refresh_round2:p1']);
    box.lifecycleAnswered('p3', 'op1', from3('lifecycle_confirm', 'refresh-op1'));
    box.putLifecycle('p3', 'op1', env('lifecycle_test_package', 'refresh-op1'));
    box.lifecycleAnswered('p3', 'op1', from3('lifecycle_test_commitment', 'refresh-op1'));
    expect(box.pending('p3', 0)).toEqual({
      envelopes: [env('drill_request', 'drill-op2'), env('lifecycle_test_package', 'refresh-op1')],
      requestIds: [],
      keyIds: [],
      operationIds: ['op2', 'op1'],
    });
    box.lifecycleAnswered('p3', 'op1', from3('lifecycle_test_share', 'refresh-op1'));
    box.lifecycleAnswered('p3', 'op2', from3('drill_proof', 'drill-op2'));
    expect(box.pending('p3', 0).envelopes).toEqual([]);
  });

  it('an answer read before (re-sent by the vault) takes out nothing again: a test request after a restarted round stays', () => {
    const box = createOfflineOutbox();
    box.putLifecycle('p3', 'op1', env('lifecycle_test_request', 'refresh-op1'));
    const first = from3('lifecycle_test_commitment', 'refresh-op1', { commitment: { hiding: '01' } });
    box.lifecycleAnswered('p3', 'op1', first);
    box.putLifecycle('p3', 'op1', env('lifecycle_test_request', 'refresh-op1'));
    box.lifecycleAnswered('p3', 'op1', first);
    expect(typesOf(box.pending('p3', 0).envelopes)).toEqual(['lifecycle_test_request:coordinator']);
    box.lifecycleAnswered('p3', 'op1', from3('lifecycle_test_commitment', 'refresh-op1', { commitment: { hiding: '02' } }));
    expect(box.pending('p3', 0).envelopes).toEqual([]);
  });

  it('a test round restarted takes back its old request and package; the end of the operation its rounds, not its last word; the vault’s own abort everything of the session', () => {
    const box = createOfflineOutbox();
    box.putLifecycle('p3', 'op1', env('lifecycle_test_package', 'refresh-op1'));
    box.putLifecycle('p3', 'op1', env('refresh_round2', 'refresh-op1', 'p1'));
    box.withdrawLifecycle('p3', 'refresh-op1', ['lifecycle_test_request', 'lifecycle_test_package']);
    expect(typesOf(box.pending('p3', 0).envelopes)).toEqual(['refresh_round2:p1']);
    box.putLifecycle('p3', 'op1', env('lifecycle_complete', 'refresh-op1'), 1000);
    box.dropLifecycle('op1');
    expect(typesOf(box.pending('p3', 999).envelopes)).toEqual(['lifecycle_complete:coordinator']);
    expect(box.pending('p3', 1000).envelopes).toEqual([]);
    box.putLifecycle('p3', 'op3', env('repair_start', 'repair-op3'));
    box.putLifecycle('p3', 'op3', env('lifecycle_abort', 'repair-op3'), 5000);
    box.lifecycleAnswered('p3', 'op3', from3('lifecycle_abort', 'repair-op3'));
    expect(box.pending('p3', 0).envelopes).toEqual([]);
  });
});
