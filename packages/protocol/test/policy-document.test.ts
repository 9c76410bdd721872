/**
 * The policy document and its signed envelope. Schema tests: every malformed or inconsistent
 * document is `policy_invalid`, naming the field. Signature tests are named after the attack they
 * stop and assert the code and that the input was left as it was.
 */
import { describe, expect, it } from 'vitest';
import {
  canonicalBytes,
  canonicalJson,
  type Policy,
  parsePolicy,
  policyDigest,
  policySigningBytes,
  signPolicy,
  toHex,
  utf8,
  verifySignedPolicy,
} from '../src/index.js';
import { expectCode } from './harness.js';
import { ADDR, keyOf, person } from './policy-fixtures.js';

const base = {
  version: 3,
  approverGroups: { treasury: [keyOf(1), keyOf(2)], risk: [keyOf(3)] },
  rules: [
    { id: 'small', match: { destinations: { allowlist: [ADDR.exchange] }, amount: { max: '100000000' } }, decision: 'allow' },
    {
      id: 'large',
      match: { destinations: { allowlist: [ADDR.exchange, ADDR.cold] } },
      decision: 'require',
      approvals: [
        { group: 'treasury', min: 2 },
        { group: 'risk', min: 1 },
      ],
    },
  ],
  velocity: [{ id: 'daily', windowSeconds: 86400, maxAmount: '500000000', maxCount: 20 }],
};

/** `base` with `f` applied to a deep copy. */
function edited(f: (d: typeof base & Record<string, unknown>) => void): unknown {
  const d = structuredClone(base) as typeof base & Record<string, unknown>;
  f(d);
  return d;
}

