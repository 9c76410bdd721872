import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BLAME_CODES, type ExclusionCode, exclusionAuditEvent, isPolicyRefusal, POLICY_CODES, POLICY_REFUSAL_CODES } from './outcome.js';

describe('signing outcome codes', () => {
  it('one rule decides refusal and its audit event: wrong_key is a refusal and audited as one', () => {
    for (const code of POLICY_REFUSAL_CODES) {
      expect(isPolicyRefusal(code), code).toBe(true);
      expect(exclusionAuditEvent(code), code).toBe('policy_refusal');
    }
    for (const code of BLAME_CODES) {
      expect(isPolicyRefusal(code), code).toBe(false);
      expect(exclusionAuditEvent(code), code).toBe('party_excluded');
    }
  });

  it('any other sign_refused code is a withdrawal, a policy_ prefix alone included (the list is closed)', () => {
    for (const code of ['unknown_commitment', 'nonce_reused', 'missing_own_commitment', 'policy_future_rule', 'policy', ''])
      expect(isPolicyRefusal(code), code).toBe(false);
    expect(POLICY_REFUSAL_CODES).toEqual([...POLICY_CODES, 'wrong_key']);
  });

  it('docs/errors.md lists exactly the exclusion codes, each with its audit event', () => {
    const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
    const documented = new Map<string, string>();
    for (const m of doc.matchAll(/^\| ((?:`[a-z_]+`(?:, )?)+) \| (?:blame|refusal) \| .* \| `([a-z_]+)` \|$/gm)) {
      for (const code of (m[1] as string).matchAll(/`([a-z_]+)`/g)) documented.set(code[1] as string, m[2] as string);
    }
    const all: ExclusionCode[] = [...BLAME_CODES, ...POLICY_REFUSAL_CODES];
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(all.map((c) => [c, exclusionAuditEvent(c)])));
  });
});
