/** Renders the benchmark JSON as docs/benchmarks.md. */

const f1 = (v) => (v === undefined || v === null ? '–' : Number(v).toFixed(1));
const f2 = (v) => (v === undefined || v === null ? '–' : Number(v).toFixed(2));
const pctOf = (a, b) => `${((100 * a) / b).toFixed(0)} %`;
const verdict = (ok) => (ok ? '**met**' : '**not met**');

/** A generic table for arrays of flat objects (the protocol section's rows). */
function table(rows) {
  if (!Array.isArray(rows) || rows.length === 0 || typeof rows[0] !== 'object') return '';
  const cols = Object.keys(rows[0]).filter((k) => rows.every((r) => typeof r[k] !== 'object' || r[k] === null));
  const cell = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 3 : 1)) : String(v ?? '–'));
  return [
    `| ${cols.join(' | ')} |`,
    `| ${cols.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${cols.map((c) => cell(r[c])).join(' | ')} |`),
  ].join('\n');
}

function protocolSection(protocol) {
  if (!protocol) return '_The protocol section did not run._\n';
  const parts = [];
  if (protocol.note) parts.push(protocol.note);
  for (const [name, value] of Object.entries(protocol)) {
    const t = table(value);
    if (t) parts.push(`### ${name}\n\n${t}`);
  }
  return `${parts.join('\n\n')}\n`;
}

/** The CPU columns of a service point: each role's ms per signature, the total, and its ratio to the floor. */
function cpuCells(p, floor) {
  const c = p.cpuMsPerSignature;
  if (!c) return '– | – | – | –';
  const parties = Object.entries(c).filter(([k]) => k.startsWith('party-'));
  const partyMean = parties.reduce((a, [, v]) => a + (v ?? 0), 0) / Math.max(1, parties.length);
  return `${f1(c.coordinator)} | ${f1(partyMean)} × ${parties.length} | ${f1(c.total)} | ${f2(c.total / floor.cpuPerSignatureMs)}`;
}

/** The targets of issue 12, each with its measurement and verdict. */
function targetRows(s) {
  const byCfg = (suite, t, n) => s.signing.find((c) => c.suite === suite && c.t === t && c.n === n);
  const at = (cfg, c) => cfg?.points.find((p) => p.concurrency === c);
  const rows = [];
  const throughput = (suite, t, n, goal) => {
    const cfg = byCfg(suite, t, n);
    const p64 = at(cfg, 64);
    if (!cfg || !p64) return;
    const frac = p64.signaturesPerSecond / cfg.floor.floorSignaturesPerSecond;
    rows.push(
      `| throughput at concurrency 64, ${suite} ${t}-of-${n} | ≥ ${goal * 100} % of floor | ${f1(p64.signaturesPerSecond)} sig/s = ${pctOf(p64.signaturesPerSecond, cfg.floor.floorSignaturesPerSecond)} of ${f1(cfg.floor.floorSignaturesPerSecond)} | ${verdict(frac >= goal)} |`,
    );
  };
  throughput('ed25519', 2, 3, 0.75);
  throughput('secp256k1-tr', 2, 3, 0.75);
  throughput('ed25519', 3, 5, 0.6);
  for (const cfg of s.signing) {
    const p8 = at(cfg, 8);
    const p64 = at(cfg, 64);
    if (!p8 || !p64) continue;
    rows.push(
      `| no collapse under load, ${cfg.suite} ${cfg.t}-of-${cfg.n} | throughput at 64 ≥ at 8 | ${f1(p64.signaturesPerSecond)} vs ${f1(p8.signaturesPerSecond)} sig/s | ${verdict(p64.signaturesPerSecond >= p8.signaturesPerSecond)} |`,
    );
  }
  for (const suite of ['ed25519', 'secp256k1-tr']) {
    const cfg = byCfg(suite, 2, 3);
    const p1 = at(cfg, 1);
    if (!cfg || !p1) continue;
    const bound = 1.5 * cfg.floor.criticalPathMs + 5;
    rows.push(
      `| p50 latency at concurrency 1, ${suite} 2-of-3 | ≤ 1.5 × critical path + 5 ms = ${f1(bound)} ms | ${f1(p1.p50Ms)} ms | ${verdict(p1.p50Ms <= bound)} |`,
    );
  }
  for (const [suite, goal] of [
    ['ed25519', 0.5],
    ['secp256k1-tr', 0.75],
  ]) {
    const cfg = byCfg(suite, 2, 3);
    const p64 = at(cfg, 64);
    const total = p64?.cpuMsPerSignature?.total;
    if (!cfg || total === undefined) continue;
    const frac = total / cfg.floor.cpuPerSignatureMs;
    rows.push(
      `| Glacis CPU per signature (all roles, concurrency 64), ${suite} 2-of-3 | ≤ ${goal} × noble's lean path | ${f1(total)} ms = ${f2(frac)} × ${f1(cfg.floor.cpuPerSignatureMs)} ms | ${verdict(frac <= goal)} |`,
    );
  }
  const dkg35 = s.dkg.find((d) => d.t === 3 && d.n === 5);
  if (dkg35) rows.push(`| DKG 3-of-5 (ed25519) | < 1500 ms | ${f1(dkg35.latencyMs)} ms | ${verdict(dkg35.latencyMs < 1500)} |`);
  if (s.memory) {
    rows.push(
      `| coordinator RSS with ${s.memory.pendingRequests} pending requests | ≤ 256 MB | ${f1(s.memory.rssAfterMb)} MB (${f1(s.memory.perRequestKb)} KB/request over ${f1(s.memory.rssBeforeMb)} MB idle) | ${verdict(s.memory.rssAfterMb <= 256)} |`,
    );
  }
  return rows;
}

