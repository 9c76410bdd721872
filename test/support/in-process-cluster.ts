/**
 * A coordinator orchestrator and N party nodes in one process, over real WebSockets on 127.0.0.1.
 * For fast tests of the orchestration logic; multi-process tests cover the real daemons.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, type IdentityKey, type Rng, toHex } from '@glacis/protocol';
import { pino } from 'pino';
import {
  createOrchestrator,
  type RunningOrchestrator,
  type TransportFaults,
} from '../../packages/coordinator/src/orchestrator/orchestrator.js';
import type { OrchestratorMetrics } from '../../packages/coordinator/src/orchestrator/ports.js';
import { type PartyConfig, partyConfigSchema } from '../../packages/party-node/src/config.js';
import { initKeystore, type Keystore, openKeystore } from '../../packages/party-node/src/keystore/keystore.js';
import type { UnlockSource } from '../../packages/party-node/src/keystore/sealing.js';
import { type PartyNode, startPartyNode } from '../../packages/party-node/src/node.js';
import type { PartyTransportFaults } from '../../packages/party-node/src/ports.js';
import { openPartyRecords } from '../../packages/party-node/src/records.js';
import { MemoryStore } from './memory-store.js';

export const rng: Rng = (n = 32) => new Uint8Array(randomBytes(n));

export const nullMetrics: OrchestratorMetrics = {
  sessionEnded: () => undefined,
  connectedParties: () => undefined,
  wsRejected: () => undefined,
  partyExcluded: () => undefined,
  partyLatency: () => undefined,
  signingSessionStarted: () => undefined,
  signatureShareReceived: () => undefined,
  lifecycleEnded: () => undefined,
  drillProved: () => undefined,
};

export interface InProcessCluster {
  /** The coordinator's identity: a test holding it can act as a hostile coordinator. */
  coordinatorIdentity: IdentityKey;
  store: MemoryStore;
  orchestrator: RunningOrchestrator;
  parties: Map<
    string,
    { node: PartyNode; identity: IdentityKey; dataDir: string; config: PartyConfig; keystore: Keystore; unlock: UnlockSource }
  >;
  url: string;
  /** (Re)starts a party; `unlock` overrides its keystore secret (after a restore). */
  startParty(name: string, unlock?: UnlockSource): Promise<void>;
  stopParty(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startInProcessCluster(
  names: string[],
  opts: {
    requestTimeoutMs?: number;
    dkgTimeoutMs?: number;
    lifecycleTimeoutMs?: number;
    drillTimeoutMs?: number;
    /** Keys the coordinator repairs by itself (true: every key). */
    autoRepair?: boolean;
    policy?: Partial<PartyConfig['policy']>;
    lifecycle?: Partial<PartyConfig['lifecycle']>;
    /** Other party.json fields of every party: pinned policy administrators, Bitcoin network, key labels. */
    partyConfig?: Partial<Pick<PartyConfig, 'policyAdmins' | 'bitcoinNetwork' | 'keyLabels'>>;
    /** Faults on the coordinator's side of every link (a hostile coordinator, a lossy network). */
    faults?: TransportFaults;
    /** Faults on one party's side of its link (a cheating party). */
    partyFaults?: Record<string, PartyTransportFaults>;
  } = {},
): Promise<InProcessCluster> {
  const root = mkdtempSync(join(tmpdir(), 'glacis-ip-'));
  const logger = pino({ level: process.env.GLACIS_TEST_LOG ?? 'silent' });
  const coordinatorIdentity = generateIdentity(rng);
  const identities = new Map(names.map((n) => [n, generateIdentity(rng)]));
  const kek = new Map(names.map((n) => [n, rng(32)]));
  const store = new MemoryStore(opts.requestTimeoutMs ?? 10_000);
  const orchestrator = createOrchestrator({
    identity: coordinatorIdentity,
    parties: new Map([...identities].map(([n, id]) => [n, id.publicKey])),
    store,
    logger,
    metrics: nullMetrics,
    dkgTimeoutMs: opts.dkgTimeoutMs ?? 30_000,
    lifecycleTimeoutMs: opts.lifecycleTimeoutMs ?? 30_000,
    drillTimeoutMs: opts.drillTimeoutMs ?? 10_000,
    autoRepair: () => opts.autoRepair ?? false,
    requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
    ...(opts.faults ? { faults: opts.faults } : {}),
  });
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  orchestrator.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/ws`;
  const parties: InProcessCluster['parties'] = new Map();

  async function startParty(name: string, unlockOverride?: UnlockSource): Promise<void> {
    const identity = identities.get(name) as IdentityKey;
    const dataDir = join(root, name);
    const unlock: UnlockSource = unlockOverride ?? { kind: 'kek', kek: kek.get(name) as Uint8Array };
    const keystore = existsSync(join(dataDir, 'keystore.json')) ? openKeystore(dataDir, unlock) : initKeystore(dataDir, unlock);
    if (!keystore.hasIdentity()) keystore.createIdentity(identity);
    const config = partyConfigSchema.parse({
      partyId: name,
      coordinator: { url, identityKey: toHex(coordinatorIdentity.publicKey) },
      peers: Object.fromEntries([...identities].filter(([n]) => n !== name).map(([n, id]) => [n, toHex(id.publicKey)])),
      policy: opts.policy ?? {},
      lifecycle: opts.lifecycle ?? {},
      reconnect: { initialMs: 50, maxMs: 500 },
      ...opts.partyConfig,
    });
    const node = startPartyNode({
      config,
      identity: keystore.loadIdentity(),
      keystore,
      records: await openPartyRecords(dataDir),
      logger: logger.child({ partyId: name }),
      ...(opts.partyFaults?.[name] ? { faults: opts.partyFaults[name] } : {}),
    });
    parties.set(name, { node, identity, dataDir, config, keystore, unlock });
    const deadline = Date.now() + 10_000;
    while (!orchestrator.allConnected([name])) {
      if (Date.now() > deadline) throw new Error(`${name} did not connect`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  for (const n of names) await startParty(n);
  return {
    coordinatorIdentity,
    store,
    orchestrator,
    parties,
    url,
    startParty,
    async stopParty(name) {
      await parties.get(name)?.node.stop();
      parties.delete(name);
      const deadline = Date.now() + 5_000;
      while (orchestrator.allConnected([name]) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    },
    async close() {
      for (const p of parties.values()) await p.node.stop();
      await orchestrator.close();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
