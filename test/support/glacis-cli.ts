/** The desk's CLI, `glacis` (packages/client), run as a desk runs it, for multi-process tests. */
import { execFile } from 'node:child_process';
// @ts-expect-error plain ESM module without types
import { CLIENT_CLI } from '../../scripts/local-cluster.mjs';

/**
 * `glacis <args> --url <baseUrl>` with the token in the environment. Asynchronous: a run of
 * spawnSync calls would hold the test's event loop while the coordinator closes idle keep-alive
 * connections, and the test's next fetch would pick a closed one.
 */
export function runGlacis(
  baseUrl: string,
  token: string,
  ...args: string[]
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLIENT_CLI, ...args, '--url', baseUrl],
      { encoding: 'utf8', env: { ...process.env, GLACIS_TOKEN: token } },
      (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}
