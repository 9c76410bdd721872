/**
 * What leaves an offline party's outbox, and when: each DKG answer takes out what it shows the
 * vault has; a DKG's last word stays until its deadline, or until the party shows it holds the key
 * active; nothing else of another session or party moves.
 */
import type { Envelope } from '@glacis/protocol';
import { describe, expect, it } from 'vitest';
import { createOfflineOutbox } from './offline-outbox.js';

const env = (type: string, sessionId: string, from = 'coordinator'): Envelope => ({
  v: 1,
  type,
  sessionId,
  from,
  to: 'p3',
  seq: 1,
  body: {},
  signature: '00',
});
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
    expect(box.pending('p3', 0)).toEqual({ envelopes: [env('dkg_start', 'dkg-k2')], requestIds: [], keyIds: ['k2'] });
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
