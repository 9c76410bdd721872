/**
 * CPU time of other processes, from /proc/<pid>/stat (user + system, in clock ticks of 10 ms on
 * Linux): what each role of the service spent during a measured window, read from outside so the
 * processes carry no benchmark code. Over a window of hundreds of signatures the tick is fine
 * enough. Linux only (the bench machine); elsewhere every reading is undefined.
 */
import { existsSync, readFileSync } from 'node:fs';

// sysconf(_SC_CLK_TCK): 100 on every Linux the bench runs on (x86-64 and arm64 kernels alike).
const TICK_MS = 10;

/** CPU ms `pid` has used so far (user + system), or undefined if it cannot be read. */
export function processCpuMs(pid) {
  const file = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(file)) return undefined;
  const stat = readFileSync(file, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) * TICK_MS;
}

/**
 * Starts a CPU window over named processes (`{ role: pid }`); `stop()` returns the CPU ms each
 * spent since, plus this process's own (`bench`: the load generator shares the cores).
 */
export function cpuWindow(pids) {
  const before = Object.fromEntries(Object.entries(pids).map(([role, pid]) => [role, processCpuMs(pid)]));
  const self = process.cpuUsage();
  return {
    stop() {
      const out = {};
      for (const [role, pid] of Object.entries(pids)) {
        const now = processCpuMs(pid);
        out[role] = now === undefined || before[role] === undefined ? undefined : now - before[role];
      }
      const own = process.cpuUsage(self);
      out.bench = (own.user + own.system) / 1000;
      return out;
    },
  };
}
