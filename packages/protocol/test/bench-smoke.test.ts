/**
 * Smoke test of the protocol benchmark (scripts/bench/protocol.mjs, run by `npm run bench`): one
 * suite in quick mode yields the documented JSON shape with positive figures and consistent ratios.
 * Timings are never asserted: the machine is shared and noisy. Runs against packages/protocol/dist,
 * as the benchmark does (`npm test` builds it first).
 */
import { describe, expect, it } from 'vitest';
import { benchProtocol, type ProtocolBenchmark } from '../../../scripts/bench/protocol.mjs';

const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;

describe('protocol benchmark (quick, ed25519)', () => {
  it('returns a table per operation, every row with figures for both sides and their ratio', { timeout: 180_000 }, async () => {
    const r: ProtocolBenchmark = await benchProtocol({ quick: true, suites: ['ed25519'] });
    expect(typeof r.note).toBe('string');
    expect(r.meta).toMatchObject({ quick: true, suites: ['ed25519'], sizes: ['2-of-3', '3-of-5'] });
    expect(positive(r.meta.elapsedS)).toBe(true);

    expect(r.dkg.map((row) => row.size)).toEqual(['2-of-3', '3-of-5']);
    for (const row of r.dkg) {
      expect(row.suite).toBe('ed25519');
      for (const k of [
        'oursPerPartyMs',
        'noblePerPartyMs',
        'oursTotalMs',
        'nobleTotalMs',
        'oursCertificateMs',
        'oursEnvelopeMs',
        'oursBoxMs',
      ] as const) {
        expect(positive(row[k]), k).toBe(true);
      }
      expect(row.perPartyRatio).toBeCloseTo(row.oursPerPartyMs / row.noblePerPartyMs, 1);
      // A difference of medians: finite, but its sign is not something a test can promise.
      expect(Number.isFinite(row.coreRatio)).toBe(true);
      expect(row.total).toBe('measured');
    }
    for (const table of ['commit', 'signShare', 'aggregation'] as const) {
      expect(r[table]).toHaveLength(2);
      for (const row of r[table]) {
        expect(positive(row.oursMs) && positive(row.nobleMs), table).toBe(true);
        expect(row.ratio).toBeCloseTo(row.oursMs / row.nobleMs, 1);
      }
    }
    for (const row of r.shareVerification) {
      expect([row.oursBatchMs, row.oursExactMs, row.nobleMs].every(positive)).toBe(true);
      expect(row.shares).toBe(Number(row.size.split('-')[0]));
    }
    // Every table is an array of flat rows: what scripts/bench/report.mjs renders.
    for (const [name, rows] of Object.entries(r)) {
      if (!Array.isArray(rows)) continue;
      for (const row of rows) for (const v of Object.values(row)) expect(typeof v === 'object' && v !== null, name).toBe(false);
    }
    expect(r.dkgBeforeAfter).toBeUndefined();
  });
});
