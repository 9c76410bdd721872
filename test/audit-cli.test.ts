/**
 * `glacis-coordinator audit verify` and `glacis-party audit verify` against the real files a
 * cluster wrote: both chains verify after real traffic, and an event edited on disk is caught
 * at its own sequence number, with a non-zero exit.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { COORDINATOR_CLI, PARTY_CLI, startLocalCluster } from '../scripts/local-cluster.mjs';
import { restClient } from './support/rest-client.js';

const dataDir = mkdtempSync(join(tmpdir(), 'glacis-audit-'));
const run = (cli: string, args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

beforeAll(async () => {
  const cluster = await startLocalCluster({ dataDir, port: 0, parties: 3 });
  const api = restClient(cluster.baseUrl, cluster.adminToken);
  const key = await api<{ keyId: string }>('POST', '/v1/keys?wait=30000', { suite: 'ed25519', threshold: 3 });
  for (let i = 0; i < 3; i++) await api('POST', `/v1/keys/${key.body.keyId}/signatures?wait=30000`, { message: `0${i}` });
  await cluster.stop();
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('the coordinator audit chain verifies, and an edited event is caught at its seq', () => {
  const coord = join(dataDir, 'coordinator');
  const ok = run(COORDINATOR_CLI, ['audit', 'verify', '--data-dir', coord]);
  expect(ok.status, ok.stderr).toBe(0);
  const verdict = JSON.parse(ok.stdout);
  expect(verdict).toMatchObject({ ok: true });
  expect(verdict.events).toBeGreaterThan(8);
  expect(verdict.headSeq).toBe(verdict.events);

  const db = new Database(join(coord, 'coordinator.sqlite'));
  try {
    // An insider with disk access goes behind the append-only triggers.
    db.exec('DROP TRIGGER audit_no_update');
    db.prepare("UPDATE audit SET type = 'nothing_to_see' WHERE seq = 4").run();
  } finally {
    db.close();
  }
  const bad = run(COORDINATOR_CLI, ['audit', 'verify', '--data-dir', coord]);
  expect(bad.status).toBe(3);
  expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, brokenAt: 4 });
  expect(bad.stderr).toContain('broken at event 4');
});

it("a party's share log verifies, and an edited event is caught at its seq", () => {
  const party = join(dataDir, 'party-2');
  const ok = run(PARTY_CLI, ['audit', 'verify', '--data-dir', party]);
  expect(ok.status, ok.stderr).toBe(0);
  expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, events: 3 });
  const path = join(party, 'shares.log');
  const lines = readFileSync(path, 'utf8').split('\n');
  const e = JSON.parse(lines[1] as string);
  e.data.requestId = 'sig_forged';
  lines[1] = JSON.stringify(e);
  writeFileSync(path, lines.join('\n'));
  const bad = run(PARTY_CLI, ['audit', 'verify', '--data-dir', party]);
  expect(bad.status).toBe(3);
  expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, brokenAt: 2 });
});
