/**
 * A session's aggregation as plain data, so it can run on another thread: the coordinator's ROAST
 * asks for it as an action (`aggregate`, when it runs with `deferAggregation`), a worker runs
 * `runAggregationJob`, and the verdict comes back as an input (`aggregated`). Inline, the
 * aggregator reaches the same verdict through the same `sessionVerdict`, so ROAST decides the
 * same way — the same signature, the same cheaters named — wherever the arithmetic ran.
 *
 * The commitments travel as affine points (`portableNonceCommitment`): they were decoded and
 * validated once, where they entered the coordinator, and are not decoded again.
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
  message: Uint8Array;
  signers: readonly { partyId: string; commitment: PortableNonceCommitment; share: bigint }[];
}

/**
 * What aggregation concluded: the signature; or the parties whose shares are invalid; or, with no
 * culprit, why no signature can come out of this session (an inconsistent key package).
 */
export type AggregationVerdict = { ok: true; signature: Uint8Array } | { ok: false; culprits: string[]; reason: string };

/**
 * The verdict on `shares` (scalars by party) in the session `prepare` builds (it may throw: then
 * nobody is to blame). `partyOf` names a signer identifier's party.
 */
export function sessionVerdict(
  prepare: () => SigningSession,
  shares: ReadonlyMap<string, bigint>,
  identifierOf: ReadonlyMap<string, string>,
  partyOf: ReadonlyMap<string, string>,
): AggregationVerdict {
  let session: SigningSession;
  try {
    session = prepare();
  } catch (e) {
    return { ok: false, culprits: [], reason: `aggregation failed: ${(e as Error).message}` };
  }
  let out: ReturnType<SigningSession['aggregate']>;
  try {
    out = session.aggregate(new Map([...shares].map(([p, z]) => [identifierOf.get(p) as string, z])));
  } catch (e) {
    return { ok: false, culprits: [], reason: `aggregation failed: ${(e as Error).message}` };
  }
  if (out.ok) return { ok: true, signature: out.signature };
  const culprits = out.cheaters.map((id) => partyOf.get(id) ?? id);
  return culprits.length > 0
    ? { ok: false, culprits, reason: `invalid signature share from ${culprits.join(', ')}` }
    : { ok: false, culprits, reason: 'aggregate signature invalid although every share is valid: inconsistent key package' };
}

/** Runs `job` (on any thread): prepares the session from its parsed commitments, aggregates, names cheaters. */
export function runAggregationJob(job: AggregationJob, keys?: KeyCache): AggregationVerdict {
  const suite = getSuite(job.key.suite);
  const committee = makeCommittee(suite, job.key.committee, job.key.threshold);
  const shares = new Map(job.signers.map((s) => [s.partyId, s.share]));
  return sessionVerdict(
    () =>
      prepareSession(
        keys ? keys.get(job.key) : preparePublicKeyPackage(job.key),
        job.signers.map((s) => ({
          identifier: committee.identifierOf.get(s.partyId) as string,
          commitment: nonceCommitmentFromPortable(suite, s.commitment),
        })),
        job.message,
      ),
    shares,
    committee.identifierOf,
    committee.partyOf,
  );
}