describe('policy documents', () => {
  it('a well-formed document parses to exactly what was written', () => {
    const p = parsePolicy(structuredClone(base));
    expect(canonicalJson(p)).toBe(canonicalJson(base));
  });

  const invalid: [string, unknown, RegExp][] = [
    ['not an object', [], /expected object/],
    ['a typo in a top-level field (rule for rules) is refused, not ignored', edited((d) => Object.assign(d, { rule: [] })), /rule/],
    [
      'a typo in a condition (destination) is refused',
      edited((d) => Object.assign(d.rules[0]?.match ?? {}, { destination: {} })),
      /destination/,
    ],
    ['version 0', edited((d) => Object.assign(d, { version: 0 })), /version/],
    ['a fractional version', edited((d) => Object.assign(d, { version: 1.5 })), /version/],
    ['an amount as a JSON number', edited((d) => Object.assign(d.rules[0]?.match.amount ?? {}, { max: 100000000 })), /amount/],
    ['an amount with a leading zero', edited((d) => Object.assign(d.rules[0]?.match.amount ?? {}, { max: '0100' })), /amount/],
    ['a negative amount', edited((d) => Object.assign(d.rules[0]?.match.amount ?? {}, { max: '-1' })), /amount/],
    ['min above max', edited((d) => Object.assign(d.rules[0]?.match.amount ?? {}, { min: '200000000' })), /min exceeds max/],
    [
      'both allowlist and denylist in one condition',
      edited((d) => Object.assign(d.rules[0]?.match.destinations ?? {}, { denylist: [ADDR.cold] })),
      /exactly one/,
    ],
    [
      'an upper-case bech32 address',
      edited((d) => Object.assign(d.rules[0]?.match.destinations ?? {}, { allowlist: [ADDR.exchange.toUpperCase()] })),
      /lowercase/,
    ],
    [
      'a window that starts at 24:00',
      edited((d) => Object.assign(d.rules[0]?.match ?? {}, { time: { windows: [{ from: '24:00', to: '06:00' }] } })),
      /24:00/,
    ],
    [
      'an empty window (from = to)',
      edited((d) => Object.assign(d.rules[0]?.match ?? {}, { time: { windows: [{ from: '06:00', to: '06:00' }] } })),
      /from equals to/,
    ],
    ['25:00', edited((d) => Object.assign(d.rules[0]?.match ?? {}, { time: { windows: [{ from: '25:00', to: '06:00' }] } })), /HH:MM/],
    ['an unknown weekday', edited((d) => Object.assign(d.rules[0]?.match ?? {}, { time: { weekdays: ['friday'] } })), /weekdays/],
    ['allow with approvals', edited((d) => Object.assign(d.rules[0] ?? {}, { approvals: [{ group: 'risk', min: 1 }] })), /approvals/],
    ['require without approvals', edited((d) => Object.assign(d.rules[1] ?? {}, { approvals: undefined })), /approvals/],
    ['an unknown decision', edited((d) => Object.assign(d.rules[0] ?? {}, { decision: 'permit' })), /decision/],
    ['a rule id used twice', edited((d) => Object.assign(d.rules[1] ?? {}, { id: 'small' })), /used twice/],
    ['a velocity id used twice', edited((d) => d.velocity.push({ ...(d.velocity[0] as (typeof base.velocity)[0]) })), /used twice/],
    [
      'a velocity limit with no maximum',
      edited((d) => Object.assign(d, { velocity: [{ id: 'v', windowSeconds: 3600 }] })),
      /maxAmount, maxCount/,
    ],
    [
      'a velocity window longer than 31 days',
      edited((d) => Object.assign(d.velocity[0] ?? {}, { windowSeconds: 32 * 86400 })),
      /windowSeconds/,
    ],
    [
      'a reference to a group that does not exist',
      edited((d) => Object.assign(d.rules[1]?.approvals?.[1] ?? {}, { group: 'ops' })),
      /no approver group ops/,
    ],
    [
      'a reference to an inherited property name as a group',
      edited((d) => Object.assign(d.rules[1]?.approvals?.[1] ?? {}, { group: 'constructor' })),
      /no approver group constructor/,
    ],
    [
      'more approvals than the group has keys',
      edited((d) => Object.assign(d.rules[1]?.approvals?.[1] ?? {}, { min: 2 })),
      /has only 1 keys/,
    ],
    [
      'a group named twice in one rule',
      edited((d) => Object.assign(d.rules[1]?.approvals?.[1] ?? {}, { group: 'treasury', min: 1 })),
      /twice/,
    ],
    ['a key listed twice in a group', edited((d) => Object.assign(d.approverGroups, { risk: [keyOf(3), keyOf(3)] })), /twice/],
    [
      'a requirement distinct approvers can never meet (one shared key for two groups)',
      edited((d) => Object.assign(d.approverGroups, { treasury: [keyOf(1), keyOf(3)], risk: [keyOf(3)] })),
      /distinct approvers/,
    ],
    [
      'more than 64 approvals in one rule',
      edited((d) =>
        Object.assign(d, {
          approverGroups: { big: Array.from({ length: 64 }, (_, i) => keyOf(i + 1)), other: [keyOf(100)] },
          rules: [
            {
              id: 'r',
              match: {},
              decision: 'require',
              approvals: [
                { group: 'big', min: 64 },
                { group: 'other', min: 1 },
              ],
            },
          ],
        }),
      ),
      /more than 64 approvals/,
    ],
    ['an approver key in upper-case hex', edited((d) => Object.assign(d.approverGroups, { risk: [keyOf(3).toUpperCase()] })), /hex/],
    ['an approver key of the wrong length', edited((d) => Object.assign(d.approverGroups, { risk: [keyOf(3).slice(2)] })), /32-byte/],
    [
      'more than 256 rules',
      edited((d) => Object.assign(d, { rules: Array.from({ length: 257 }, (_, i) => ({ id: `r${i}`, match: {}, decision: 'deny' })) })),
      /rules/,
    ],
  ];
  for (const [name, doc, why] of invalid) {
    it(`policy_invalid: ${name}`, () => {
      const e = expectCode(() => parsePolicy(doc), 'policy_invalid');
      expect(e.message).toMatch(why);
    });
  }
});

const admins = [person(101), person(102), person(103)];
const pinned = admins.map((a) => toHex(a.publicKey));
const doc = parsePolicy(structuredClone(base));
const signedBy = (p: Policy, who: typeof admins) => ({ policy: p, signatures: who.map((a) => signPolicy(p, a)) });

/** Verifies and asserts that `signed` was not mutated by the attempt. */
function verifyUntouched(signed: unknown, quorum = 2, active: number | null = 2) {
  const before = structuredClone(signed);
  try {
    return verifySignedPolicy(signed, pinned, quorum, active);
  } finally {
    expect(signed).toEqual(before);
  }
}

