/**
 * docker-compose.yml, for real: the images are built, `up` brings a coordinator and three parties to
 * healthy with no other step, a 2-of-3 key is generated and signs through the published REST API;
 * a party reaches a listener on the Docker host until the host rule of docs/operations.md is in
 * place, and then only the coordinator; one party is cut off the internal LAN (the two others still sign), notices the cut (and the
 * coordinator reports it disconnected), comes back by itself once reconnected, and then has to sign: the last signature is made with another party
 * cut off instead.
 *
 * Needs a container runtime; without one every test here is skipped with a one-line reason
 * (REQUIRE_CONTAINERS=1 turns that into a failure). Builds with GLACIS_DEPS_STAGE (default
 * deps-npm, which needs the npm registry inside the build); with deps-prebuilt the image context is
 * prepared on the host first (scripts/prepare-image-context.sh), as .ci/run does.
 * Where Ryuk cannot be pulled, set TESTCONTAINERS_RYUK_DISABLED=true (afterAll cleans up anyway).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Dockerode from 'dockerode';
import {
  DockerComposeEnvironment,
  getContainerRuntimeClient,
  type StartedDockerComposeEnvironment,
  type StartedTestContainer,
  Wait,
} from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyIndependently } from '../support/independent-verify.js';
import { restClient } from '../support/rest-client.js';
import { containerName, requireOrSkip } from './container-runtime.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PROJECT = `glacistest${process.pid}${Date.now().toString(36)}`;
const DEPS_STAGE = process.env.GLACIS_DEPS_STAGE ?? 'deps-npm';
const SECRETS = join(ROOT, 'deploy/secrets');
// The host's name of the `lan` bridge: unique per run (at most 15 characters), so the firewall
// rule of docs/operations.md can name it without touching another project's bridge.
const BRIDGE = `glt${process.pid % 1_000_000}`;
const status = await requireOrSkip('compose');

type Key = { keyId: string; status: string; publicKey: string };

/**
 * testcontainers' Docker client. Its declarations import dockerode in a form this project's
 * settings (no esModuleInterop) read as `any`; typed here once.
 */
async function docker(): Promise<Dockerode> {
  return (await getContainerRuntimeClient()).container.dockerode;
}
type Signature = { status: string; signature: string | null; signers: string[] | null; error: unknown };

