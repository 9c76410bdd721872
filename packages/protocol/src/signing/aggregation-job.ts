/**
 * A session's aggregation as plain data, so it can run on another thread: the coordinator's ROAST
 * asks for it as an action (`aggregate`, when it runs with `deferAggregation`), a worker runs
 * `runAggregationJob`, and the verdict comes back as an input (`aggregated`). Inline, the
 * aggregator reaches the same verdict through the same `sessionVerdict`, so ROAST decides the
 * same way — the same signature, the same cheaters named — wherever the arithmetic ran.
 *
 * The commitments travel as affine points (`portableNonceCommitment`): they were decoded and
 * validated once, where they entered the coordinator, and are not decoded again.
 *
 * A session may sign several messages at once (an intent of width k: a PSBT with k listed
 * inputs): each signer then brings one commitment and one share per message, every message is its
 * own RFC 9591 session over the same signers, and the verdict is all k signatures or none.
 */
import { makeCommittee } from '../committee.js';
import {
  type KeyCache,
  nonceCommitmentFromPortable,
  type PortableNonceCommitment,
  preparePublicKeyPackage,
  prepareSession,
  type SigningSession,
} from '../fast/index.js';
import type { PublicKeyPackage } from '../keys.js';
import { getSuite } from '../suites.js';

/** Everything one session's aggregation needs (RFC 9591 §5.3 and §5.4), structured-cloneable. */
export interface AggregationJob {
  key: PublicKeyPackage;
  /** The messages the session signs, in order (one for most intents). */
  messages: readonly Uint8Array[];
  /** Per signer: one commitment and one share per message, in message order. */
  signers: readonly { partyId: string; commitments: readonly PortableNonceCommitment[]; shares: readonly bigint[] }[];
}

/**
 * What aggregation concluded: the signatures, one per message; or the parties whose shares are
 * invalid (for any message); or, with no culprit, why no signature can come out of this session
 * (an inconsistent key package).
 */
export type AggregationVerdict = { ok: true; signatures: Uint8Array[] } | { ok: false; culprits: string[]; reason: string };

/**
 * The verdict on `shares` (scalars by party, one per message) in the sessions `prepare` builds,
 * one per message (it may throw: then nobody is to blame). `partyOf` names a signer identifier's
 * party. Every session is looked at, so every cheater of every message is named.
 */
export function sessionVerdict(
  prepare: () => readonly SigningSession[],
  shares: ReadonlyMap<string, readonly bigint[]>,
  identifierOf: ReadonlyMap<string, string>,
  partyOf: ReadonlyMap<string, string>,
): AggregationVerdict {
  let sessions: readonly SigningSession[];
  try {
    sessions = prepare();
  } catch (e) {
    return { ok: false, culprits: [], reason: `aggregation failed: ${(e as Error).message}` };
  }
  const signatures: Uint8Array[] = [];
  const cheaters = new Set<string>();
  for (const [i, session] of sessions.entries()) {
    let out: ReturnType<SigningSession['aggregate']>;
    try {
      out = session.aggregate(new Map([...shares].map(([p, zs]) => [identifierOf.get(p) as string, zs[i] as bigint])));
    } catch (e) {
      return { ok: false, culprits: [], reason: `aggregation failed: ${(e as Error).message}` };
    }
    if (out.ok) signatures.push(out.signature);
    else if (out.cheaters.length === 0)
      return { ok: false, culprits: [], reason: 'aggregate signature invalid although every share is valid: inconsistent key package' };
    else for (const id of out.cheaters) cheaters.add(partyOf.get(id) ?? id);
  }
  if (cheaters.size === 0) return { ok: true, signatures };
  const culprits = [...cheaters].sort();
  return { ok: false, culprits, reason: `invalid signature share from ${culprits.join(', ')}` };
}

/** Runs `job` (on any thread): prepares each message's session from its parsed commitments, aggregates, names cheaters. */
export function runAggregationJob(job: AggregationJob, keys?: KeyCache): AggregationVerdict {
  const suite = getSuite(job.key.suite);
  const committee = makeCommittee(suite, job.key.committee, job.key.threshold);
  const shares = new Map(job.signers.map((s) => [s.partyId, s.shares]));
  return sessionVerdict(
    () => {
      const key = keys ? keys.get(job.key) : preparePublicKeyPackage(job.key);
      return job.messages.map((message, i) =>
        prepareSession(
          key,
          job.signers.map((s) => ({
            identifier: committee.identifierOf.get(s.partyId) as string,
            commitment: nonceCommitmentFromPortable(suite, s.commitments[i] as PortableNonceCommitment),
          })),
          message,
        ),
      );
    },
    shares,
    committee.identifierOf,
    committee.partyOf,
  );
}
