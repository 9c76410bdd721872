/**
 * `npm run bench`: measures the protocol layer against noble, the running service against the
 * crypto floor measured in the same run (throughput, latency, CPU per signature per role), the
 * service on a disk with slow fsyncs, and writes docs/benchmarks.md (+ .json, + .svg).
 * Figures are ratios against baselines of the same run: the machine is noisy.
 *
 *   node scripts/bench/run.mjs [--quick] [--protocol-quick] [--skip-protocol] [--out DIR]
 *                              [--profile] [--profile-dir DIR] [--fsync-delay-ms MS]
 *                              [--only ed25519:2-3,…] [--runs N] [--no-extras]
 *
 * --protocol-quick: the full service section with the short protocol section (a busy machine).
 * --profile: one extra window per configuration, profiled in every process (.cpuprofile files and
 *   a self-time summary in --profile-dir, default .bench/profiles) and counted (calls per signature).
 * --fsync-delay-ms: every fsync of the slow-disk section takes this much longer (default 10; 0 skips it).
 * --only, --runs, --no-extras: a narrower service section while working on one configuration
 *   (runs per point, default 3; --no-extras skips DKG latency and memory). The report is still written.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart } from './chart.mjs';
import { benchCoordinatorOnly } from './coordinator-only.mjs';
import { measureFloor } from './floor.mjs';
import { benchHaSection, renderHaSection } from './ha.mjs';
import { renderReport } from './report.mjs';
import { benchService } from './service.mjs';
import { slowFsyncEnv } from './slow-fsync.mjs';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    'protocol-quick': { type: 'boolean' },
    out: { type: 'string' },
    'skip-protocol': { type: 'boolean' },
    profile: { type: 'boolean' },
    'profile-dir': { type: 'string' },
    'fsync-delay-ms': { type: 'string' },
    only: { type: 'string' },
    runs: { type: 'string' },
    'no-extras': { type: 'boolean' },
  },
});
const only = values.only?.split(',').map((c) => {
  const [suite, size] = c.split(':');
  const [t, n] = (size ?? '').split('-').map(Number);
  return { suite, t, n };
});
const narrow = {
  ...(only ? { configs: only } : {}),
  ...(values.runs ? { runs: Number(values.runs) } : {}),
  ...(values['no-extras'] ? { extras: false } : {}),
};
const quick = values.quick ?? false;
const outDir = resolve(values.out ?? 'docs');
const profileDir = values.profile ? resolve(values['profile-dir'] ?? '.bench/profiles') : undefined;
const fsyncDelayMs = Number(values['fsync-delay-ms'] ?? 10);
const log = (s) => console.log(s);
const started = new Date();
const loadAtStart = loadavg()[0];
mkdirSync(outDir, { recursive: true });

let protocol = null;
if (!values['skip-protocol']) {
  const { benchProtocol } = await import('./protocol.mjs');
  log('[bench] protocol layer vs noble…');
  protocol = await benchProtocol({ quick: quick || (values['protocol-quick'] ?? false) });
}

/** Runs benchService in a fresh data directory, removed afterwards. */
async function inScratch(opts) {
  const dataDir = mkdtempSync(join(tmpdir(), 'glacis-bench-'));
  try {
    return await benchService({ dataDir, quick, log, ...opts });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

log('[bench] service on loopback (real processes)…');
const service = await inScratch({ profileDir, ...narrow });

let slowDisk = null;
if (fsyncDelayMs > 0) {
  log(`[bench] service with every fsync ${fsyncDelayMs} ms slower…`);
  const shimDir = mkdtempSync(join(tmpdir(), 'glacis-bench-shim-'));
  try {
    const env = slowFsyncEnv(shimDir, fsyncDelayMs);
    const slow = await inScratch({ ...narrow, env, configs: [{ suite: 'ed25519', t: 2, n: 3 }], extras: false });
    slowDisk = { fsyncDelayMs, method: 'LD_PRELOAD shim delaying fsync(2)/fdatasync(2) (scripts/bench/slow-fsync.c)', ...slow };
  } catch (e) {
    slowDisk = { fsyncDelayMs, skipped: e.message };
    log(`[bench] slow-disk section skipped: ${e.message}`);
  } finally {
    rmSync(shimDir, { recursive: true, force: true });
  }
}

log('[bench] the coordinator alone at 0, 1 and 2 aggregation workers…');
const coordinatorOnly = await benchCoordinatorOnly({ requests: quick ? 60 : 400 });

log('[bench] two coordinator instances on PostgreSQL vs one…');
const ha = await benchHaSection({ quick, log }).catch((e) => ({ skipped: `failed: ${e.message}` }));

log('[bench] crypto floor (noble alone, same run)…');
for (const cfg of service.signing) cfg.floor = measureFloor(cfg.suite, cfg.t, cfg.n, quick ? 5 : 30);
if (slowDisk?.signing)
  for (const cfg of slowDisk.signing)
    cfg.floor = service.signing.find((c) => c.suite === cfg.suite && c.t === cfg.t && c.n === cfg.n)?.floor;

const result = {
  startedAt: started.toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage1m: [loadAtStart, loadavg()[0]] },
  quick,
  protocol,
  service,
  slowDisk,
  coordinatorOnly,
  ha,
};
const skipRaw = (k, v) => (k === 'latenciesMs' || k === 'summaries' ? undefined : v);
writeFileSync(join(outDir, 'benchmarks.json'), `${JSON.stringify(result, skipRaw, 2)}\n`);
writeFileSync(join(outDir, 'benchmarks.svg'), `${renderChart(service.signing)}\n`);
writeFileSync(join(outDir, 'benchmarks.md'), `${renderReport(result)}\n${renderHaSection(ha)}`);
log(`[bench] wrote ${join(outDir, 'benchmarks.md')}, .json and .svg${profileDir ? `; profiles in ${profileDir}` : ''}`);
