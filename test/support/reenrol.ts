/**
 * The documented enrolment of a party re-created after a lost disk (docs/operations.md, "Lost
 * disk"), step by step with the real CLIs: a new data directory and identity under the same party
 * id; every other party pins the new identity key and restarts; the coordinator admits it and
 * restarts; the new party pins its peers and the coordinator and starts; the desk pins the new key
 * and retires the old one in its trust file.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error plain ESM module without types
import { COORDINATOR_CLI, PARTY_CLI } from '../../scripts/local-cluster.mjs';
import { type Finished, spawnCollect } from './spawn.js';

/** What scripts/local-cluster.mjs returns (the parts used here). */
export interface LocalCluster {
  dataDir: string;
  wsUrl: string;
  coordinatorKey: string;
  parties: string[];
  trustFile: string;
  kekFile(name: string): string;
  kill(name: string, signal?: string): Promise<void>;
  startParty(name: string, env?: Record<string, string>): unknown;
  startCoordinator(env?: Record<string, string>): unknown;
  waitCoordinator(ms?: number): Promise<unknown>;
  waitConnected(n?: number, ms?: number): Promise<unknown>;
}

/** Runs a CLI of this repository to its end (without blocking: support/spawn.ts). */
export function run(bin: string, args: string[], env: Record<string, string> = {}): Promise<Finished> {
  return spawnCollect(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });
}

/** `run`, which must succeed; resolves its stdout. */
export async function cli(bin: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await run(bin, args, env);
  if (r.status !== 0) throw new Error(`${args.slice(0, 2).join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** A party's identity key as its own CLI prints it. */
export async function identityOf(cluster: LocalCluster, name: string): Promise<string> {
  const out = await cli(PARTY_CLI, ['identity', '--data-dir', join(cluster.dataDir, name)], { GLACIS_KEK_FILE: cluster.kekFile(name) });
  return JSON.parse(out).identityKey as string;
}

/**
 * Wipes `name` (its process killed, its data directory deleted) and re-creates it as documented.
 * `coordinatorEnv` is the environment the coordinator restarts with. Returns the new identity key.
 */
export async function wipeAndReenrol(cluster: LocalCluster, name: string, coordinatorEnv: Record<string, string> = {}): Promise<string> {
  const dir = join(cluster.dataDir, name);
  const kek = { GLACIS_KEK_FILE: cluster.kekFile(name) };
  const old = await identityOf(cluster, name);
  await cluster.kill(name, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  // 1. The new machine: a new identity under the same party id; its operator reads the key out.
  const created = JSON.parse(
    await cli(PARTY_CLI, ['init', '--data-dir', dir, '--party-id', name, '--coordinator-key', cluster.coordinatorKey], kek),
  );
  const fresh = created.identityKey as string;
  // 2. Every other party's operator pins it, and restarts the party.
  const others = cluster.parties.filter((p) => p !== name);
  for (const p of others) {
    await cli(PARTY_CLI, ['pin', '--data-dir', join(cluster.dataDir, p), '--peer', `${name}=${fresh}`]);
    await cluster.kill(p, 'SIGTERM');
    cluster.startParty(p);
  }
  // 3. The coordinator's operator admits it, and restarts the coordinator.
  await cli(COORDINATOR_CLI, [
    'add-party',
    '--data-dir',
    join(cluster.dataDir, 'coordinator'),
    '--party-id',
    name,
    '--identity-key',
    fresh,
  ]);
  await cluster.kill('coordinator', 'SIGTERM');
  cluster.startCoordinator(coordinatorEnv);
  await cluster.waitCoordinator();
  // 4. The new party pins its peers and the coordinator, and starts.
  const peers: string[] = [];
  for (const p of others) peers.push('--peer', `${p}=${await identityOf(cluster, p)}`);
  await cli(PARTY_CLI, ['pin', '--data-dir', dir, ...peers, '--coordinator', `${cluster.wsUrl}=${cluster.coordinatorKey}`]);
  cluster.startParty(name);
  await cluster.waitConnected();
  // 5. The desk pins the new identity and keeps the old one as retired.
  const trust = JSON.parse(readFileSync(cluster.trustFile, 'utf8')) as {
    parties: Record<string, string>;
    retired?: Record<string, string[]>;
  };
  trust.parties[name] = fresh;
  trust.retired = { ...trust.retired, [name]: [...(trust.retired?.[name] ?? []), old] };
  writeFileSync(cluster.trustFile, `${JSON.stringify(trust, null, 2)}\n`);
  return fresh;
}
