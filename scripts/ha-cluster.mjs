/**
 * Several coordinator instances on one PostgreSQL database, and N party nodes linked to every
 * instance, as real OS processes on 127.0.0.1 (docs/operations.md, "Several coordinators"). Used by
 * the HA tests (test/ha) and the two-instance bench (scripts/bench/ha.mjs).
 *
 * Initialisation is local-cluster.mjs's: one coordinator data directory (one identity key, shared
 * by every instance, as in a real deployment), the parties pinned to it both ways. Each instance
 * keeps its port across restarts, so the parties find it again.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COORDINATOR_CLI, initCluster, PARTY_CLI, waitFor } from './local-cluster.mjs';

function startProcess(cli, args, logFile, env) {
  const fd = openSync(logFile, 'a');
  return spawn(process.execPath, [cli, ...args], { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
}

async function exit(child, signal) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

/**
 * Starts `instances` coordinators (instance i on `databaseUrls[i]`, or `databaseUrl`) and `parties`
 * party nodes, and resolves once every party is connected to every instance.
 */
export async function startHaCluster({
  dataDir,
  databaseUrl,
  databaseUrls = [],
  instances = 2,
  parties = 3,
  env = {},
  partyEnv = {},
  timeoutMs = 60_000,
}) {
  const init = initCluster({ dataDir, parties, adminToken: undefined });
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const coordDir = join(dataDir, 'coordinator');
  const names = Array.from({ length: instances }, (_, i) => `coordinator-${i + 1}`);
  const children = new Map();
  const ports = new Map();

  /** (Re)starts one instance, with `extraEnv` besides `env` (a crash point); after its first start it keeps its port. */
  const startInstance = (name, extraEnv = {}) => {
    const i = names.indexOf(name);
    const portFile = join(dataDir, `${name}.port`);
    if (existsSync(portFile)) writeFileSync(portFile, '');
    const child = startProcess(COORDINATOR_CLI, ['serve', '--data-dir', coordDir], join(logDir, `${name}.log`), {
      GLACIS_HOST: '127.0.0.1',
      GLACIS_PORT: String(ports.get(name) ?? 0),
      GLACIS_PORT_FILE: portFile,
      GLACIS_ADMIN_TOKEN: init.adminToken,
      GLACIS_DATABASE_URL: databaseUrls[i] ?? databaseUrl,
      ...env,
      ...extraEnv,
    });
    children.set(name, child);
    return child;
  };
  const waitPort = (name) =>
    waitFor(
      () => {
        const f = join(dataDir, `${name}.port`);
        const v = existsSync(f) ? readFileSync(f, 'utf8').trim() : '';
        return v ? Number(v) : undefined;
      },
      `${name} to listen`,
      timeoutMs,
    );
  // The first starts one after the other: the first instance migrates the empty database.
  for (const name of names) {
    startInstance(name);
    ports.set(name, await waitPort(name));
  }
  const baseUrl = (name) => `http://127.0.0.1:${ports.get(name)}`;
  const wsUrls = names.map((n) => `ws://127.0.0.1:${ports.get(n)}/v1/ws`);
  const kekFile = (p) => join(dataDir, 'secrets', `${p}.kek`);
  const startParty = (p) => {
    const child = startProcess(PARTY_CLI, ['serve', '--data-dir', join(dataDir, p)], join(logDir, `${p}.log`), {
      GLACIS_KEK_FILE: kekFile(p),
      GLACIS_COORDINATOR_URLS: wsUrls.join(','),
      ...partyEnv,
    });
    children.set(p, child);
    return child;
  };
  for (const p of init.parties) startParty(p);
  const health = async (name) => (await fetch(`${baseUrl(name)}/v1/health`)).json();

  const cluster = {
    dataDir,
    names,
    parties: init.parties,
    adminToken: init.adminToken,
    children,
    baseUrl,
    startInstance,
    startParty,
    /** Resolves once `name` answers /v1/health again. */
    waitInstance: (name, ms = timeoutMs) =>
      waitFor(async () => (await fetch(`${baseUrl(name)}/v1/health`)).status > 0, `${name} to answer`, ms),
    /** Resolves when `n` parties (default all) are connected to instance `name` (default every instance). */
    async waitConnected(n = init.parties.length, name, ms = timeoutMs) {
      for (const each of name ? [name] : names) {
        await waitFor(async () => (await health(each)).parties?.connected >= n, `${n} parties connected to ${each}`, ms);
      }
    },
    kill: (name, signal = 'SIGKILL') => exit(children.get(name), signal),
    async stop() {
      await Promise.all([...children.values()].map((c) => exit(c, 'SIGTERM')));
    },
  };
  await cluster.waitConnected();
  return cluster;
}
