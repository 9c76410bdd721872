/**
 * The image's HEALTHCHECK (exit 0 healthy, 1 not), from what docker/entrypoint.mjs records in
 * /tmp/glacis-status.json:
 *   coordinator  GET /v1/health on its own port answers 200 (store usable, ready to serve)
 *   lb           GET /v1/health through it answers 200 (some coordinator instance behind it is ready)
 *   party        its link to the coordinator is up (parties listen on nothing, so there is
 *                nothing to probe: the entrypoint follows the party's "connected to coordinator"
 *                and "disconnected from coordinator" log lines)
 */
import { readFileSync } from 'node:fs';

const fail = (why) => {
  console.error(`unhealthy: ${why}`);
  process.exit(1);
};

let s;
try {
  s = JSON.parse(readFileSync('/tmp/glacis-status.json', 'utf8'));
} catch {
  fail('still starting (no /tmp/glacis-status.json yet)');
}
if (s.role === 'coordinator' || s.role === 'lb') {
  try {
    const res = await fetch(`http://127.0.0.1:${s.port}/v1/health`, { signal: AbortSignal.timeout(3000) });
    if (res.status !== 200) fail(`/v1/health answered ${res.status}: ${await res.text()}`);
  } catch (e) {
    fail(`/v1/health: ${e.message}`);
  }
} else if (s.role === 'party') {
  if (!s.connected) fail(`not connected to the coordinator (since ${s.at})`);
} else {
  fail(`unknown role ${JSON.stringify(s.role)}`);
}
process.exit(0);
