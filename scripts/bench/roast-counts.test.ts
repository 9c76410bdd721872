/**
 * Sessions and shares per signature in `npm run bench` (scripts/bench/roast-counts.mjs): read from
 * the coordinator's Prometheus text, summed over labels, nothing else taken for them.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { parseRoastCounters } from './roast-counts.mjs';

describe('ROAST counters from /metrics', () => {
  it('sums the sessions counter and the shares counter over its party labels, and ignores every other series', () => {
    const text = [
      '# HELP glacis_roast_sessions_total ROAST sessions started',
      '# TYPE glacis_roast_sessions_total counter',
      'glacis_roast_sessions_total 12',
      'glacis_signature_shares_total{party="party-1"} 10',
      'glacis_signature_shares_total{party="party-2"} 9',
      'glacis_signing_sessions_total{outcome="completed"} 10',
      'glacis_party_sign_latency_seconds_count{party="party-1"} 10',
    ].join('\n');
    expect(parseRoastCounters(text)).toEqual({ sessions: 12, shares: 19 });
  });

  it('a coordinator without the counters reads as zero', () => {
    expect(parseRoastCounters('glacis_connected_parties 3\n')).toEqual({ sessions: 0, shares: 0 });
  });
});
