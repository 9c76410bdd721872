/**
 * docker/lb.mjs, the load balancer of the compose profile `ha`: connections are spread over the
 * instances whose /v1/health answers 200, and an instance that is down (refusing connections, or
 * not ready) gets none, so a desk behind it sees no error while one instance is away.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { startLoadBalancer } from '../docker/lb.mjs';

const servers: Server[] = [];
/** What docker/lb.mjs's startLoadBalancer returns. */
type LoadBalancer = { port: number; close(): Promise<void> };
let lb: LoadBalancer | undefined;
afterEach(async () => {
  await lb?.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A stand-in instance: answers every request with its name; `ready` decides /v1/health. */
async function instance(name: string, ready = () => true) {
  const s = createServer((req, res) => {
    if (req.url === '/v1/health') res.writeHead(ready() ? 200 : 503).end();
    else res.writeHead(200, { connection: 'close' }).end(name);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  return { server: s, backend: `127.0.0.1:${(s.address() as AddressInfo).port}` };
}

const ask = async (port: number) => (await fetch(`http://127.0.0.1:${port}/v1/x`, { headers: { connection: 'close' } })).text();

it('spreads connections over healthy instances and skips one that is down or not ready', async () => {
  let bReady = true;
  const a = await instance('a');
  const b = await instance('b', () => bReady);
  const c = await instance('c');
  const started: LoadBalancer = await startLoadBalancer({
    listen: '127.0.0.1:0',
    backends: [a.backend, b.backend, c.backend],
    checkMs: 100,
  });
  lb = started;
  const port = started.port;
  const first = new Set<string>();
  for (let i = 0; i < 6; i++) first.add(await ask(port));
  expect(first).toEqual(new Set(['a', 'b', 'c']));

  bReady = false; // not ready (its store is away): the next check takes it out
  await new Promise((r) => setTimeout(r, 300));
  const second = new Set<string>();
  for (let i = 0; i < 6; i++) second.add(await ask(port));
  expect(second).toEqual(new Set(['a', 'c']));

  await new Promise((r) => a.server.close(r)); // down: its connections are refused
  servers.splice(servers.indexOf(a.server), 1);
  const third: string[] = [];
  for (let i = 0; i < 6; i++) third.push(await ask(port));
  expect(new Set(third)).toEqual(new Set(['c']));
});
