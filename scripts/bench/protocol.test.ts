/**
 * Smoke test of the protocol benchmark (scripts/bench/protocol.mjs, run by `npm run bench`): one
 * suite in quick mode yields the documented JSON shape with positive figures and consistent ratios.
 * Timings are never asserted: the machine is shared and noisy. Its own vitest project (`bench`):
 * the protocol unit tests do not depend on the benchmark scripts.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { benchProtocol } from './protocol.mjs';

const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
type Row = Record<string, unknown>;
const num = (row: Row, k: string) => row[k] as number;

describe('protocol benchmark (quick, ed25519)', () => {
  it('returns a table per operation, every row with figures for both sides and their ratio', async () => {
    const r = (await benchProtocol({ quick: true, suites: ['ed25519'] })) as Record<string, unknown> & {
      note: string;
      meta: Row;
    };
    const rows = (name: string) => r[name] as Row[];
    expect(typeof r.note).toBe('string');
    expect(r.meta).toMatchObject({ quick: true, suites: ['ed25519'], sizes: ['2-of-3', '3-of-5'] });
    expect(positive(r.meta.elapsedS)).toBe(true);

    expect(rows('dkg').map((row) => row.size)).toEqual(['2-of-3', '3-of-5']);
    for (const row of rows('dkg')) {
      expect(row.suite).toBe('ed25519');
      for (const k of [
        'oursPerPartyMs',
        'noblePerPartyMs',
        'oursTotalMs',
        'nobleTotalMs',
        'oursCertificateMs',
        'oursEnvelopeMs',
        'oursBoxMs',
      ]) {
        expect(positive(row[k]), k).toBe(true);
      }
      expect(num(row, 'perPartyRatio')).toBeCloseTo(num(row, 'oursPerPartyMs') / num(row, 'noblePerPartyMs'), 1);
      // A difference of medians: finite, but its sign is not something a test can promise.
      expect(Number.isFinite(row.coreRatio)).toBe(true);
      expect(row.total).toBe('measured');
    }
    for (const table of ['commit', 'signShare', 'aggregation']) {
      expect(rows(table)).toHaveLength(2);
      for (const row of rows(table)) {
        expect(positive(row.oursMs) && positive(row.nobleMs), table).toBe(true);
        expect(num(row, 'ratio')).toBeCloseTo(num(row, 'oursMs') / num(row, 'nobleMs'), 1);
      }
    }
    for (const row of rows('shareVerification')) {
      expect([row.oursBatchMs, row.oursExactMs, row.nobleMs].every(positive)).toBe(true);
      expect(row.shares).toBe(Number(String(row.size).split('-')[0]));
    }
    expect(rows('primeOrder')).toEqual([expect.objectContaining({ suite: 'ed25519' })]);
    for (const row of rows('primeOrder')) {
      expect([row.oursHalvingMs, row.nobleLPMs, row.oursParseElementMs].every(positive)).toBe(true);
      expect(num(row, 'ratio')).toBeCloseTo(num(row, 'oursHalvingMs') / num(row, 'nobleLPMs'), 1);
    }
    expect(rows('identity').map((row) => row.op)).toEqual(['sign', 'verify']);
    for (const row of rows('identity')) expect(positive(row.oursMs) && positive(row.nobleMs)).toBe(true);
    // Every table is an array of flat rows: what scripts/bench/report.mjs renders.
    for (const [name, table] of Object.entries(r)) {
      if (!Array.isArray(table)) continue;
      for (const row of table) for (const v of Object.values(row)) expect(typeof v === 'object' && v !== null, name).toBe(false);
    }
    expect(r.dkgBeforeAfter).toBeUndefined();
  });
});
