/**
 * The policy in force at a party: what activates, what is refused and leaves everything as it was,
 * and what a restart (or a tampered policy.json) brings back.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identityFromSeed, isProtocolError, parsePolicy, signPolicy, toHex } from '@glacis/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { policySchema } from '../src/config.js';
import { isPartyError } from '../src/errors.js';
import { openPolicyStore, POLICY_FILE } from '../src/policy/policy-store.js';

const admin = (n: number) => identityFromSeed(new Uint8Array(32).fill(n));
const [a1, a2, a3, outsider] = [admin(0x65), admin(0x66), admin(0x67), admin(0x68)];
const pins = { keys: [a1, a2, a3].map((a) => toHex(a.publicKey)), quorum: 2 };
const NOW = Date.parse('2030-01-01T00:00:00Z');

const doc = (version: number) => parsePolicy({ version, rules: [{ id: `v${version}`, match: {}, decision: 'allow' }] });
const signed = (version: number, by = [a1, a2]) => {
  const policy = doc(version);
  return { policy, signatures: by.map((a) => signPolicy(policy, a)) };
};

const dirs: string[] = [];
function fresh(): string {
  const d = mkdtempSync(join(tmpdir(), 'glacis-policy-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const config = (over: Record<string, unknown> = {}) => ({ policy: policySchema.parse({}), policyAdmins: pins, ...over });
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return isProtocolError(e) ? e.code : isPartyError(e) ? e.code : String(e);
  }
  return 'none';
};

describe('the policy in force', () => {
  it('is the static policy until a signed one is activated; then the signed one, on disk first', () => {
    const dir = fresh();
    const store = openPolicyStore(dir, config());
    expect(store.active()).toMatchObject({ source: 'static', version: 1, digest: null });
    const r = store.activate(signed(2), NOW);
    expect(r).toMatchObject({ changed: true, policy: { source: 'signed', version: 2, activatedAt: '2030-01-01T00:00:00.000Z' } });
    expect(JSON.parse(readFileSync(join(dir, POLICY_FILE), 'utf8')).signed.policy.version).toBe(2);
    expect(openPolicyStore(dir, config()).active()).toMatchObject({ source: 'signed', version: 2, digest: r.policy.digest });
  });

  it('the static version is the floor: a first signed policy at that version is a replay, older a downgrade', () => {
    const store = openPolicyStore(fresh(), config({ policy: policySchema.parse({ version: 3 }) }));
    expect(codeOf(() => store.activate(signed(3), NOW))).toBe('policy_version_replayed');
    expect(codeOf(() => store.activate(signed(2), NOW))).toBe('policy_downgrade');
    expect(store.active().source).toBe('static');
  });

  it('refuses a forgery, too few pinned signers, a downgrade and a replay, and changes nothing', () => {
    const dir = fresh();
    const store = openPolicyStore(dir, config());
    store.activate(signed(5), NOW);
    const before = readFileSync(join(dir, POLICY_FILE), 'utf8');
    const tampered = { ...signed(6), policy: doc(7) };
    expect(codeOf(() => store.activate(tampered, NOW))).toBe('policy_bad_signature');
    expect(codeOf(() => store.activate(signed(6, [a1, outsider]), NOW))).toBe('policy_quorum_not_met');
    expect(codeOf(() => store.activate(signed(4), NOW))).toBe('policy_downgrade');
    expect(codeOf(() => store.activate({ ...signed(5), policy: parsePolicy({ version: 5, rules: [] }) }, NOW))).toBe(
      'policy_bad_signature',
    );
    const other = parsePolicy({ version: 5, rules: [] });
    expect(codeOf(() => store.activate({ policy: other, signatures: [a1, a2].map((a) => signPolicy(other, a)) }, NOW))).toBe(
      'policy_version_replayed',
    );
    expect(readFileSync(join(dir, POLICY_FILE), 'utf8')).toBe(before);
    expect(store.active().version).toBe(5);
  });

  it('the policy in force, delivered again (another signer set even), changes nothing and is not an error', () => {
    const store = openPolicyStore(fresh(), config());
    const first = store.activate(signed(2), NOW);
    expect(store.activate(signed(2, [a2, a3]), NOW + 1)).toEqual({ changed: false, policy: first.policy });
  });

  it('a party that pinned no administrators refuses every signed policy (policy_admins_not_pinned)', () => {
    const dir = fresh();
    const store = openPolicyStore(dir, { policy: policySchema.parse({}) });
    expect(codeOf(() => store.activate(signed(2), NOW))).toBe('policy_admins_not_pinned');
    expect(existsSync(join(dir, POLICY_FILE))).toBe(false);
  });

  it('a policy.json that no longer verifies under the pins stops the party instead of weakening its policy', () => {
    const dir = fresh();
    openPolicyStore(dir, config()).activate(signed(2), NOW);
    // Other pins (an operator error, or an attacker with write access to party.json only).
    const repinned = { keys: [toHex(outsider.publicKey)], quorum: 1 };
    expect(codeOf(() => openPolicyStore(dir, config({ policyAdmins: repinned })))).toBe('policy_unverifiable');
    // An edited document in policy.json.
    const file = JSON.parse(readFileSync(join(dir, POLICY_FILE), 'utf8'));
    file.signed.policy.rules[0].decision = 'deny';
    writeFileSync(join(dir, POLICY_FILE), JSON.stringify(file));
    expect(codeOf(() => openPolicyStore(dir, config()))).toBe('policy_unverifiable');
  });
});
