/**
 * `npm run bench`: measures the protocol layer against noble, the running service against the
 * crypto floor measured in the same run, and writes docs/benchmarks.md (+ .json, + .svg).
 * Figures are ratios against baselines of the same run: the machine is noisy.
 *   node scripts/bench/run.mjs [--quick] [--protocol-quick] [--out DIR]
 * --protocol-quick: the full service section with the short protocol section (a busy machine).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart } from './chart.mjs';
import { measureFloor } from './floor.mjs';
import { benchHaSection, renderHaSection } from './ha.mjs';
import { renderReport } from './report.mjs';
import { benchService } from './service.mjs';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    'protocol-quick': { type: 'boolean' },
    out: { type: 'string' },
    'skip-protocol': { type: 'boolean' },
  },
});
const quick = values.quick ?? false;
const outDir = resolve(values.out ?? 'docs');
const log = (s) => console.log(s);
const started = new Date();
mkdirSync(outDir, { recursive: true });

let protocol = null;
if (!values['skip-protocol']) {
  try {
    const mod = await import('./protocol.mjs');
    log('[bench] protocol layer vs noble…');
    protocol = await mod.benchProtocol({ quick: quick || (values['protocol-quick'] ?? false) });
  } catch (e) {
    if (e.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    log('[bench] protocol section not available (scripts/bench/protocol.mjs missing)');
  }
}

log('[bench] service on loopback (real processes)…');
const dataDir = mkdtempSync(join(tmpdir(), 'glacis-bench-'));
let service;
try {
  service = await benchService({ dataDir, quick, log });
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

log('[bench] two coordinator instances on PostgreSQL vs one…');
const ha = await benchHaSection({ quick, log }).catch((e) => ({ skipped: `failed: ${e.message}` }));

log('[bench] crypto floor (noble alone, same run)…');
for (const cfg of service.signing) cfg.floor = measureFloor(cfg.suite, cfg.t, cfg.n, quick ? 5 : 30);

const result = {
  startedAt: started.toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
  quick,
  protocol,
  service,
  ha,
};
writeFileSync(join(outDir, 'benchmarks.json'), `${JSON.stringify(result, (k, v) => (k === 'latenciesMs' ? undefined : v), 2)}\n`);
writeFileSync(join(outDir, 'benchmarks.svg'), `${renderChart(service.signing)}\n`);
writeFileSync(join(outDir, 'benchmarks.md'), `${renderReport(result)}\n${renderHaSection(ha)}`);
log(`[bench] wrote ${join(outDir, 'benchmarks.md')}, .json and .svg`);
