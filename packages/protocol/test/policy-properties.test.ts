/**
 * Properties of the rule engine and of admission, over random policies and requests:
 *  - a decision does not depend on the order of anything whose order means nothing (destinations
 *    of a transaction, entries of a list, keys of a JSON object, the velocity history): in
 *    particular a request a rule denies stays denied;
 *  - velocity limits are never exceeded, in any window, whatever the sequence and interleaving of
 *    requests and whatever the clock does, as long as admission goes through `admitRequest`.
 * fast-check prints the seed and the shrunk counterexample of any failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  admitRequest,
  evaluatePolicy,
  INTENT_TYPES,
  type Policy,
  type PolicyDecision,
  type PolicyFacts,
  parsePolicy,
  type VelocityEvent,
} from '../src/index.js';
import { ADDR, keyOf, NOON_FRIDAY, spend } from './policy-fixtures.js';

const POOL = [ADDR.exchange, ADDR.cold, ADDR.payroll, ADDR.sanctioned, 'bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh'];
const KEY_IDS = ['k1', 'k2', 'k3'];
const LABELS = [null, 'hot-1', 'cold-a', 'ops'];

/** A deterministic shuffle from a seed (mulberry32), so fast-check can shrink the seed. */
function shuffler(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return <T>(xs: readonly T[]): T[] => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  };
}

/** Lists whose order carries no meaning; every other array (rules, velocity, approvals) keeps its order. */
const SET_LIKE = new Set(['allowlist', 'denylist', 'ids', 'labels', 'weekdays', 'intentTypes', 'windows']);

/** The same JSON with every object's keys and every set-like list in a new order. */
function reorder(v: unknown, shuffle: <T>(xs: readonly T[]) => T[], field = ''): unknown {
  if (Array.isArray(v)) {
    const items = v.map((x) => reorder(x, shuffle));
    return SET_LIKE.has(field) ? shuffle(items) : items;
  }
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(shuffle(Object.entries(v)).map(([k, x]) => [k, reorder(x, shuffle, k)]));
  }
  return v;
}

