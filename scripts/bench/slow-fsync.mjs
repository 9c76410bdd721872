/**
 * The slow-disk section's fsync delay: builds slow-fsync.c (an LD_PRELOAD shim) with the system's
 * C compiler into `dir` and returns the environment that makes a process's every fsync and
 * fdatasync take `delayMs` longer. Nothing in Glacis's code knows about it.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('./slow-fsync.c', import.meta.url));

/** `{ LD_PRELOAD, GLACIS_BENCH_FSYNC_DELAY_US }`, or throws saying why the shim cannot be built. */
export function slowFsyncEnv(dir, delayMs) {
  const lib = join(dir, 'slow-fsync.so');
  const cc = spawnSync(process.env.CC ?? 'cc', ['-shared', '-fPIC', '-O2', '-o', lib, SOURCE, '-ldl'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) throw new Error(`cannot build the slow-fsync shim: ${cc.error?.message ?? cc.stderr}`);
  return { LD_PRELOAD: lib, GLACIS_BENCH_FSYNC_DELAY_US: String(Math.round(delayMs * 1000)) };
}
