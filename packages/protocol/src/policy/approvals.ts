/**
 * Approval counting for `require` rules: "2 of treasury and 1 of risk".
 *
 * Decision: an approver key counts ONCE, for one group, even when it is a member of several. A
 * requirement is met when the approvals can be assigned to the groups' seats so that every seat
 * is taken by a different person: a treasurer who also sits on the risk committee cannot supply
 * both the treasury and the risk approval alone (separation of duties is the point of naming two
 * groups). Whether such an assignment exists is a bipartite matching question, answered exactly
 * (augmenting paths) rather than by a greedy pass that could assign the shared approver to the
 * wrong group and report a false shortfall.
 *
 * The caller has verified each approval's signature over the request digest and passes only the
 * approver keys that verified; this module never sees signatures.
 */
import type { ApprovalRequirement } from './schema.js';

/** A group's members by name; only own properties count (no prototype lookups). */
export function groupMembers(groups: Readonly<Record<string, readonly string[]>>, name: string): readonly string[] {
  return Object.hasOwn(groups, name) ? (groups[name] ?? []) : [];
}

/** How far a group is from its requirement under the best assignment. */
export interface GroupShortfall {
  group: string;
  /** Approvers assigned to the group. */
  have: number;
  need: number;
}

/** The outcome of counting approvals against a requirement. */
export interface ApprovalCount {
  satisfied: boolean;
  /** Which approver filled which group (each approver appears at most once overall). */
  assignment: Record<string, string[]>;
  /** Groups left short under a maximum assignment; empty when satisfied. */
  shortfall: GroupShortfall[];
}

/**
 * Counts `approvers` (verified approver keys; duplicates and non-members are ignored) against
 * `requirements` under the one-person-one-seat rule above.
 */
export function countApprovals(
  requirements: readonly ApprovalRequirement[],
  groups: Readonly<Record<string, readonly string[]>>,
  approvers: Iterable<string>,
): ApprovalCount {
  // Seats: group g owns `min` consecutive seat numbers.
  const seats: string[] = [];
  const seatsOf = new Map<string, number[]>();
  for (const r of requirements) {
    seatsOf.set(
      r.group,
      Array.from({ length: r.min }, () => seats.push(r.group) - 1),
    );
  }
  // The required groups each key belongs to (keys in none of them cannot fill a seat).
  const groupsOf = new Map<string, string[]>();
  for (const r of requirements) {
    for (const key of new Set(groupMembers(groups, r.group))) {
      const list = groupsOf.get(key);
      if (list === undefined) groupsOf.set(key, [r.group]);
      else list.push(r.group);
    }
  }
  const people = [...new Set(approvers)].filter((key) => groupsOf.has(key));
  const eligible = people.map((key) => (groupsOf.get(key) ?? []).flatMap((g) => seatsOf.get(g) ?? []));
  const holder: (number | undefined)[] = seats.map(() => undefined);

  // Kuhn's augmenting paths: seat a person, moving earlier holders to other seats if they can.
  const place = (person: number, visited: Set<number>): boolean => {
    const mine = eligible[person] ?? [];
    // A free seat first: most approvals need no reshuffling at all.
    const free = mine.find((seat) => holder[seat] === undefined && !visited.has(seat));
    if (free !== undefined) {
      holder[free] = person;
      return true;
    }
    for (const seat of mine) {
      if (visited.has(seat)) continue;
      visited.add(seat);
      if (place(holder[seat] as number, visited)) {
        holder[seat] = person;
        return true;
      }
    }
    return false;
  };
  // Each person is tried once, and the search stops when every seat is taken. Seats a failed
  // search visited stay useless until the matching changes, so `visited` is reset only after a
  // success. With at most 64 seats per rule (POLICY_LIMITS) this stays cheap even for a hostile
  // document listing thousands of approver keys.
  let visited = new Set<number>();
  let filled = 0;
  for (let p = 0; p < people.length && filled < seats.length; p++) {
    if (place(p, visited)) {
      filled++;
      visited = new Set();
    }
  }

  const assignment: Record<string, string[]> = {};
  for (const r of requirements) assignment[r.group] = [];
  for (const [seat, person] of holder.entries()) {
    if (person !== undefined) assignment[seats[seat] as string]?.push(people[person] as string);
  }
  const shortfall = requirements
    .map((r) => ({ group: r.group, have: assignment[r.group]?.length ?? 0, need: r.min }))
    .filter((s) => s.have < s.need);
  return { satisfied: shortfall.length === 0, assignment, shortfall };
}

/** The groups `approvers` leave short (empty: the requirement is met). */
export function unsatisfiedGroups(
  requirements: readonly ApprovalRequirement[],
  groups: Readonly<Record<string, readonly string[]>>,
  approvers: Iterable<string>,
): GroupShortfall[] {
  return countApprovals(requirements, groups, approvers).shortfall;
}
