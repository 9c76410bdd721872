/**
 * A small TCP load balancer in front of the coordinator instances' REST API (docker-compose.yml,
 * profile `ha`). A plain Node one rather than HAProxy or nginx: it runs in the image Glacis already
 * builds, so the profile needs no other image (the CI machine has no registry to pull one from and
 * its base image is a stand-in without a package manager).
 *
 * Each new connection goes to the next instance, round robin, among those whose GET /v1/health
 * answered 200 at the last check (every GLACIS_LB_CHECK_MS, default 2000); a connection the chosen
 * instance refuses is tried on the next one. Bytes pass through untouched, so HTTP keep-alive and
 * long `?wait=` requests work; a request cut by an instance's death is the client's to retry (with
 * its Idempotency-Key). Parties do not come through here: each links to every instance itself.
 *
 *   GLACIS_LB_LISTEN     host:port to listen on (default 0.0.0.0:8700)
 *   GLACIS_LB_BACKENDS   the instances, host:port,host:port,...
 */
import net from 'node:net';
import { pathToFileURL } from 'node:url';

const split = (hostPort) => {
  const i = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) };
};

/** Starts the balancer; resolves with its bound port and a close(). */
export async function startLoadBalancer({ listen, backends, checkMs = 2_000, log = () => {} }) {
  const pool = backends.map((b) => ({ ...split(b), name: b, up: true }));
  let next = 0;

  async function check(b) {
    let up = false;
    try {
      const res = await fetch(`http://${b.host}:${b.port}/v1/health`, { signal: AbortSignal.timeout(Math.max(500, checkMs)) });
      up = res.status === 200;
      await res.body?.cancel();
    } catch {
      up = false;
    }
    if (up !== b.up) log({ backend: b.name, up }, up ? 'backend up' : 'backend down');
    b.up = up;
  }
  const checks = setInterval(() => pool.forEach((b) => void check(b)), checkMs);
  checks.unref();
  await Promise.all(pool.map(check));

  /** Backends to try for one connection: the healthy ones from the next in turn, then the others. */
  function order() {
    const start = next++ % pool.length;
    const turn = pool.map((_, i) => pool[(start + i) % pool.length]);
    return [...turn.filter((b) => b.up), ...turn.filter((b) => !b.up)];
  }

  function connect(client, candidates) {
    const b = candidates.shift();
    if (!b) return client.destroy();
    const upstream = net.connect({ host: b.host, port: b.port });
    const refused = () => {
      b.up = false;
      upstream.destroy();
      connect(client, candidates);
    };
    upstream.once('error', refused);
    upstream.once('connect', () => {
      upstream.off('error', refused);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
    });
  }

  const server = net.createServer({ pauseOnConnect: true }, (client) => connect(client, order()));
  const { host, port } = split(listen);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  log({ listen, backends }, 'load balancer listening');
  return {
    port: server.address().port,
    async close() {
      clearInterval(checks);
      await new Promise((r) => server.close(r));
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const backends = (process.env.GLACIS_LB_BACKENDS ?? '').split(',').filter(Boolean);
  if (backends.length === 0) {
    console.error('lb: GLACIS_LB_BACKENDS is empty (host:port,host:port)');
    process.exit(64);
  }
  const log = (fields, msg) =>
    process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), name: 'glacis-lb', msg, ...fields })}\n`);
  await startLoadBalancer({
    listen: process.env.GLACIS_LB_LISTEN ?? '0.0.0.0:8700',
    backends,
    checkMs: Number(process.env.GLACIS_LB_CHECK_MS ?? 2_000),
    log,
  });
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
}
