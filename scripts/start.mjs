/**
 * `npm start`: a local cluster (coordinator + GLACIS_PARTIES party nodes, real processes on
 * 127.0.0.1) that stays up until interrupted. See API.md "Running it locally".
 */
import { resolve } from 'node:path';
import { startLocalCluster } from './local-cluster.mjs';

const dataDir = resolve(process.env.GLACIS_DATA_DIR ?? '.glacis');
const port = Number(process.env.GLACIS_PORT ?? 8700);
const parties = Number(process.env.GLACIS_PARTIES ?? 3);
if (!Number.isInteger(parties) || parties < 2 || parties > 255) {
  console.error(`GLACIS_PARTIES must be an integer in 2..255, got "${process.env.GLACIS_PARTIES}"`);
  process.exit(2);
}

let cluster;
try {
  cluster = await startLocalCluster({ dataDir, port, parties, adminToken: process.env.GLACIS_ADMIN_TOKEN });
} catch (e) {
  console.error(`glacis: could not start the local cluster: ${e.message}\n(logs: ${dataDir}/logs)`);
  process.exit(1);
}
const tokenLine = cluster.generatedToken
  ? `admin token (generated, saved in ${dataDir}/admin-token): ${cluster.adminToken}`
  : process.env.GLACIS_ADMIN_TOKEN
    ? 'admin token: from GLACIS_ADMIN_TOKEN'
    : `admin token: ${cluster.adminToken} (from ${dataDir}/admin-token)`;
console.log(`Glacis is up: coordinator ${cluster.baseUrl}, ${cluster.parties.length} parties connected (${cluster.parties.join(', ')})
${tokenLine}
data and logs: ${dataDir}
Try it (see README.md):
  export TOKEN=$(cat ${dataDir}/admin-token)
  curl -s -X POST '${cluster.baseUrl}/v1/keys?wait=10000' -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"suite":"ed25519","threshold":2}'
Check a key against the parties' own identities (${cluster.trustFile}), not the coordinator's word:
  GLACIS_TOKEN=$TOKEN npm run -s glacis -- keys verify <keyId> --trust ${cluster.trustFile} --url ${cluster.baseUrl}
Press Ctrl-C to stop.`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('stopping…');
  await cluster.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const [name, child] of cluster.children) {
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(`glacis: ${name} exited (${signal ?? code}); see ${dataDir}/logs/${name}.log`);
  });
}