const hhmm = fc
  .integer({ min: 0, max: 1439 })
  .map((m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`);
const amount = fc.bigInt({ min: 0n, max: 2_000_000_000n });
const range = fc
  .tuple(fc.option(amount, { nil: undefined }), fc.option(amount, { nil: undefined }))
  .filter(([a, b]) => a !== undefined || b !== undefined)
  .map(([a, b]) => {
    const [min, max] = a !== undefined && b !== undefined && a > b ? [b, a] : [a, b];
    return { ...(min === undefined ? {} : { min: String(min) }), ...(max === undefined ? {} : { max: String(max) }) };
  });
const matchArb = fc.record(
  {
    key: fc.oneof(
      fc.record({ ids: fc.subarray(KEY_IDS, { minLength: 1 }) }),
      fc.record({ labels: fc.subarray(['hot-*', 'cold-?', '*', 'o?s'], { minLength: 1 }) }),
    ),
    intentTypes: fc.subarray([...INTENT_TYPES], { minLength: 1 }),
    destinations: fc.oneof(
      fc.record({ allowlist: fc.subarray(POOL, { minLength: 1 }) }),
      fc.record({ denylist: fc.subarray(POOL, { minLength: 1 }) }),
    ),
    amount: range,
    fee: range,
    time: fc.record({
      windows: fc.array(
        fc
          .tuple(hhmm, hhmm)
          .filter(([f, t]) => f !== t)
          .map(([from, to]) => ({ from, to })),
        { minLength: 1, maxLength: 3 },
      ),
      weekdays: fc.subarray(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], { minLength: 1 }),
    }),
  },
  { requiredKeys: [] },
);
const decisionArb = fc.constantFrom(
  { decision: 'allow' },
  { decision: 'deny' },
  { decision: 'require', approvals: [{ group: 'ops', min: 1 }] },
);
const rulesArb = fc
  .array(fc.tuple(matchArb, decisionArb), { maxLength: 6 })
  .map((rs) => rs.map(([match, d], i) => ({ id: `r${i}`, match, ...d })));

function policyDoc(rules: unknown[], velocity: unknown[] = []): Record<string, unknown> {
  return { version: 7, approverGroups: { ops: [keyOf(1), keyOf(2)] }, rules, velocity };
}

const factsArb: fc.Arbitrary<PolicyFacts> = fc.oneof(
  fc.record({ keyId: fc.constantFrom(...KEY_IDS), keyLabel: fc.constantFrom(...LABELS), intentType: fc.constant('raw' as const) }),
  fc
    .record({
      keyId: fc.constantFrom(...KEY_IDS),
      keyLabel: fc.constantFrom(...LABELS),
      destinations: fc.array(fc.record({ address: fc.constantFrom(...POOL, null), amount: fc.bigInt({ min: 0n, max: 500_000_000n }) }), {
        maxLength: 5,
      }),
      fee: fc.bigInt({ min: 0n, max: 100_000n }),
    })
    .map((f) => ({ ...f, intentType: 'bitcoin-psbt' as const, amount: f.destinations.reduce((s, d) => s + d.amount, 0n) })),
);
const nowArb = fc.integer({ min: NOON_FRIDAY - 4 * 86_400_000, max: NOON_FRIDAY + 4 * 86_400_000 });

const essence = (d: PolicyDecision) => ({
  decision: d.decision,
  ruleId: d.ruleId,
  code: d.decision === 'deny' ? d.code : null,
  counted: d.counted,
});

function permuteFacts(f: PolicyFacts, shuffle: <T>(xs: readonly T[]) => T[]): PolicyFacts {
  return f.intentType === 'raw' ? { ...f } : { ...f, destinations: shuffle(f.destinations) };
}

describe('decisions do not depend on meaningless order', () => {
  it('any policy, any request: reordering destinations, lists, JSON keys and history changes nothing', () => {
    fc.assert(
      fc.property(rulesArb, factsArb, nowArb, fc.integer(), (rules, facts, now, seed) => {
        const shuffle = shuffler(seed);
        const doc = policyDoc(rules, [{ id: 'v', windowSeconds: 3600, maxAmount: '900000000', maxCount: 3 }]);
        const history: VelocityEvent[] = [
          { at: now - 60_000, keyId: facts.keyId, intentType: 'bitcoin-psbt', amount: '400000000' },
          { at: now - 7_200_000, keyId: facts.keyId, intentType: 'raw', amount: '0' },
          { at: now - 120_000, keyId: 'k9', intentType: 'raw', amount: '0' },
        ];
        const original = evaluatePolicy(parsePolicy(doc), facts, now, history);
        const moved = evaluatePolicy(parsePolicy(reorder(doc, shuffle)), permuteFacts(facts, shuffle), now, shuffle(history));
        expect(essence(moved)).toEqual(essence(original));
      }),
      { numRuns: 200 },
    );
  }, 60_000);

  it('a request that a rule denies is denied whatever the order of its other fields and of later rules', () => {
    fc.assert(
      fc.property(rulesArb, rulesArb, factsArb, nowArb, fc.integer(), fc.nat(), (before, after, facts, now, seed, at) => {
        fc.pre(facts.intentType === 'bitcoin-psbt');
        const shuffle = shuffler(seed);
        // The request pays the sanctioned address somewhere among its outputs.
        const f = facts as Extract<PolicyFacts, { intentType: 'bitcoin-psbt' }>;
        const destinations = [...f.destinations];
        destinations.splice(at % (destinations.length + 1), 0, { address: ADDR.sanctioned, amount: 1n });
        const paying: PolicyFacts = { ...f, destinations, amount: f.amount + 1n };
        const deny = { id: 'deny-sanctioned', match: { destinations: { denylist: [ADDR.sanctioned] } }, decision: 'deny' };
        // Rules before it that cannot match this request (they need a key it is not).
        const earlier = before.map((r, i) => ({ ...r, id: `b${i}`, match: { ...r.match, key: { ids: ['k-none'] } } }));
        const rules = [...earlier, deny, ...after.map((r, i) => ({ ...r, id: `a${i}` }))];
        const policy: Policy = parsePolicy(policyDoc(rules));
        const d = evaluatePolicy(policy, paying, now, []);
        expect(essence(d)).toMatchObject({ decision: 'deny', ruleId: 'deny-sanctioned', code: 'policy_denied' });
        const reordered = parsePolicy(
          reorder(policyDoc([...earlier, deny, ...shuffle(after.map((r, i) => ({ ...r, id: `a${i}` })))]), shuffle),
        );
        expect(essence(evaluatePolicy(reordered, permuteFacts(paying, shuffle), now, []))).toEqual(essence(d));
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});

describe('velocity limits hold under any interleaving', () => {
  /** Checks every window ending at an admitted event: the sum and count inside never pass the caps. */
  function assertWithinCaps(events: readonly VelocityEvent[], windowMs: number, maxAmount: bigint, maxCount: number) {
    for (const end of events) {
      const inside = events.filter((e) => e.keyId === end.keyId && e.at > end.at - windowMs && e.at <= end.at);
      const sum = inside.reduce((s, e) => s + BigInt(e.amount), 0n);
      expect(sum <= maxAmount, `window ending ${end.at} for ${end.keyId}: ${sum} > ${maxAmount}`).toBe(true);
      expect(inside.length).toBeLessThanOrEqual(maxCount);
    }
  }

  const requestArb = fc.record({
    keyId: fc.constantFrom('k1', 'k2'),
    amount: fc.bigInt({ min: 0n, max: 400n }),
    fee: fc.bigInt({ min: 0n, max: 20n }),
    /** Milliseconds the party's clock moves before this request is admitted (negative: stepped back). */
    step: fc.integer({ min: -30_000, max: 400_000 }),
  });

  it('admitRequest: no window ever holds more than the caps, for any order, timing and clock', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 60, max: 3600 }),
        fc.bigInt({ min: 0n, max: 1500n }),
        fc.integer({ min: 0, max: 8 }),
        fc.array(requestArb, { minLength: 1, maxLength: 60 }),
        fc.integer(),
        (windowSeconds, maxAmount, maxCount, requests, seed) => {
          const policy = parsePolicy(
            policyDoc(
              [{ id: 'all', match: {}, decision: 'allow' }],
              [{ id: 'cap', windowSeconds, maxAmount: String(maxAmount), maxCount }],
            ),
          );
          // Concurrent requests reach the party in an arbitrary interleaving; whichever runs, it
          // runs admitRequest against the one shared history and replaces it with the result.
          const order = shuffler(seed)(requests);
          let history: VelocityEvent[] = [];
          const admitted: VelocityEvent[] = [];
          let now = NOON_FRIDAY;
          for (const r of order) {
            now += r.step;
            const facts = spend([[ADDR.exchange, r.amount]], { keyId: r.keyId, label: null, fee: r.fee });
            const a = admitRequest({ policy, facts, now, history, approvers: [] });
            if (a.admitted) {
              expect(a.history).toEqual([...history, a.event]);
              admitted.push(a.event);
              history = a.history;
            } else {
              expect(a.history).toBe(history);
              expect(a.code).toBe('policy_velocity_exceeded');
            }
          }
          assertWithinCaps(admitted, windowSeconds * 1000, maxAmount, maxCount);
        },
      ),
      { numRuns: 300 },
    );
  }, 60_000);

  it('why admission must record: evaluating two concurrent requests first and recording both after breaks the cap', () => {
    const policy = parsePolicy(
      policyDoc([{ id: 'all', match: {}, decision: 'allow' }], [{ id: 'cap', windowSeconds: 3600, maxAmount: '100' }]),
    );
    const facts = spend([[ADDR.exchange, 60n]], { keyId: 'k1', label: null, fee: 0n });
    // Split check-then-record: both see the empty history, both pass, 120 > 100 gets through.
    const split = [evaluatePolicy(policy, facts, NOON_FRIDAY, []), evaluatePolicy(policy, facts, NOON_FRIDAY, [])];
    expect(split.map((d) => d.decision)).toEqual(['allow', 'allow']);
    // admitRequest: the second sees the first.
    const first = admitRequest({ policy, facts, now: NOON_FRIDAY, history: [], approvers: [] });
    const second = admitRequest({ policy, facts, now: NOON_FRIDAY, history: first.history, approvers: [] });
    expect([first.admitted, second.admitted]).toEqual([true, false]);
  });
});