/** The slow-disk section: the same configuration with every fsync slower, next to the normal run. */
function slowDiskSection(r) {
  const d = r.slowDisk;
  if (!d) return '_Not run (`--fsync-delay-ms 0`)._';
  if (d.skipped) return `_Skipped: ${d.skipped}._`;
  const normal = (cfg, c) =>
    r.service.signing.find((x) => x.suite === cfg.suite && x.t === cfg.t && x.n === cfg.n)?.points.find((p) => p.concurrency === c);
  const rows = d.signing.flatMap((cfg) =>
    cfg.points.map((p) => {
      const n = normal(cfg, p.concurrency);
      return `| ${cfg.suite} ${cfg.t}-of-${cfg.n} | ${p.concurrency} | ${f1(n?.signaturesPerSecond)} | ${f1(p.signaturesPerSecond)} | ${n ? f2(p.signaturesPerSecond / n.signaturesPerSecond) : '–'} | ${f1(n?.p50Ms)} | ${f1(p.p50Ms)} |`;
    }),
  );
  return `Every \`fsync\` and \`fdatasync\` of every process made ${d.fsyncDelayMs} ms slower (${d.method}). Each release
is durable (share log, approvals, the coordinator's commit) before it is acknowledged, so without group commit
a party's releases would be serialised at one fsync each (≤ ${f1(1000 / d.fsyncDelayMs)} per second per party) and
the coordinator's three commits per signature would cap it near ${f1(1000 / (3 * d.fsyncDelayMs))} signatures/s.

| configuration | concurrency | sig/s, normal disk | sig/s, slow fsync | ratio | p50 ms, normal | p50 ms, slow |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}`;
}

/**
 * The hot path's cost model: what one signature costs each role in the primitives the protocol
 * section measured (one session per signature, t signers), next to the CPU the role was measured
 * spending at concurrency 64. The difference is everything else: HTTP, JSON and zod, the store,
 * the machine, the event loop, the garbage collector.
 */
