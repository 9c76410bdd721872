import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countApprovals } from './approvals.js';

const groups = {
  treasury: ['alice', 'bob', 'carol'],
  risk: ['carol', 'dave'],
  board: ['erin'],
};

describe('approval counting: each approver counts once, for one group', () => {
  const table: [string, { group: string; min: number }[], string[], boolean][] = [
    ['2 of treasury: alice + bob', [{ group: 'treasury', min: 2 }], ['alice', 'bob'], true],
    ['2 of treasury: alice twice is one approver', [{ group: 'treasury', min: 2 }], ['alice', 'alice'], false],
    ['2 of treasury: a non-member does not count', [{ group: 'treasury', min: 2 }], ['alice', 'dave'], false],
    [
      '1 treasury + 1 risk: carol (in both) alone cannot fill both seats',
      [
        { group: 'treasury', min: 1 },
        { group: 'risk', min: 1 },
      ],
      ['carol'],
      false,
    ],
    [
      '1 treasury + 1 risk: carol + alice — carol must take the risk seat',
      [
        { group: 'treasury', min: 1 },
        { group: 'risk', min: 1 },
      ],
      ['carol', 'alice'],
      true,
    ],
    [
      '2 treasury + 1 risk: alice, carol, dave — a greedy pass giving carol to treasury first still succeeds',
      [
        { group: 'treasury', min: 2 },
        { group: 'risk', min: 1 },
      ],
      ['carol', 'alice', 'dave'],
      true,
    ],
    [
      '2 treasury + 2 risk: alice, bob, carol, dave — carol goes to risk with dave',
      [
        { group: 'treasury', min: 2 },
        { group: 'risk', min: 2 },
      ],
      ['carol', 'dave', 'alice', 'bob'],
      true,
    ],
    [
      '2 treasury + 2 risk: alice, carol, dave — one short',
      [
        { group: 'treasury', min: 2 },
        { group: 'risk', min: 2 },
      ],
      ['alice', 'carol', 'dave'],
      false,
    ],
    ['unknown group: nobody can fill it', [{ group: 'nobody', min: 1 }], ['alice'], false],
    ['an inherited property name is not a group', [{ group: 'constructor', min: 1 }], ['alice'], false],
  ];
  for (const [name, requirement, approvers, satisfied] of table) {
    it(name, () => {
      const r = countApprovals(requirement, groups, approvers);
      expect(r.satisfied).toBe(satisfied);
      const seated = Object.values(r.assignment).flat();
      // Nobody sits twice, everyone seated approved and belongs to the group they fill.
      expect(new Set(seated).size).toBe(seated.length);
      for (const [g, who] of Object.entries(r.assignment)) {
        for (const w of who) expect(approvers.includes(w) && (groups as Record<string, string[]>)[g]?.includes(w)).toBe(true);
      }
    });
  }

  it('reports the shortfall per group', () => {
    const r = countApprovals(
      [
        { group: 'treasury', min: 2 },
        { group: 'board', min: 1 },
      ],
      groups,
      ['alice'],
    );
    expect(r.shortfall).toEqual([
      { group: 'treasury', have: 1, need: 2 },
      { group: 'board', have: 0, need: 1 },
    ]);
  });
});

/** Exhaustive search: can every seat get a different approver who belongs to its group? */
function bruteForce(requirements: { group: string; min: number }[], groups: Record<string, string[]>, approvers: string[]): boolean {
  const seats = requirements.flatMap((r) => Array.from({ length: r.min }, () => r.group));
  const people = [...new Set(approvers)];
  const used = new Set<string>();
  const fill = (i: number): boolean => {
    if (i === seats.length) return true;
    for (const p of people) {
      if (used.has(p) || !groups[seats[i] as string]?.includes(p)) continue;
      used.add(p);
      if (fill(i + 1)) return true;
      used.delete(p);
    }
    return false;
  };
  return fill(0);
}

describe('approval counting agrees with exhaustive search', () => {
  it('for random small groups, requirements and approvers', () => {
    const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];
    const GROUPS = ['g1', 'g2', 'g3', 'g4'];
    fc.assert(
      fc.property(
        fc.tuple(...GROUPS.map(() => fc.subarray(KEYS))),
        fc.uniqueArray(fc.record({ group: fc.constantFrom(...GROUPS), min: fc.integer({ min: 1, max: 3 }) }), {
          selector: (r) => r.group,
          maxLength: 4,
        }),
        fc.array(fc.constantFrom(...KEYS), { maxLength: 8 }),
        (members, requirements, approvers) => {
          const groups = Object.fromEntries(GROUPS.map((g, i) => [g, members[i] as string[]]));
          const r = countApprovals(requirements, groups, approvers);
          expect(r.satisfied).toBe(bruteForce(requirements, groups, approvers));
          const seated = Object.values(r.assignment).flat();
          expect(new Set(seated).size).toBe(seated.length);
        },
      ),
      { numRuns: 500 },
    );
  });
});
