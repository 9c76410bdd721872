/**
 * What both stores decide the same way inside a write's transaction, on the rows it read there:
 * the refusals (with their codes and words), the exclusions a request keeps, and which tokens the
 * configuration revokes or rewrites. Reading and writing stay in each store, in its one transaction.
 */
import { CoordinatorError } from '../errors.js';
import type { ConfiguredTokenHash, Exclusion, TokenSource } from './types.js';

/** Refuses a request on a key that does not exist (`not_found`) or is not active (`key_not_active`). */
export function assertKeyActive(key: { status: string } | undefined): void {
  if (!key) throw new CoordinatorError('not_found', 'no such key');
  if (key.status !== 'active') throw new CoordinatorError('key_not_active', `key is ${key.status}, not active`);
}

/** Refuses a refresh, repair or reshare while `pending` of them run on the key (not asked for a drill, which runs beside anything). */
export function assertNoShareOperation(pending: number): void {
  if (pending > 0) {
    throw new CoordinatorError('operation_in_progress', 'a refresh, repair or reshare of this key is pending; wait for it to settle');
  }
}

/**
 * Refuses a new signing request when `inFlight` unsettled ones of `this key` or of `the
 * coordinator` reach `cap` (429 `capacity_exceeded`).
 */
export function assertUnderCap(inFlight: number, cap: number, holder: 'this key' | 'the coordinator'): void {
  if (inFlight < cap) return;
  // Requests settle within the signing timeout, most within a second: a short wait is enough.
  throw new CoordinatorError('capacity_exceeded', `${holder} already has ${cap} signing requests in flight; retry when some settle`, {
    headers: { 'Retry-After': '1' },
  });
}

/**
 * Whether policy `p` is to be stored: false for the one already distributed (a retry), and
 * `policy_version_conflict` for one whose version is not newer than the distributed one.
 */
export function isNewPolicy(current: { digest: string; version: number } | undefined, p: { digest: string; version: number }): boolean {
  if (current && current.digest === p.digest) return false;
  if (current && p.version <= current.version) {
    throw new CoordinatorError(
      'policy_version_conflict',
      `policy version ${p.version} is not newer than the distributed version ${current.version}`,
    );
  }
  return true;
}

/** A request's exclusions (its `excluded` column) with `e` added, or undefined when `e` is there already. */
export function withExclusion(excludedColumn: string, e: Exclusion): string | undefined {
  const excluded = JSON.parse(excludedColumn) as Exclusion[];
  if (excluded.some((x) => x.partyId === e.partyId && x.reason === e.reason)) return undefined;
  excluded.push({ partyId: e.partyId, reason: e.reason });
  return JSON.stringify(excluded);
}

type StoredToken = { name: string; token_sha256: string; role: string; source: string };

/** Stored tokens the configuration installed and no longer lists: revoked at start (`token create` ones stay). */
export function revokedByConfiguration<T extends { name: string; source: string }>(
  stored: readonly T[],
  configured: readonly ConfiguredTokenHash[],
): T[] {
  const keep = new Set(configured.map((t) => t.name));
  return stored.filter((t) => t.source !== ('cli' satisfies TokenSource) && !keep.has(t.name));
}

/** The audit data of a token the configuration revoked. */
export const revocationAudit = (t: { name: string; source: string }) => ({
  name: t.name,
  source: t.source,
  reason: 'removed from the configuration',
});

/** Whether the stored `current` is configured token `t` already (nothing to write). */
export function isStoredAs(current: StoredToken | undefined, t: ConfiguredTokenHash): boolean {
  return current?.token_sha256 === t.sha256 && current.role === t.role && current.source === t.source;
}
