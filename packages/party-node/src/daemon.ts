/**
 * `glacis-party serve` as a function: opens a party's data directory, runs its node until SIGINT
 * or SIGTERM, and closes everything. The CLI calls it; so does the test-only entry point that
 * runs a party with transport faults (test/support/faulty-party.mjs).
 */
import { pino } from 'pino';
import { loadPartyConfig } from './config.js';
import { createCrashPoints } from './crash-points.js';
import { type Keystore, openKeystore } from './keystore/keystore.js';
import type { UnlockSource } from './keystore/sealing.js';
import { startPartyNode } from './node.js';
import type { PartyTransportFaults } from './ports.js';
import { openPartyRecords } from './records.js';

export interface DaemonOptions {
  dataDir: string;
  unlock: UnlockSource;
  /** GLACIS_COORDINATOR_URL, GLACIS_LOG_LEVEL, GLACIS_TEST_CRASH_POINTS. */
  env: NodeJS.ProcessEnv;
  /** Tests only: faults on the party's link, made once its keystore is open. */
  faults?: (keystore: Keystore) => PartyTransportFaults;
}

/** Runs the party of `dataDir` until SIGINT or SIGTERM. */
export async function runPartyDaemon(o: DaemonOptions): Promise<void> {
  const config = loadPartyConfig(o.dataDir, o.env);
  const logger = pino({ name: 'glacis-party', base: { partyId: config.partyId }, level: o.env.GLACIS_LOG_LEVEL ?? 'info' });
  const crash = createCrashPoints(o.env.GLACIS_TEST_CRASH_POINTS);
  const keystore = openKeystore(o.dataDir, o.unlock, { crash });
  const identity = keystore.loadIdentity();
  const node = startPartyNode({
    config,
    identity,
    keystore,
    records: await openPartyRecords(o.dataDir),
    logger,
    crash,
    ...(o.faults ? { faults: o.faults(keystore) } : {}),
  });
  if (o.faults) logger.warn('transport faults injected: this party misbehaves on purpose (test only)');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info('shutting down');
  await node.stop();
}
