/**
 * Runs a process to its end without blocking this one: a long spawnSync would hold the event loop
 * while the coordinator closes its idle keep-alive connections, and the next fetch would pick one
 * up dead.
 */
import { spawn } from 'node:child_process';

/** What a finished process printed, and how it ended. */
export interface Finished {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function spawnCollect(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
