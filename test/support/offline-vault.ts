/**
 * An offline (air-gapped) party in a multi-process cluster of scripts/local-cluster.mjs, set up as
 * docs/offline.md says: the party leaves the network for good (its daemon stopped), the
 * coordinator is restarted with the party `"mode": "offline"`, and the party's own policy allows
 * unattended offline work (`--yes`). From then on the party exists only as `glacis-party offline …`
 * commands on its data directory. Taken offline before any key exists, it joins key generation
 * through bundles (test/offline-party.test.ts); taken offline after an online DKG, it keeps the
 * share it made online (test/offline-deadline.test.ts, test/console.airgap.browser.test.ts).
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
// @ts-expect-error plain ESM module without types
import { PARTY_CLI, type startLocalCluster } from '../../scripts/local-cluster.mjs';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;

/** The vault of an offline party. */
export interface OfflineVault {
  /** Its data directory. */
  dir: string;
  /** `glacis-party offline <args>` on it (exit 0 expected); its last stdout line, parsed. */
  run(args: string[]): Promise<Record<string, unknown>>;
}

/**
 * Takes `party` offline, and stops the daemons of `stop` (so a request needs the vault). Resolves
 * once the coordinator is back with every other party connected.
 */
export async function takeOffline(cluster: Cluster, party: string, stop: readonly string[] = []): Promise<OfflineVault> {
  const dataDir: string = cluster.dataDir;
  for (const name of ['coordinator', party, ...stop]) await cluster.kill(name, 'SIGTERM');
  const configFile = join(dataDir, 'coordinator', 'coordinator.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8'));
  for (const p of config.parties) if (p.partyId === party) p.mode = 'offline';
  writeFileSync(configFile, JSON.stringify(config));
  const dir = join(dataDir, party);
  const partyFile = join(dir, 'party.json');
  const own = JSON.parse(readFileSync(partyFile, 'utf8'));
  writeFileSync(partyFile, JSON.stringify({ ...own, policy: { ...own.policy, unattendedOffline: true } }));
  cluster.startCoordinator();
  await cluster.waitCoordinator();
  await cluster.waitConnected(cluster.parties.length - 1 - stop.length);
  const env = { ...process.env, GLACIS_KEK_FILE: join(dataDir, 'secrets', `${party}.kek`) };
  return {
    dir,
    // Asynchronous: a blocking spawnSync would hold the test's event loop while the coordinator
    // closes idle keep-alive connections, and the test's next fetch could pick a closed one.
    run: (args) =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          [PARTY_CLI, 'offline', ...args, '--data-dir', dir, '--i-know-this-machine-is-online'],
          { env, encoding: 'utf8' },
          (err, stdout, stderr) => {
            expect(err?.code ?? 0, stderr).toBe(0);
            resolve(JSON.parse(stdout.trim().split('\n').at(-1) as string));
          },
        );
      }),
  };
}
