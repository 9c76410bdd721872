/** A validated committee: party ids, their FROST identifiers, and the threshold. */
import { ProtocolError } from './errors.js';
import type { Suite } from './suites.js';
import { COORDINATOR, MAX_PARTIES, partyIdSchema } from './wire/primitives.js';

export interface Committee {
  /** Party ids, sorted. */
  readonly members: readonly string[];
  readonly threshold: number;
  /** FROST identifier of each member. */
  readonly identifierOf: ReadonlyMap<string, string>;
  /** Member owning each FROST identifier. */
  readonly partyOf: ReadonlyMap<string, string>;
  has(partyId: string): boolean;
}

/** Validates `members` and `threshold` for `suite`: 2 ≤ t ≤ n ≤ 255, distinct names and identifiers. */
export function makeCommittee(suite: Suite, members: readonly string[], threshold: number): Committee {
  if (members.length < 2 || members.length > MAX_PARTIES) {
    throw new ProtocolError('invalid_threshold', `committee size ${members.length} out of range 2..${MAX_PARTIES}`);
  }
  if (!Number.isSafeInteger(threshold) || threshold < 2 || threshold > members.length) {
    throw new ProtocolError('invalid_threshold', `threshold ${threshold} out of range 2..${members.length}`);
  }
  const identifierOf = new Map<string, string>();
  const partyOf = new Map<string, string>();
  for (const m of members) {
    if (!partyIdSchema.safeParse(m).success || m === COORDINATOR) throw new ProtocolError('invalid_identifier', `invalid party id "${m}"`);
    if (identifierOf.has(m)) throw new ProtocolError('duplicate_identifier', `party ${m} appears twice in the committee`);
    const id = suite.identifierFor(m);
    if (partyOf.has(id)) throw new ProtocolError('duplicate_identifier', `parties ${partyOf.get(id)} and ${m} derive the same identifier`);
    identifierOf.set(m, id);
    partyOf.set(id, m);
  }
  const sorted = [...members].sort();
  return Object.freeze({ members: sorted, threshold, identifierOf, partyOf, has: (p: string) => identifierOf.has(p) });
}
