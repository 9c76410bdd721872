/**
 * `glacis-party` and `glacis-coordinator` behave like command-line tools: every command and group
 * answers --help/-h with its usage on stdout and exit 0; anything they do not understand gets
 * the closest usage on stderr and exit 64; long scrypt work shows progress on a terminal and
 * nothing when piped; `glacis-party keys list` shows what a party holds and its identity
 * fingerprint, which matches what the coordinator pinned.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, identityFingerprint } from '@glacis/protocol';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without types
import { COORDINATOR_CLI, PARTY_CLI, startLocalCluster } from '../scripts/local-cluster.mjs';
import { restClient } from './support/rest-client.js';

const work = mkdtempSync(join(tmpdir(), 'glacis-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CLIS = { 'glacis-party': PARTY_CLI as string, 'glacis-coordinator': COORDINATOR_CLI as string };
const run = (cli: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

/** The commands a CLI's own --help lists ("init", "keys list", ...). */
function commandsOf(name: string, cli: string): string[] {
  const r = run(cli, ['--help']);
  expect(r.status, r.stderr).toBe(0);
  return [...r.stdout.matchAll(new RegExp(`^  ${name} ([a-z-]+(?: [a-z-]+)?)(?= --| \\[|$)`, 'gm'))].map((m) => m[1] as string);
}

describe.each(Object.entries(CLIS))('%s', (name, cli) => {
  it('answers --help, -h and help with the list of commands, exit 0', () => {
    for (const flag of ['--help', '-h', 'help']) {
      const r = run(cli, [flag]);
      expect([flag, r.status, r.stderr]).toEqual([flag, 0, '']);
      expect(r.stdout).toMatch(new RegExp(`^usage:\\n  ${name} init `));
    }
    expect(commandsOf(name, cli)).toEqual(expect.arrayContaining(['init', 'serve', 'audit verify']));
  });

  it('every command and every group answers --help and -h with its own usage, exit 0', () => {
    const commands = commandsOf(name, cli);
    for (const command of commands) {
      for (const flag of ['--help', '-h']) {
        const r = run(cli, [...command.split(' '), flag]);
        expect([command, flag, r.status, r.stderr]).toEqual([command, flag, 0, '']);
        expect(r.stdout.startsWith(`usage: ${name} ${command} `), r.stdout).toBe(true);
        expect(r.stdout).toContain('--data-dir');
      }
    }
    for (const group of new Set(commands.filter((c) => c.includes(' ')).map((c) => c.split(' ')[0] as string))) {
      const r = run(cli, [group, '--help']);
      expect([group, r.status]).toEqual([group, 0]);
      expect(
        r.stdout
          .split('\n')
          .filter((l) => l.startsWith(`  ${name} `))
          .every((l) => l.startsWith(`  ${name} ${group} `)),
      ).toBe(true);
    }
  });

  it('unknown input gets the closest usage on stderr and exit 64', () => {
    const cases: [string[], RegExp][] = [
      [[], /no command given/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['audit'], /"audit" needs a subcommand/],
      [['audit', 'frobnicate'], /unknown command "audit frobnicate"/],
      [['init', '--frobnicate'], /Unknown option '--frobnicate'/],
      [['init', 'stray'], /positional/i],
      [['audit', 'verify', '--data-dir'], /argument missing/],
    ];
    for (const [args, message] of cases) {
      const r = run(cli, args);
      expect([args, r.status, r.stdout]).toEqual([args, 64, '']);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/\nusage:/);
    }
  });
});

describe('progress on a terminal', () => {
  // util-linux `script` runs the command on a pseudo-terminal (Debian: bsdutils, always installed).
  const hasScript = spawnSync('script', ['--version']).status === 0;

  it.skipIf(!hasScript)('scrypt shows its progress on stderr when it is a terminal', () => {
    const dir = join(work, 'tty-party');
    const cmd = `${process.execPath} ${PARTY_CLI} init --data-dir ${dir} --party-id tty-1`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, GLACIS_PASSPHRASE: 'a passphrase', GLACIS_SCRYPT_LOG_N: '12' },
    });
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/deriving the keystore key \(scrypt\): \d+%/);
    expect(r.stdout).toContain('deriving the keystore key (scrypt): done');
  });

  it('and prints nothing but the result when stderr is not a terminal', () => {
    const dir = join(work, 'piped-party');
    const env = { GLACIS_PASSPHRASE: 'a passphrase', GLACIS_SCRYPT_LOG_N: '12' };
    const init = run(PARTY_CLI, ['init', '--data-dir', dir, '--party-id', 'piped-1'], env);
    expect([init.status, init.stderr]).toEqual([0, '']);
    const id = run(PARTY_CLI, ['identity', '--data-dir', dir], env);
    expect([id.status, id.stderr]).toEqual([0, '']);
    expect(JSON.parse(id.stdout)).toMatchObject({ partyId: 'piped-1' });
  });
});

describe('glacis-party keys list', () => {
  it("shows each key's id, suite, threshold, status, generation and public key, and the identity with its fingerprint", async () => {
    const dataDir = join(work, 'cluster');
    const cluster = await startLocalCluster({ dataDir, port: 0, parties: 2 });
    try {
      const api = restClient(cluster.baseUrl, cluster.adminToken);
      const key = await api<{ keyId: string; publicKey: string; status: string }>('POST', '/v1/keys?wait=30000', {
        suite: 'ed25519',
        threshold: 2,
      });
      expect(key.body.status).toBe('active');
      const pinned = await api<{ parties: { partyId: string; identityKey: string }[] }>('GET', '/v1/parties');
      const env = { GLACIS_KEK_FILE: join(dataDir, 'secrets', 'party-1.kek') };

      const json = run(PARTY_CLI, ['keys', 'list', '--data-dir', join(dataDir, 'party-1'), '--json'], env);
      expect(json.status, json.stderr).toBe(0);
      const listed = JSON.parse(json.stdout);
      const identityKey = pinned.body.parties.find((p) => p.partyId === 'party-1')?.identityKey as string;
      expect(listed).toEqual({
        partyId: 'party-1',
        identityKey,
        fingerprint: identityFingerprint(fromHex(identityKey)),
        keys: [
          {
            keyId: key.body.keyId,
            suite: 'ed25519',
            threshold: 2,
            parties: ['party-1', 'party-2'],
            status: 'active',
            generation: 0,
            publicKey: key.body.publicKey,
          },
        ],
      });
      expect(listed.fingerprint).toMatch(/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);

      const table = run(PARTY_CLI, ['keys', 'list', '--data-dir', join(dataDir, 'party-1')], env);
      expect(table.status, table.stderr).toBe(0);
      expect(table.stdout).toContain(`fingerprint    ${listed.fingerprint}`);
      expect(table.stdout).toMatch(new RegExp(`^${key.body.keyId}\\s+ed25519\\s+2 of 2\\s+active\\s+0\\s+${key.body.publicKey}$`, 'm'));
    } finally {
      await cluster.stop();
    }
  });
});
