/**
 * The two-instance configuration of `npm run bench`: signing throughput with two coordinator
 * instances on one PostgreSQL database (clients spread over both, parties linked to both), against
 * one instance on the same kind of database, same machine, same run.
 *
 *   node scripts/bench/ha.mjs [--quick] [--json FILE]
 *
 * The database: GLACIS_BENCH_DATABASE_URL (or GLACIS_TEST_DATABASE_URL), a role that may create
 * databases; each configuration gets a fresh one. Without either, `benchHaSection` runs this file
 * under Debian's `pg_virtualenv -t` (a throwaway cluster) when that is installed, and reports the
 * section as skipped otherwise.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startHaCluster } from '../ha-cluster.mjs';
import { percentile } from './stats.mjs';

const SELF = fileURLToPath(import.meta.url);

async function withDatabase(adminUrl, fn) {
  const name = `glacis_bench_${randomBytes(5).toString('hex')}`;
  const admin = async (sql) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/** Closed-loop load: client c signs through instance c mod instances. */
async function load(cluster, keyId, concurrency, perClient) {
  const latencies = [];
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      const base = cluster.baseUrl(cluster.names[c % cluster.names.length]);
      for (let i = 0; i < perClient; i++) {
        const message = randomBytes(32).toString('hex');
        const s = performance.now();
        const res = await fetch(`${base}/v1/keys/${keyId}/signatures?wait=30000`, {
          method: 'POST',
          headers: { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ message }),
        });
        const body = await res.json();
        if (res.status === 200 && body.status === 'completed') latencies.push(performance.now() - s);
        else failed++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    concurrency,
    signatures: sorted.length,
    failed,
    signaturesPerSecond: sorted.length / seconds,
    p50Ms: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
  };
}

async function measure(databaseUrl, instances, quick, log) {
  const dataDir = mkdtempSync(join(tmpdir(), 'glacis-bench-ha-'));
  const cluster = await startHaCluster({
    dataDir,
    databaseUrl,
    instances,
    parties: 3,
    env: { GLACIS_LOG_LEVEL: 'warn', GLACIS_SIGNING_TIMEOUT_MS: '600000' },
    partyEnv: { GLACIS_LOG_LEVEL: 'warn' },
  });
  try {
    const res = await fetch(`${cluster.baseUrl(cluster.names[0])}/v1/keys?wait=30000`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ suite: 'ed25519', threshold: 2 }),
    });
    const key = await res.json();
    if (key.status !== 'active') throw new Error(`DKG failed: ${JSON.stringify(key)}`);
    await load(cluster, key.keyId, 4, quick ? 2 : 10); // warm-up: JIT, commitment pools on every instance
    const points = [];
    for (const concurrency of [1, 16]) {
      const perClient = quick
        ? Math.max(1, Math.ceil(8 / concurrency))
        : Math.max(5, Math.ceil((concurrency === 1 ? 40 : 320) / concurrency));
      const p = await load(cluster, key.keyId, concurrency, perClient);
      points.push(p);
      log(
        `  ${instances} instance(s) on PostgreSQL, ed25519 2-of-3 c=${concurrency}: ${p.signaturesPerSecond.toFixed(1)} sig/s, p50 ${p.p50Ms?.toFixed(1)} ms`,
      );
    }
    return { instances, points };
  } finally {
    await cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs both configurations against the server at `adminUrl`. */
export async function benchHa({ adminUrl, quick = false, log = () => {} }) {
  const configs = [];
  for (const instances of [1, 2]) configs.push(await withDatabase(adminUrl, (url) => measure(url, instances, quick, log)));
  return { suite: 'ed25519', t: 2, n: 3, configs };
}

/** The section for run.mjs: measured, run under pg_virtualenv, or skipped with the reason. */
export async function benchHaSection({ quick = false, log = () => {} }) {
  const url = process.env.GLACIS_BENCH_DATABASE_URL || process.env.GLACIS_TEST_DATABASE_URL;
  if (url) return benchHa({ adminUrl: url, quick, log });
  const have = spawnSync('sh', ['-c', 'command -v pg_virtualenv'], { encoding: 'utf8' });
  if (have.status !== 0) return { skipped: 'no PostgreSQL: set GLACIS_BENCH_DATABASE_URL, or install Debian’s postgresql (pg_virtualenv)' };
  const out = join(mkdtempSync(join(tmpdir(), 'glacis-bench-ha-json-')), 'ha.json');
  const cmd = `export GLACIS_BENCH_DATABASE_URL="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$PGDATABASE"; exec node "${SELF}" --json "${out}"${quick ? ' --quick' : ''}`;
  execFileSync('pg_virtualenv', ['-t', 'sh', '-c', cmd], { stdio: ['ignore', 'inherit', 'inherit'] });
  return JSON.parse(readFileSync(out, 'utf8'));
}

const f1 = (x) => (x === undefined ? '–' : x.toFixed(1));

/** Markdown for docs/benchmarks.md. */
export function renderHaSection(ha) {
  const head = '## Two coordinator instances (PostgreSQL)\n\n';
  if (!ha || ha.skipped) return `${head}Not measured in this run: ${ha?.skipped ?? 'not run'}.\n`;
  const [one, two] = ha.configs;
  const rows = one.points.map((p, i) => {
    const q = two.points[i];
    return `| ${p.concurrency} | ${f1(p.signaturesPerSecond)} | ${f1(q.signaturesPerSecond)} | ${f1((q.signaturesPerSecond / p.signaturesPerSecond) * 100)} % | ${f1(p.p50Ms)} / ${f1(q.p50Ms)} ms |`;
  });
  return `${head}ed25519 2-of-3, three parties linked to every instance, closed-loop clients spread over the
instances, each configuration on a fresh PostgreSQL database on this machine (\`scripts/bench/ha.mjs\`).
Every process shares the same cores, so a second instance adds availability here, not capacity:
what the ratio shows is what the leases, the shared audit lock and the database cost.

| concurrency | 1 instance, sig/s | 2 instances, sig/s | 2 vs 1 | p50, 1 / 2 instances |
| --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
}

if (process.argv[1] === SELF) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'string' } } });
  const log = (s) => console.log(s);
  log('[bench] two coordinator instances on PostgreSQL vs one…');
  const result = await benchHaSection({ quick: values.quick ?? false, log });
  if (values.json) writeFileSync(values.json, JSON.stringify(result));
  else process.stdout.write(renderHaSection(result));
}
