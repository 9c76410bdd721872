/**
 * CPU profiles of the service's processes under load (`npm run bench -- --profile`): each process
 * runs with its V8 inspector on a loopback port (`--inspect=127.0.0.1:0`), and the bench starts and
 * stops the sampling profiler over the DevTools protocol around a measured window, so a profile
 * holds the load and nothing else (no start-up, no DKG). `summarizeProfile` folds a profile into
 * self time by function and by module: where the next millisecond is, read rather than guessed.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

/** The node flag that opens the inspector on a free loopback port. */
export const INSPECT_ARG = '--inspect=127.0.0.1:0';

/** The inspector URL a process printed in its log (`Debugger listening on ws://…`), if any yet. */
export function inspectorUrl(logFile) {
  const found = [...readFileSync(logFile, 'utf8').matchAll(/Debugger listening on (ws:\/\/\S+)/g)];
  return found.at(-1)?.[1];
}

/** A DevTools-protocol session with one process: `call(method, params)` → its result. */
export async function connectInspector(url) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let next = 1;
  const pending = new Map();
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data));
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`${msg.error.message} (${url})`));
    else p.resolve(msg.result);
  });
  return {
    call(method, params = {}) {
      const id = next++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    },
    close: () => ws.close(),
  };
}

/**
 * Starts the sampling profiler in every process of `urls` (`{ role: inspectorUrl }`), sampling
 * every `intervalUs`. `stop()` resolves with `{ role: profile }` (.cpuprofile JSON).
 */
export async function startProfiles(urls, intervalUs = 500) {
  const sessions = {};
  for (const [role, url] of Object.entries(urls)) {
    const s = await connectInspector(url);
    await s.call('Profiler.enable');
    await s.call('Profiler.setSamplingInterval', { interval: intervalUs });
    sessions[role] = s;
  }
  for (const s of Object.values(sessions)) await s.call('Profiler.start');
  return {
    async stop() {
      const out = {};
      for (const [role, s] of Object.entries(sessions)) {
        out[role] = (await s.call('Profiler.stop')).profile;
        await s.call('Profiler.disable');
        s.close();
      }
      return out;
    },
  };
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PSEUDO = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);

/**
 * The module a frame belongs to: a package under node_modules, a Glacis package's file
 * (`@glacis/protocol fast/session.js`), Node's own (`node:internal`), or V8's pseudo-frames.
 */
export function moduleOf(frame) {
  if (PSEUDO.has(frame.functionName) && !frame.url) return frame.functionName;
  const url = frame.url ?? '';
  if (url === '') return '(native)';
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? 'node:internal' : url;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + '/node_modules/'.length).split('/');
    const pkg = parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    // Workspace packages are linked under node_modules too: name their file.
    if (pkg?.startsWith('@glacis/')) return `${pkg} ${parts.slice(parts[2] === 'dist' ? 3 : 2).join('/')}`;
    return pkg;
  }
  const rel = relative(ROOT, path);
  const m = rel.match(/^packages\/([^/]+)\/dist\/(.+)$/);
  return m ? `@glacis/${m[1]} ${m[2]}` : rel;
}

/**
 * Self time of a profile: total and busy ms (idle excluded), the top functions and the top
 * modules, each with its ms and its share of the busy time. `per` divides every figure (e.g. by
 * the signatures of the window: ms per signature).
 */
export function summarizeProfile(profile, { top = 12, per = 1 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    // A sample's time is the gap until the next one (the last gets the mean gap).
    const dt = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : (profile.endTime - profile.startTime) / samples.length;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, dt));
  }
  const fns = new Map();
  const mods = new Map();
  let busyUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const f = byId.get(id).callFrame;
    totalUs += us;
    if (f.functionName === '(idle)') continue;
    busyUs += us;
    const mod = moduleOf(f);
    const fn = `${f.functionName || '(anonymous)'} ${mod}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    mods.set(mod, (mods.get(mod) ?? 0) + us);
  }
  const rows = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000 / per, share: busyUs > 0 ? us / busyUs : 0 }));
  return { totalMs: totalUs / 1000 / per, busyMs: busyUs / 1000 / per, functions: rows(fns), modules: rows(mods) };
}

/** A summary as markdown: two small tables (modules, functions). */
export function renderProfileSummary(title, s, unit = 'ms') {
  const pct = (x) => `${(100 * x).toFixed(1)} %`;
  const t = (rows) => rows.map((r) => `| ${r.name.replaceAll('|', '\\|')} | ${r.ms.toFixed(2)} | ${pct(r.share)} |`).join('\n');
  return [
    `#### ${title}: ${s.busyMs.toFixed(1)} ${unit} busy`,
    '',
    `| module (self time) | ${unit} | of busy |`,
    '| --- | --- | --- |',
    t(s.modules),
    '',
    `| function (self time) | ${unit} | of busy |`,
    '| --- | --- | --- |',
    t(s.functions),
    '',
  ].join('\n');
}
