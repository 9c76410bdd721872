/**
 * What the crash tests share: a local cluster whose coordinator logs its wire traffic and whose
 * parties kill themselves at crash points, and a supervisor that restarts any party that died.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SuiteId } from '@glacis/protocol';
// @ts-expect-error plain ESM module without types
import { startLocalCluster } from '../../scripts/local-cluster.mjs';
import { restClient } from './rest-client.js';

export type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;

export interface CrashCluster {
  cluster: Cluster;
  dataDir: string;
  /** The coordinator's wire log (GLACIS_WIRE_LOG): every envelope in and out, across restarts. */
  wireLog: string;
  /** Stops every process and removes the data (kept with GLACIS_KEEP_TEST_DATA). */
  stop(): Promise<void>;
}

/** A 3-party cluster in a fresh directory; `crashPoints` is GLACIS_TEST_CRASH_POINTS for the parties. */
export async function startCrashCluster(o: { name: string; crashPoints: string; env?: Record<string, string> }): Promise<CrashCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), `glacis-${o.name}-`));
  const wireLog = join(dataDir, 'wire.jsonl');
  const cluster: Cluster = await startLocalCluster({
    dataDir,
    port: 0,
    parties: 3,
    env: { GLACIS_WIRE_LOG: wireLog, ...o.env },
    partyEnv: { GLACIS_TEST_CRASH_POINTS: o.crashPoints, ...(o.env?.GLACIS_LOG_LEVEL ? { GLACIS_LOG_LEVEL: o.env.GLACIS_LOG_LEVEL } : {}) },
  });
  return {
    cluster,
    dataDir,
    wireLog,
    async stop() {
      await cluster.stop();
      if (!process.env.GLACIS_KEEP_TEST_DATA) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const exited = (child: { exitCode: number | null; signalCode: string | null } | undefined) =>
  child !== undefined && (child.exitCode !== null || child.signalCode !== null);

/** The parties still running. */
export const aliveParties = (cluster: Cluster): string[] => cluster.parties.filter((p: string) => !exited(cluster.children.get(p)));

/**
 * Restarts whichever party died (killed by the test or at a crash point) every `everyMs`, and
 * calls `tick` between rounds (a test kills from there). `stop()` ends it and resolves with the
 * number of restarts.
 */
export function superviseParties(cluster: Cluster, opts: { everyMs: number; tick?: () => Promise<void> }) {
  let running = true;
  let restarts = 0;
  const loop = (async () => {
    while (running) {
      for (const name of cluster.parties) {
        if (exited(cluster.children.get(name))) {
          cluster.startParty(name);
          restarts++;
        }
      }
      await opts.tick?.();
      await new Promise((r) => setTimeout(r, opts.everyMs));
    }
  })();
  return {
    async stop(): Promise<number> {
      running = false;
      await loop;
      return restarts;
    },
  };
}

/** A 2-of-3 key of `suite` on the cluster, through the REST API, once its DKG is done. */
export async function createActiveKey(cluster: Cluster, suite: SuiteId): Promise<{ keyId: string; publicKey: string; status: string }> {
  const api = restClient(cluster.baseUrl, cluster.adminToken);
  return (await api<{ keyId: string; publicKey: string; status: string }>('POST', '/v1/keys?wait=30000', { suite, threshold: 2 })).body;
}
