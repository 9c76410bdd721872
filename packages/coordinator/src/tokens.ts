/**
 * Bearer tokens. A token is shown once, when it is made; the store keeps only its SHA-256, so a
 * copy of the database cannot be replayed against the API. Lookup is by hash, so comparing the
 * secret never happens in a way whose timing depends on it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Role, Store, TokenRecord } from './store/types.js';

/** Every role, weakest last. */
export const ROLES: readonly Role[] = ['admin', 'requester', 'approver', 'auditor'];

/** True when `s` names a role. */
export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

/** Token names: what audit events and idempotency scopes record as the actor. */
export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** SHA-256 (hex) of a token's secret, the only form the store keeps. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A fresh random token: `glc_` and 32 random bytes, base64url. */
export function generateToken(random: Uint8Array = randomBytes(32)): string {
  return `glc_${Buffer.from(random).toString('base64url')}`;
}

/** Creates (or replaces) token `name` with `role`; returns the secret, which is not stored anywhere. */
export async function issueToken(store: Store, name: string, role: Role): Promise<{ token: string; record: TokenRecord }> {
  if (!TOKEN_NAME_PATTERN.test(name))
    throw new RangeError(`token name: expected 1-64 chars of A-Z a-z 0-9 . _ -, got ${JSON.stringify(name)}`);
  const token = generateToken();
  const record = await store.putToken(name, role, hashToken(token));
  return { token, record };
}

/** A token given by configuration: its secret in clear (from the environment) or only its hash. */
export type ConfiguredToken = { name: string; role: Role } & ({ token: string } | { sha256: string });

/**
 * Installs the configured tokens (coordinator.json, GLACIS_ADMIN_TOKEN) so they work from the first
 * request, and revokes every configured token the configuration no longer lists. Returns the
 * names revoked.
 */
export async function installTokens(store: Store, tokens: readonly ConfiguredToken[]): Promise<string[]> {
  // A secret in clear only ever comes from the environment; coordinator.json holds hashes.
  return store.syncConfiguredTokens(
    tokens.map((t) =>
      'token' in t
        ? { name: t.name, role: t.role, sha256: hashToken(t.token), source: 'env' as const }
        : { name: t.name, role: t.role, sha256: t.sha256, source: 'config' as const },
    ),
  );
}
