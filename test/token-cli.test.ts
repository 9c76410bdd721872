/**
 * Token rotation with `glacis-coordinator token create` / `token delete` against a running
 * coordinator (docs/operations.md): the new token works at once, both work during the overlap, the
 * deleted one is refused at once — no restart — and deleting a name that does not exist fails.
 * `token list` shows what is valid; a token removed from coordinator.json is revoked at the next start.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashToken } from '../packages/coordinator/src/tokens.js';
// @ts-expect-error plain ESM module without types
import { COORDINATOR_CLI, startLocalCluster } from '../scripts/local-cluster.mjs';
import { restClient } from './support/rest-client.js';

type Cluster = Awaited<ReturnType<typeof startLocalCluster>>;
const dataDir = mkdtempSync(join(tmpdir(), 'glacis-tokens-'));
const coordDir = join(dataDir, 'coordinator');
const cli = (...args: string[]) => spawnSync(process.execPath, [COORDINATOR_CLI, ...args, '--data-dir', coordDir], { encoding: 'utf8' });
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startLocalCluster({ dataDir, port: 0, parties: 2 });
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('rotates a token: create the new one, use both, delete the old one; the deletion holds at once', async () => {
  const create = (name: string) => {
    const r = cli('token', 'create', '--name', name, '--role', 'requester');
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { name: string; role: string; token: string };
  };
  const status = async (token: string) => (await restClient(cluster.baseUrl, token)('GET', '/v1/keys')).status;

  const old = create('desk-2024');
  expect(old).toMatchObject({ name: 'desk-2024', role: 'requester' });
  expect(await status(old.token)).toBe(200);
  const next = create('desk-2025');
  expect(await status(next.token)).toBe(200);
  expect(await status(old.token)).toBe(200);

  const del = cli('token', 'delete', '--name', 'desk-2024');
  expect(del.status, del.stderr).toBe(0);
  expect(JSON.parse(del.stdout)).toEqual({ name: 'desk-2024', deleted: true });
  expect(await status(old.token)).toBe(401);
  expect(await status(next.token)).toBe(200);

  const again = cli('token', 'delete', '--name', 'desk-2024');
  expect(again.status).toBe(1);
  expect(JSON.parse(again.stdout)).toEqual({ name: 'desk-2024', deleted: false });
  expect(again.stderr).toContain('no token named "desk-2024"');
});

it('says when a deleted token comes back at the next start (GLACIS_ADMIN_TOKEN)', () => {
  const r = cli('token', 'delete', '--name', 'env-admin');
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toContain('returns at the next start');
  const usage = cli('token', 'delete');
  expect(usage.status).toBe(64);
  expect(usage.stderr).toContain('--name is required');
});

it('token list shows every valid token and where it comes from; a token removed from coordinator.json is revoked at the next start', async () => {
  const list = () => {
    const r = cli('token', 'list', '--json');
    expect(r.status, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { tokens: { name: string; role: string; source: string; note?: string }[] }).tokens;
  };
  // A token configured by its hash, as an operator adds one to coordinator.json.
  const secret = 'glc_configured_by_hash_0123456789';
  const configPath = join(coordDir, 'coordinator.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  writeFileSync(configPath, JSON.stringify({ ...config, tokens: [{ name: 'desk-config', role: 'auditor', sha256: hashToken(secret) }] }));
  await cluster.kill('coordinator', 'SIGTERM');
  cluster.startCoordinator();
  await cluster.waitCoordinator();
  const status = async (token: string) => (await restClient(cluster.baseUrl, token)('GET', '/v1/keys')).status;
  expect(await status(secret)).toBe(200);
  expect(list().map((t) => [t.name, t.role, t.source])).toEqual(
    expect.arrayContaining([
      ['desk-config', 'auditor', 'config'],
      ['desk-2025', 'requester', 'cli'],
      ['env-admin', 'admin', 'env'],
    ]),
  );
  expect(list().some((t) => t.name === 'desk-2024')).toBe(false);

  // Removed from the file: still valid in the running coordinator, and token list says so ...
  writeFileSync(configPath, JSON.stringify(config));
  expect(list().find((t) => t.name === 'desk-config')?.note).toMatch(/revoked at the next start/);
  expect(await status(secret)).toBe(200);
  // ... revoked by the next start; the tokens made with `token create` stay.
  await cluster.kill('coordinator', 'SIGTERM');
  cluster.startCoordinator();
  await cluster.waitCoordinator();
  expect(await status(secret)).toBe(401);
  expect(list().map((t) => t.name)).not.toContain('desk-config');
  expect(list().map((t) => t.name)).toContain('desk-2025');
  const table = cli('token', 'list');
  expect(table.stdout).toMatch(/^NAME\s+ROLE\s+SOURCE\s+CREATED/);
  expect(table.stdout).not.toMatch(/glc_/);
});