describe.skipIf(!status.ok)('docker-compose.yml: coordinator + 3 parties on an isolated LAN', () => {
  const compose = status.ok ? status.compose : { standalone: true, version: '' };
  const cname = (service: string) => containerName(compose, PROJECT, service);
  let env: StartedDockerComposeEnvironment;
  let api: ReturnType<typeof restClient>;
  let key: Key;
  const container = (service: string): StartedTestContainer => env.getContainer(cname(service));
  const lan = async () => (await docker()).getNetwork(`${PROJECT}_lan`);
  const logs = async (service: string) =>
    (await (await docker()).getContainer(container(service).getId()).logs({ stdout: true, stderr: true })).toString('utf8').split('\n');
  const count = (lines: string[], msg: string) => lines.filter((l) => l.includes(`"msg":"${msg}"`)).length;
  const health = async (service: string) =>
    (await (await docker()).getContainer(container(service).getId()).inspect()).State.Health?.Status;
  const waitFor = async (pred: () => Promise<boolean>, what: string, ms: number) => {
    const deadline = Date.now() + ms;
    while (!(await pred())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  /** From inside `service`: does a TCP connection to host:port open ('connected'), or why not? */
  const connectFrom = async (service: string, host: string, port: number): Promise<string> => {
    const probe = await container(service).exec([
      'node',
      '-e',
      `const s = require('net').connect({ host: ${JSON.stringify(host)}, port: ${port} });
       const done = (out) => { console.log(out); process.exit(0); };
       s.setTimeout(3000, () => done('timeout'));
       s.on('connect', () => done('connected'));
       s.on('error', (e) => done(e.code));`,
    ]);
    expect(probe.exitCode, probe.output).toBe(0);
    return probe.stdout.trim();
  };
  const sign = async (message: string): Promise<Signature> => {
    const r = await api<Signature>('POST', `/v1/keys/${key.keyId}/signatures?wait=30000`, { message });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.status, JSON.stringify(r.body)).toBe('completed');
    expect(verifyIndependently('ed25519', key.publicKey, Buffer.from(message, 'hex'), r.body.signature as string)).toBe(true);
    return r.body;
  };

  beforeAll(async () => {
    if (DEPS_STAGE === 'deps-prebuilt') execFileSync(join(ROOT, 'scripts/prepare-image-context.sh'), { stdio: 'inherit' });
    env = await new DockerComposeEnvironment(ROOT, 'docker-compose.yml')
      .withProjectName(PROJECT)
      .withBuild()
      // GLACIS_PUBLISH "127.0.0.1:" publishes the API on a free port of 127.0.0.1.
      // GLACIS_DEMO=1: the committed demo secrets of deploy/secrets/ are refused without it.
      .withEnvironment({ GLACIS_DEPS_STAGE: DEPS_STAGE, GLACIS_PUBLISH: '127.0.0.1:', GLACIS_DEMO: '1', GLACIS_LAN_BRIDGE: BRIDGE })
      .withClientOptions(compose.standalone ? { executable: { standalone: true } } : {})
      // Every service's own HEALTHCHECK: the coordinator answers /v1/health, each party is connected.
      .withDefaultWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(180_000)
      .up();
    const coordinator = container('coordinator');
    const adminToken = readFileSync(join(SECRETS, 'admin-token'), 'utf8').trim();
    api = restClient(`http://${coordinator.getHost()}:${coordinator.getMappedPort(8700)}`, adminToken);
  }, 900_000);

  afterAll(async () => {
    await env?.down({ timeout: 2_000, removeVolumes: true });
  }, 120_000);

  it('comes up with no other step: parties registered, pinned and connected; only the API is published', async () => {
    const parties = await api<{ parties: { partyId: string; connected: boolean }[] }>('GET', '/v1/parties');
    expect(parties.status).toBe(200);
    expect(parties.body.parties.map((p) => [p.partyId, p.connected])).toEqual([
      ['party-1', true],
      ['party-2', true],
      ['party-3', true],
    ]);
    const dockerode = await docker();
    const lanInfo = await (await lan()).inspect();
    expect(lanInfo.Internal).toBe(true);
    const secrets = ['admin-token', 'party-1.passphrase', 'party-2.kek', 'party-3.kek'].map((f) =>
      readFileSync(join(SECRETS, f), 'utf8').trim(),
    );
    for (const service of ['coordinator', 'party-1', 'party-2', 'party-3']) {
      const info = await dockerode.getContainer(container(service).getId()).inspect();
      const networks = Object.keys(info.NetworkSettings.Networks).sort();
      const published = Object.values(info.NetworkSettings.Ports ?? {}).filter((b) => b && b.length > 0);
      if (service === 'coordinator') {
        expect(networks).toEqual([`${PROJECT}_edge`, `${PROJECT}_lan`]);
        expect(published).toHaveLength(1);
      } else {
        expect(networks).toEqual([`${PROJECT}_lan`]);
        expect(published).toHaveLength(0);
      }
      expect(info.Config.User).toBe('10001:10001');
      // Secrets come in as files under /run/secrets, never through the environment.
      const environment = (info.Config.Env ?? []).join('\n');
      for (const s of secrets) expect(environment).not.toContain(s);
    }
  });

  it('a party listens on nothing and cannot reach past the LAN', async () => {
    const dockerode = await docker();
    const coordinator = await dockerode.getContainer(container('coordinator').getId()).inspect();
    const edgeIp = coordinator.NetworkSettings.Networks[`${PROJECT}_edge`]?.IPAddress as string;
    // The coordinator does answer on its edge address (from the host) ...
    expect((await fetch(`http://${edgeIp}:8700/v1/health`)).status).toBe(200);
    // ... but a party, on the internal LAN only, cannot get there (nor anywhere else off the LAN:
    // the engine drops whatever leaves the LAN's subnet). The probe stays on this machine.
    const probe = await container('party-1').exec([
      'node',
      '-e',
      `const fs = require('fs');
       // Sockets in LISTEN state (0A), except Docker's embedded DNS resolver on 127.0.0.11 (0B00007F).
       const listening = ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) => fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\\n').slice(1) : [])
         .map((l) => l.trim().split(/\\s+/)).filter((c) => c[3] === '0A' && !c[1].startsWith('0B00007F:'));
       const done = (out) => { console.log(JSON.stringify({ listening: listening.map((c) => c[1]), out })); process.exit(0); };
       const s = require('net').connect({ host: ${JSON.stringify(edgeIp)}, port: 8700 });
       s.setTimeout(3000, () => done('timeout'));
       s.on('connect', () => done('connected'));
       s.on('error', (e) => done(e.code));`,
    ]);
    expect(probe.exitCode, probe.output).toBe(0);
    const result = JSON.parse(probe.stdout.trim());
    expect(result.listening).toEqual([]);
    expect(result.out).not.toBe('connected');
  });

  it('a party reaches the Docker host unless the INPUT rule of docs/operations.md is in place', async (ctx) => {
    // The rule goes into this machine's firewall: only where the engine is local and we are root.
    const local = existsSync(`/sys/class/net/${BRIDGE}`);
    const root = process.getuid?.() === 0 && spawnSync('iptables', ['-V']).status === 0;
    ctx.skip(!local || !root, `needs a local engine (bridge ${BRIDGE}: ${local}) and root with iptables (${root})`);
    const gateway = (await (await lan()).inspect()).IPAM?.Config?.[0]?.Gateway as string;
    expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // The probe exits as soon as it is connected, which resets the connection: that is expected.
    const host = createServer((socket) => socket.on('error', () => undefined).end('host\n'));
    await new Promise<void>((resolve) => host.listen(0, gateway, resolve));
    const port = (host.address() as AddressInfo).port;
    const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    const block = /<!-- compose-host-rule -->\n```sh\n([\s\S]*?)\n```/.exec(doc)?.[1] ?? '';
    const rules = block
      .split('\n')
      .filter((l) => l.startsWith('iptables '))
      .map((l) => l.replaceAll('glacis-lan', BRIDGE));
    expect(rules.length).toBeGreaterThan(0);
    const iptables = (rule: string) => spawnSync('sh', ['-c', rule], { encoding: 'utf8' });
    try {
      // Without the rule: a listener on the host's bridge address answers a party (what the docs say).
      expect(await connectFrom('party-1', gateway, port)).toBe('connected');
      for (const rule of rules) expect(iptables(rule).status, rule).toBe(0);
      expect(await connectFrom('party-1', gateway, port)).not.toBe('connected');
      // The coordinator, on the same bridge, is still reachable: the rule closes the host only.
      expect(await connectFrom('party-1', 'coordinator', 8700)).toBe('connected');
    } finally {
      for (const rule of rules) iptables(rule.replace(' -I ', ' -D '));
      host.close();
    }
  });

  it('runs a 2-of-3 DKG and signs through the REST API', async () => {
    const r = await api<Key>('POST', '/v1/keys?wait=30000', { suite: 'ed25519', threshold: 2 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.status).toBe('active');
    key = r.body;
    await sign('0102');
  });

  it('a party cut off the LAN: the other two sign', async () => {
    await (await lan()).disconnect({ Container: container('party-2').getId() });
    const s = await sign('cafe01');
    expect(s.signers?.sort()).toEqual(['party-1', 'party-3']);
  });

  it('the cut-off party notices, comes back once reconnected, and signs', async () => {
    // Pings go unanswered both ways: the party gives the dead link up, and the coordinator reports it gone.
    await waitFor(async () => count(await logs('party-2'), 'disconnected from coordinator') >= 1, 'party-2 to notice the cut', 60_000);
    type Parties = { parties: { partyId: string; connected: boolean }[] };
    const connected = async (id: string) =>
      (await api<Parties>('GET', '/v1/parties')).body.parties.find((p) => p.partyId === id)?.connected;
    await waitFor(async () => (await connected('party-2')) === false, 'the coordinator to report party-2 disconnected', 60_000);
    const connectedBefore = count(await logs('party-2'), 'connected to coordinator');
    await (await lan()).connect({ Container: container('party-2').getId(), EndpointConfig: { Aliases: ['party-2'] } });
    await waitFor(
      async () => count(await logs('party-2'), 'connected to coordinator') > connectedBefore,
      'party-2 to reconnect by itself',
      60_000,
    );
    await waitFor(async () => (await health('party-2')) === 'healthy', 'party-2 to be healthy again', 60_000);
    expect(await connected('party-2')).toBe(true);
    // Now party-1 is cut off, so the signature needs party-2.
    await (await lan()).disconnect({ Container: container('party-1').getId() });
    try {
      const s = await sign('cafe02');
      expect(s.signers?.sort()).toEqual(['party-2', 'party-3']);
    } finally {
      await (await lan()).connect({ Container: container('party-1').getId(), EndpointConfig: { Aliases: ['party-1'] } });
    }
  });
});