function costModel(r) {
  const p = r.protocol;
  if (!p) return '_The cost model needs the protocol section (run without `--skip-protocol`)._';
  const row = (table, suite, size) => p[table]?.find((x) => x.suite === suite && x.size === size);
  const sign = p.identity?.find((x) => x.op === 'sign')?.oursMs;
  const verify = p.identity?.find((x) => x.op === 'verify')?.oursMs;
  const lines = [];
  for (const cfg of r.service.signing) {
    const size = `${cfg.t}-of-${cfg.n}`;
    const agg = row('aggregation', cfg.suite, size)?.oursMs;
    const share = row('signShare', cfg.suite, size)?.oursMs;
    const commit = row('commit', cfg.suite, size)?.oursMs;
    const cpu = cfg.points.find((x) => x.concurrency === 64)?.cpuMsPerSignature;
    if (agg === undefined || share === undefined || commit === undefined || sign === undefined || verify === undefined || !cpu) continue;
    const coordinator = agg + cfg.t * (sign + verify);
    const signer = share + commit + sign + verify;
    const parties = Object.entries(cpu).filter(([k]) => k.startsWith('party-'));
    const partiesMeasured = parties.reduce((a, [, v]) => a + (v ?? 0), 0);
    lines.push(
      `| ${cfg.suite} ${size} | coordinator | ${f2(agg)} + ${cfg.t} × (${f2(sign)} + ${f2(verify)}) = ${f2(coordinator)} | ${f1(cpu.coordinator)} | ${f1(cpu.coordinator - coordinator)} |`,
      `| | ${cfg.t} signers (${parties.length} parties measured) | ${cfg.t} × (${f2(share)} + ${f2(commit)} + ${f2(sign)} + ${f2(verify)}) = ${f2(cfg.t * signer)} | ${f1(partiesMeasured)} | ${f1(partiesMeasured - cfg.t * signer)} |`,
    );
  }
  return `Per signature, one session, t signers. **Coordinator**: the aggregator end to end (table
\`aggregation\`: the t commitments parsed where they enter — each point decoded once, Ed25519/Ed448
points checked by halving — the session context with its 2t-point MSM, one group-signature check),
plus t signing packages sealed and t shares opened (table \`identity\`: Ed25519 through OpenSSL).
**Each signer**: its whole \`sign\` (table \`signShare\`: package checks, the t − 1 peer commitments
parsed once, the session, the share), its next commitment (\`commit\`: two fixed-base
multiplications), one envelope opened and one sealed. The share log's fdatasync costs no CPU to
speak of (group-committed). "rest" = measured − modelled: HTTP, JSON and zod, canonical JSON for
signatures, the store, ROAST and the machine, WebSocket frames, GC. Under load add the sessions a
request really ran (\`--profile\` counts them: MSMs per signature).

| configuration | role | modelled crypto ms | measured CPU ms (concurrency 64) | rest ms |
| --- | --- | --- | --- | --- |
${lines.join('\n')}`;
}

/** The coordinator-only benchmark: 0 (inline), 1 and 2 aggregation workers. */
function coordinatorOnlySection(rows) {
  if (!rows?.length) return '_Not run._';
  return `The coordinator's signing machine alone, replaying a transcript (parties' commitments and shares
made before the clock starts; scripts/bench/coordinator-only.mjs): commitments parsed on the event loop,
ROAST, and each session's aggregation inline (0 workers) or on the worker pool. No HTTP, store or
envelopes. CPU is the whole process's (every thread).

${table(rows)}`;
}

/** What each store does to make a write durable (the same for every run, so not measured here). */
const STORE_DURABILITY = `### Which store gets which group commit

* **Parties**: \`shares.log\` and \`approvals.log\` appends are group-committed (protocol
  \`group-commit.ts\`): releases made while an fsync runs share the next one, none resolves before an
  fsync that began after it, so a share still leaves only once its record is durable (invariant 1).
* **Coordinator on SQLite** (one process, the default): every write commits with
  \`synchronous = NORMAL\` and then waits for a group fdatasync of the WAL off the event loop
  (\`store/wal-durability.ts\`); reads wait for what was committed before them. Fencing is unchanged:
  the fence is checked inside the write's transaction, so a stale holder is refused before anything
  is committed (and without waiting for an fsync); lease claims and renewals wait for no fsync of
  their own, since every write they fence comes later in the WAL and is durable only if they are.
* **Coordinator on PostgreSQL** (several instances): nothing of Glacis's own. A commit returns once
  the server has flushed its WAL, and the server already lets concurrent commits from the pool's
  connections share one flush (\`commit_delay\` / \`commit_siblings\` tune it); the coordinator never
  blocks its event loop on it. The slow-disk section measures the SQLite configuration only.
`;

/** The profile summaries (`--profile`): the top modules by self time per role, per signature. */
function profileSection(s) {
  if (!s.profiles?.length) return '';
  const parts = s.profiles.map((p) => {
    const roles = Object.entries(p.summaries ?? {});
    const lines = roles.map(
      ([role, sum]) =>
        `| ${role} | ${f1(sum.busyMs)} | ${sum.modules
          .slice(0, 5)
          .map((m) => `${m.name} ${f1(m.ms)}`)
          .join('; ')} |`,
    );
    return `**${p.label}** (${p.signatures} signatures):\n\n| role | busy ms/sig | top modules by self time (ms/sig) |\n| --- | --- | --- |\n${lines.join('\n')}`;
  });
  return `\n### CPU profiles under load (\`--profile\`)\n\n${parts.join('\n\n')}\n`;
}

