/**
 * Is there a container runtime these tests can use? (../shared/notes/containers-and-netns.md §2)
 * A Docker engine testcontainers can reach (DOCKER_HOST or the usual sockets) and a compose
 * implementation: the `docker compose` v2 plugin (most users) or the standalone `docker-compose`
 * v1.29 (Debian, the CI machine). Container names differ between the two.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { getContainerRuntimeClient } from 'testcontainers';

const run = promisify(execFile);

export interface Compose {
  /** true: the standalone `docker-compose` (v1); false: the `docker compose` plugin (v2). */
  standalone: boolean;
  version: string;
}
export type RuntimeStatus = { ok: true; compose: Compose } | { ok: false; reason: string };

async function findCompose(): Promise<Compose | undefined> {
  for (const [standalone, cmd, args] of [
    [false, 'docker', ['compose', 'version', '--short']],
    [true, 'docker-compose', ['version', '--short']],
  ] as const) {
    try {
      const { stdout } = await run(cmd, [...args]);
      return { standalone, version: stdout.trim() };
    } catch {
      // not this one
    }
  }
  return undefined;
}

export async function containerRuntimeStatus(): Promise<RuntimeStatus> {
  const started = Date.now();
  try {
    await getContainerRuntimeClient();
  } catch (e) {
    return {
      ok: false,
      reason: `no container runtime (${(e as Error).message}); start a Docker engine or set DOCKER_HOST (detected in ${Date.now() - started} ms)`,
    };
  }
  const compose = await findCompose();
  if (!compose) return { ok: false, reason: 'a Docker engine is reachable but neither `docker compose` nor `docker-compose` is installed' };
  return { ok: true, compose };
}

/**
 * The status, or a thrown error when REQUIRE_CONTAINERS=1 and there is no runtime (a CI that is
 * meant to have one must not pass by skipping). Prints the one-line reason when skipping.
 */
export async function requireOrSkip(suite: string): Promise<RuntimeStatus> {
  const status = await containerRuntimeStatus();
  if (!status.ok) {
    if (process.env.REQUIRE_CONTAINERS === '1') throw new Error(`REQUIRE_CONTAINERS=1 but ${status.reason}`);
    console.warn(`[${suite}] SKIPPED: ${status.reason}`);
  }
  return status;
}

/** A compose service's container name, as testcontainers' getContainer() expects it for this compose flavour. */
export function containerName(compose: Compose, project: string, service: string): string {
  return compose.standalone ? `${project}_${service}_1` : `${service}-1`;
}
