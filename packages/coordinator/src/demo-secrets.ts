/**
 * The admin token committed in deploy/secrets/ is public (it is in the repository's history): a
 * coordinator accepting it is open to anyone. It is recognised by its SHA-256, and refused unless
 * GLACIS_DEMO=1 says this is the local demo. A test keeps the hash equal to the committed file.
 */

/** SHA-256 (hex) of deploy/secrets/admin-token, the demo admin token. */
export const DEMO_ADMIN_TOKEN_SHA256 = 'd657c5f48b05ad654513481e9f1fdeaaaf60603e6be5aee4fc751e8c7c888c0d';

/** True when the environment declares the local demo, the only place the demo secrets may serve. */
export function isDemoMode(env: Record<string, string | undefined>): boolean {
  return env.GLACIS_DEMO === '1';
}
