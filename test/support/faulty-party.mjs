#!/usr/bin/env node
/**
 * TEST ONLY: `glacis-party serve` with a fault injected through the party's transport-fault hook,
 * so that no test switch lives in the production CLI. Needs the built packages (`npx tsc -b`).
 *
 *   node test/support/faulty-party.mjs --data-dir DIR --fault corrupt-shares
 *
 * corrupt-shares: every signature share is invalid; withdraw: every signing package is answered
 * with a withdrawal (party-faults.mjs). The keystore secret comes from the environment, as for
 * glacis-party (GLACIS_KEK_FILE, GLACIS_PASSPHRASE_FILE, …).
 */
import { parseArgs } from 'node:util';
import { resolveUnlockSource, runPartyDaemon } from '../../packages/party-node/dist/index.js';
import { corruptShares, withdrawEverySession } from './party-faults.mjs';

const FAULTS = {
  'corrupt-shares': (keystore) => corruptShares((keyId) => keystore.get(keyId).share.public.suite),
  withdraw: (keystore) => withdrawEverySession((keyId) => keystore.get(keyId).share),
};

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, fault: { type: 'string' } } });
const fault = FAULTS[values.fault ?? ''];
if (!values['data-dir'] || !fault) {
  process.stderr.write(`usage: faulty-party.mjs --data-dir DIR --fault ${Object.keys(FAULTS).join('|')}\n`);
  process.exit(64);
}
await runPartyDaemon({ dataDir: values['data-dir'], unlock: resolveUnlockSource({}, process.env), env: process.env, faults: fault });
process.exit(0);