export function renderReport(r) {
  const s = r.service;
  const targets = targetRows(s);

  const serviceRows = s.signing.flatMap((cfg) =>
    cfg.points.map(
      (p) =>
        `| ${cfg.suite} ${cfg.t}-of-${cfg.n} | ${p.concurrency} | ${f1(p.signaturesPerSecond)} | ${pctOf(p.signaturesPerSecond, cfg.floor.floorSignaturesPerSecond)} | ${f1(p.p50Ms)} | ${f1(p.p95Ms)} | ${f1(p.p99Ms)} | ${p.signatures}${p.failed ? ` (${p.failed} failed)` : ''} | ${p.runs.map((x) => x.toFixed(1)).join(', ')} |`,
    ),
  );
  const cpuRows = s.signing.flatMap((cfg) =>
    cfg.points.map(
      (p) =>
        `| ${cfg.suite} ${cfg.t}-of-${cfg.n} | ${p.concurrency} | ${cpuCells(p, cfg.floor)} | ${f1(cfg.floor.cpuPerSignatureMs)} | ${f2(p.sessionsPerSignature)} | ${f2(p.sharesPerSignature)} | ${f1(p.cpuMsPerSignature?.bench)} |`,
    ),
  );
  const floorRows = s.signing.map(
    (cfg) =>
      `| ${cfg.suite} ${cfg.t}-of-${cfg.n} | ${f2(cfg.floor.commitMs)} | ${f2(cfg.floor.signShareMs)} | ${f2(cfg.floor.aggregateMs)} | ${f2(cfg.floor.cpuPerSignatureMs)} | ${f1(cfg.floor.floorSignaturesPerSecond)} | ${f2(cfg.floor.criticalPathMs)} |`,
  );

  return `# Benchmarks

Generated by \`npm run bench\` on ${r.startedAt} (${r.machine.cpus} × ${r.machine.model}, Node ${r.machine.node})${r.quick ? ' — **quick mode**: small samples, not for conclusions' : ''}.
Load average (1 min) at the start and at the end: ${(r.machine.loadAverage1m ?? []).map((l) => l.toFixed(2)).join(' / ')}.
The machine is shared and noisy: read the **ratios** (each against a baseline measured in the same run),
not the absolute numbers. Raw data: [benchmarks.json](benchmarks.json); chart: [benchmarks.svg](benchmarks.svg).

![throughput and latency](benchmarks.svg)

## Targets

| target | goal | measured | |
| --- | --- | --- | --- |
${targets.join('\n')}

## 1. Protocol layer vs @noble/curves

Through Glacis's own protocol layer and through noble directly, in the same run (ratio = Glacis / noble
time; below 1 is faster than the library).

${protocolSection(r.protocol)}
## 2. Service (real processes on loopback)

Coordinator and party nodes as separate OS processes, as \`npm start\` runs them; closed-loop clients each
POST a signing request with \`?wait=\` and send the next when it settles. Median of ${s.signing[0]?.points[0]?.runs.length ?? 1} run(s)
(all runs listed). "of floor" = throughput / crypto floor of the same configuration.

| configuration | concurrency | signatures/s | of floor | p50 ms | p95 ms | p99 ms | signatures | runs (sig/s) |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${serviceRows.join('\n')}

CPU per signature, by role, in the same windows (user + system time of each process from
\`/proc/<pid>/stat\`, divided by the signatures completed): the coordinator, the mean of the committee's
parties (× how many), all of Glacis together, and that total over noble's lean path (section 3: the
floor's CPU per signature). Sessions and shares per signature are the coordinator's own counts in the
window (\`glacis_roast_sessions_total\`, \`glacis_signature_shares_total\`): one session and t shares is
the least a signature takes; more is signing work redone (a redundant ROAST session). "load generator"
is the bench's own HTTP clients, which share the cores.

| configuration | concurrency | coordinator ms | party ms | Glacis total ms | total / floor | floor ms | sessions/sig | shares/sig | load generator ms |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${cpuRows.join('\n')}
${profileSection(s)}
### Slow disk

${slowDiskSection(r)}

DKG latency (REST request to active key, ed25519):

| committee | median ms | runs ms |
| --- | --- | --- |
${s.dkg.map((d) => `| ${d.t}-of-${d.n} | ${f1(d.latencyMs)} | ${d.runsMs.map((x) => x.toFixed(0)).join(', ')} |`).join('\n')}

${s.memory ? `Coordinator memory: ${f1(s.memory.rssBeforeMb)} MB RSS idle, ${f1(s.memory.rssAfterMb)} MB with ${s.memory.pendingRequests} signing requests pending (their parties stopped), ${f1(s.memory.perRequestKb)} KB per pending request.` : ''}

### The coordinator alone: aggregation workers

${coordinatorOnlySection(r.coordinatorOnly)}

## 3. The crypto floor

noble alone, in this process, in the same run: per signature t × (commit + signShare) + aggregate, spread
over ${s.signing[0]?.floor.cores ?? 2} cores. The critical path (for latency) with preprocessed commitments is one
signShare (signers work in parallel) plus aggregate.

| configuration | commit ms | signShare ms | aggregate ms | CPU per signature ms | floor sig/s | critical path ms |
| --- | --- | --- | --- | --- | --- | --- |
${floorRows.join('\n')}

## Where the time goes: the hot path's cost model

${costModel(r)}

What was done, and why (each found in a profile or a count, \`npm run bench -- --profile\`):

* Online signing takes one round trip: the coordinator keeps preprocessed nonce commitments per
  (key, party) and starts a request's first ROAST session from them (\`commitment-pool.ts\`); the
  commitment a share brings along goes back to the pool when it is not needed.
* One session per signature under load (column sessions/sig): an open session waits for a missing
  signer as long as its backlog says it will take (\`signer-queues.ts\`: the packages sent to it before,
  whichever request, and its time per package by RFC 6298's estimator), so a busy but healthy signer's
  session is not doubled by a redundant one, and a silent one is still given up on within 5 s.
* Coordinator and parties sign through Glacis's fast path (\`packages/protocol/src/fast/\`, see
  architecture.md): each peer point decoded and validated once where it enters, one session context for
  verifying, aggregating and a signer's share, the aggregate verified once, per-share checks only to name
  cheaters. Ed25519/Ed448 points are checked for the prime-order subgroup by point halving rather than
  [L]P (table \`primeOrder\`); envelope signatures go through node:crypto (table \`identity\`).
* Nothing computed for nothing, found in the calls per signature (profile section): a party opened and
  re-checked its key file (AEAD, then the share against every commitment element) for each package —
  now once per file content; the signer whose share was being aggregated on a worker was handed a pooled
  commitment that the verdict then overwrote, and answers that came after their request ended were
  dropped — both leaked commitments the parties had made and the coordinator had decoded (3.3 made per
  signature for 2 used; now 1 per signer); the pool dropped what a burst of requests brought back.
  Envelope verification keeps each peer's OpenSSL key object; Ed25519's subgroup check reduces its
  field products by folding (2^255 ≡ 19) instead of a generic \`%\`.
* secp256k1's multiplications are Glacis's own (\`fast/secp256k1-*.ts\`, architecture.md): profiles put a
  third of every secp256k1-tr process's CPU in noble's MSM and a quarter of a signer's in noble's
  constant-time k·G, both on complete projective formulas with a \`%\` after every field operation. Now:
  a field product reduced by folding 2^256 ≡ 2^32 + 977, Jacobian mixed additions over affine tables, the
  session MSM split by the GLV endomorphism (about 0.35 of noble's time), nonce commitments by noble's
  blinded fixed-window algorithm on these formulas (about 0.6), z·G and c·PK from window tables with no
  doublings, compressed points decoded on the same field. A signer keeps its own commitment decoded from
  \`commitNonces\` instead of decoding it again. Every result is compared with noble's in the tests.
* Off the critical path (p50 at concurrency 1): the coordinator computes a session's binding factors,
  group commitment and challenge once its packages have left (ROAST's \`prepare_session\`), and a party
  makes the next commitments a share carries once the share before it has left (a spare per key).
* Aggregation runs on worker threads from three cores up; on one or two it runs on the event loop. On
  two cores shared with the parties (this bench, \`npm start\`) a thread cost the coordinator 1 to 1.5 ms
  more CPU per signature for no more throughput. A coordinator alone on two cores gets 1.00 to 1.2 times
  the throughput from one (section 2, "The coordinator alone": more for secp256k1-tr, whose aggregation
  costs more): set \`GLACIS_AGGREGATION_WORKERS=1\` on such a host.
* Durable writes are group-committed — the parties' share and approval logs and the coordinator's SQLite
  commits (section 2, "Slow disk").

${STORE_DURABILITY}`;
}