describe('signed policies', () => {
  it('2 of 3 pinned admins sign v3 over active v2: verified, with digest and signers', () => {
    const v = verifyUntouched(signedBy(doc, [admins[2], admins[0]] as typeof admins));
    expect(v.policy.version).toBe(3);
    expect(v.digest).toBe(policyDigest(doc));
    expect(v.signers).toEqual([pinned[0], pinned[2]].sort());
  });

  it('the signature covers canonical bytes: JSON key order and whitespace on the way do not matter', () => {
    const signed = signedBy(doc, admins.slice(0, 2));
    const reordered = JSON.parse(
      JSON.stringify(
        signed,
        (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v),
        2,
      ),
    );
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(signed));
    expect(verifyUntouched(reordered).digest).toBe(policyDigest(doc));
  });

  it('the signing bytes are domain-separated: glacis/policy/v1 ‖ 0x00 ‖ canonical JSON', () => {
    expect(toHex(policySigningBytes(doc))).toBe(toHex(utf8(`glacis/policy/v1\u0000${canonicalJson(doc)}`)));
  });

  it('a document an admin signed under another domain (e.g. as an envelope body) is not a signed policy', () => {
    const foreign = admins
      .slice(0, 2)
      .map((a) => ({ adminKey: toHex(a.publicKey), signature: toHex(a.sign(canonicalBytes('glacis/envelope/v1', doc))) }));
    expectCode(() => verifyUntouched({ policy: doc, signatures: foreign }), 'policy_bad_signature');
  });

  it('a rule edited after signing (raise the limit) is policy_bad_signature', () => {
    const signed = signedBy(doc, admins.slice(0, 2));
    const tampered = structuredClone(signed) as { policy: { rules: { match: { amount?: { max: string } } }[] } };
    (tampered.policy.rules[0]?.match.amount as { max: string }).max = '9900000000';
    expectCode(() => verifyUntouched(tampered), 'policy_bad_signature');
  });

  it('signatures lifted from another version are policy_bad_signature', () => {
    const v4 = parsePolicy({ ...structuredClone(base), version: 4 });
    const lifted = { policy: v4, signatures: signedBy(doc, admins.slice(0, 2)).signatures };
    expectCode(() => verifyUntouched(lifted), 'policy_bad_signature');
  });

  it('one admin signing twice is refused as malformed, not counted twice', () => {
    const one = signPolicy(doc, admins[0] as (typeof admins)[0]);
    expectCode(() => verifyUntouched({ policy: doc, signatures: [one, { ...one }] }), 'policy_invalid');
  });

  it('a quorum of keys the party never pinned is policy_quorum_not_met', () => {
    const strangers = [person(201), person(202), person(203)];
    expectCode(() => verifyUntouched(signedBy(doc, strangers)), 'policy_quorum_not_met');
  });

  it('an unpinned signature next to a real quorum is ignored, neither counted nor fatal', () => {
    const signed = signedBy(doc, [admins[0], admins[1], person(201)] as typeof admins);
    expect(verifyUntouched(signed, 2).signers).toEqual(pinned.slice(0, 2).sort());
    expectCode(() => verifyUntouched(signed, 3), 'policy_quorum_not_met');
  });

  it('one signature short of the quorum is policy_quorum_not_met', () => {
    expectCode(() => verifyUntouched(signedBy(doc, admins.slice(0, 1))), 'policy_quorum_not_met');
  });

  it('a validly signed older version (downgrade to looser rules) is policy_downgrade', () => {
    expectCode(() => verifyUntouched(signedBy(doc, admins), 2, 5), 'policy_downgrade');
  });

  it('the active version delivered again (replay) is policy_version_replayed', () => {
    expectCode(() => verifyUntouched(signedBy(doc, admins), 2, 3), 'policy_version_replayed');
  });

  it('a forged document claiming an old version is reported as forged, not as a downgrade', () => {
    const forged = {
      policy: doc,
      signatures: admins.slice(0, 2).map((a) => ({ adminKey: toHex(a.publicKey), signature: '00'.repeat(64) })),
    };
    expectCode(() => verifyUntouched(forged, 2, 5), 'policy_bad_signature');
  });

  it('the first policy a party ever activates needs only the quorum (no active version)', () => {
    expect(verifyUntouched(signedBy(doc, admins.slice(1)), 2, null).policy.version).toBe(3);
  });

  it('an invalid document inside a well-signed envelope is policy_invalid', () => {
    const signed = signedBy(doc, admins);
    expectCode(() => verifyUntouched({ ...signed, policy: { ...doc, version: -1 } }), 'policy_invalid');
    expectCode(() => verifyUntouched({ ...signed, extra: true }), 'policy_invalid');
    expectCode(() => verifyUntouched({ ...signed, signatures: [] }), 'policy_invalid');
  });

  it('a quorum no pinned set can reach is a configuration error (invalid_threshold)', () => {
    expectCode(() => verifySignedPolicy(signedBy(doc, admins), pinned, 4, null), 'invalid_threshold');
    expectCode(() => verifySignedPolicy(signedBy(doc, admins), pinned, 0, null), 'invalid_threshold');
  });

  it('pinned admin keys in another spelling are a configuration error, not a silent mismatch', () => {
    expectCode(
      () =>
        verifySignedPolicy(
          signedBy(doc, admins),
          pinned.map((k) => k.toUpperCase()),
          2,
          null,
        ),
      'invalid_hex',
    );
  });
});
