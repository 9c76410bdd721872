import { describe, expect, test } from 'vitest';
import { normalizeAuditData } from './audit.js';

describe('normalizeAuditData', () => {
  test('keeps JSON, stringifies what canonical JSON cannot hold, cuts deep nesting', () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    const out = normalizeAuditData({
      s: 'x',
      i: 3,
      f: 1.25,
      inf: Number.POSITIVE_INFINITY,
      b: new Uint8Array([1, 255]),
      list: [1, undefined],
      deep,
    });
    expect(out).toMatchObject({ s: 'x', i: 3, f: '1.25', inf: 'Infinity', b: '01ff', list: [1, null] });
    expect(JSON.stringify(out)).toContain('[nested too deeply]');
  });
});
