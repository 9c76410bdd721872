#!/usr/bin/env node
/**
 * glacis-coordinator: set up and run the coordinator. `glacis-coordinator --help` lists the
 * commands, `glacis-coordinator COMMAND --help` explains one. Configuration: DIR/coordinator.json
 * plus the GLACIS_* environment (docs/operations.md). Exit codes: 0 done, 1 failed, 3 audit chain
 * broken, 64 usage error.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AuditEvent, identityFingerprint, toHex, verifyAuditPages } from '@glacis/protocol';
import { type CliFlag, type CliRunnable, type CliValues, runCommandLine, UsageError } from '@glacis/protocol/command-line';
import { CONFIG_FILE, type ConfigFile, loadConfig, writeConfigFile } from './config.js';
import { createIdentityFile, IdentityFileError, loadIdentityFile } from './identity-file.js';
import { startCoordinator } from './server.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/types.js';
import { certificatePin } from './tls.js';
import { isRole, issueToken, ROLES, TOKEN_NAME_PATTERN } from './tokens.js';

const NAME = 'glacis-coordinator';

type Values = CliValues;

const DATA_DIR: CliFlag = { type: 'string', help: 'the coordinator data directory (default: GLACIS_DATA_DIR)' };

function readConfigFile(dataDir: string): ConfigFile {
  const path = join(dataDir, CONFIG_FILE);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as ConfigFile) : {};
}

function dataDirOf(v: Values, usage: string): string {
  const d = (v['data-dir'] as string | undefined) ?? process.env.GLACIS_DATA_DIR;
  if (!d) throw new UsageError('--data-dir (or GLACIS_DATA_DIR) is required', usage);
  return d;
}

/** Runs `fn` on the store of `dataDir`'s configuration and closes it, whatever happens. */
async function withStore<T>(dataDir: string, fn: (store: Store) => Promise<T>): Promise<T> {
  // Only where the database is comes from the environment (GLACIS_DATABASE_URL: the shared PostgreSQL).
  const { store } = await openStore(loadConfig(dataDir, { GLACIS_DATABASE_URL: process.env.GLACIS_DATABASE_URL }));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** A line on stderr that a terminal user sees while something long runs; nothing when piped. */
function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${text}\x1b[K`);
}
function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
}

/** The identity key as both CLIs print it: hex, and a short fingerprint people can read out. */
const identityView = (publicKey: Uint8Array) => ({ identityKey: toHex(publicKey), fingerprint: identityFingerprint(publicKey) });

/** `token list` as text, one token per line. */
function tokenTable(tokens: { name: string; role: string; source: string; createdAt: string; note?: string }[]): string {
  if (tokens.length === 0) return '(no tokens)';
  const rows = [['NAME', 'ROLE', 'SOURCE', 'CREATED', ''], ...tokens.map((t) => [t.name, t.role, t.source, t.createdAt, t.note ?? ''])];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const COMMANDS: Record<string, CliRunnable> = {
  init: {
    args: '--data-dir DIR',
    summary: 'Create the data directory, its identity key and coordinator.json; prints the identity key for the parties to pin.',
    flags: { 'data-dir': DATA_DIR },
    async run(v, usage) {
      const dataDir = dataDirOf(v, usage);
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const identity = createIdentityFile(loadConfig(dataDir, {}).identitySeedPath);
      if (!existsSync(join(dataDir, CONFIG_FILE))) writeConfigFile(dataDir, {});
      console.log(JSON.stringify(identityView(identity.publicKey)));
      return 0;
    },
  },
  identity: {
    args: '--data-dir DIR',
    summary: "Print the coordinator's identity key (what parties pin) and its fingerprint, to compare by phone or on paper.",
    flags: { 'data-dir': DATA_DIR },
    async run(v, usage) {
      const config = loadConfig(dataDirOf(v, usage), {});
      console.log(JSON.stringify(identityView(loadIdentityFile(config.identitySeedPath).publicKey)));
      return 0;
    },
  },
  'add-party': {
    args: '--data-dir DIR --party-id ID --identity-key HEX',
    summary: 'Admit a party by the identity key its operator read you out of band (takes effect at the next start).',
    flags: {
      'data-dir': DATA_DIR,
      'party-id': { type: 'string', help: "the party's id" },
      'identity-key': { type: 'string', help: "the party's Ed25519 identity key, 64 hex characters" },
    },
    async run(v, usage) {
      const dataDir = dataDirOf(v, usage);
      const partyId = v['party-id'] as string | undefined;
      const identityKey = v['identity-key'] as string | undefined;
      if (!partyId || !identityKey) throw new UsageError('--party-id and --identity-key are required', usage);
      const file = readConfigFile(dataDir);
      const parties = (file.parties ?? []).filter((p) => p.partyId !== partyId);
      parties.push({ partyId, identityKey });
      writeConfigFile(dataDir, { ...file, parties });
      return 0;
    },
  },
  'token create': {
    args: `--data-dir DIR --name NAME --role ${ROLES.join('|')}`,
    summary: 'Make a bearer token and print it once (the database keeps only its hash); replaces a token of the same name.',
    flags: {
      'data-dir': DATA_DIR,
      name: { type: 'string', help: 'what audit events record as the actor: 1-64 of A-Z a-z 0-9 . _ -' },
      role: { type: 'string', help: ROLES.join(', ') },
    },
    async run(v, usage) {
      const dataDir = dataDirOf(v, usage);
      const name = v.name as string | undefined;
      const role = v.role as string | undefined;
      if (!name || !TOKEN_NAME_PATTERN.test(name)) throw new UsageError('--name must be 1-64 of A-Z a-z 0-9 . _ -', usage);
      if (!role || !isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`, usage);
      const { token } = await withStore(dataDir, (store) => issueToken(store, name, role));
      console.log(JSON.stringify({ name, role, token }));
      return 0;
    },
  },
  'token delete': {
    args: '--data-dir DIR --name NAME',
    summary: 'Revoke a token at once, also in a running coordinator (every request looks its token up).',
    flags: { 'data-dir': DATA_DIR, name: { type: 'string', help: 'the token to delete' } },
    async run(v, usage) {
      const dataDir = dataDirOf(v, usage);
      const name = v.name as string | undefined;
      if (!name) throw new UsageError('--name is required', usage);
      const deleted = await withStore(dataDir, (store) => store.deleteToken(name));
      console.log(JSON.stringify({ name, deleted }));
      if (!deleted) {
        console.error(`${NAME}: no token named "${name}"`);
        return 1;
      }
      const fromFile = (readConfigFile(dataDir).tokens ?? []).some((t) => t.name === name);
      if (fromFile || name === 'env-admin')
        console.error(
          `${NAME}: "${name}" comes from ${fromFile ? 'coordinator.json' : 'GLACIS_ADMIN_TOKEN'} and returns at the next start; remove it there too`,
        );
      return 0;
    },
  },
  'token list': {
    args: '--data-dir DIR [--json]',
    summary:
      'Show every token the coordinator accepts: name, role, where it comes from (cli: token create; config: coordinator.json; env: GLACIS_ADMIN_TOKEN) and when it was made. Never the secrets.',
    flags: { 'data-dir': DATA_DIR, json: { type: 'boolean', help: 'print one JSON object instead of a table' } },
    async run(v, usage) {
      const dataDir = dataDirOf(v, usage);
      const configured = new Set((readConfigFile(dataDir).tokens ?? []).map((t) => t.name));
      const tokens = (await withStore(dataDir, (store) => store.listTokens())).map((t) =>
        // Still valid in a running coordinator; the next start revokes it (tokens.ts, installTokens).
        t.source === 'config' && !configured.has(t.name) ? { ...t, note: 'removed from coordinator.json: revoked at the next start' } : t,
      );
      console.log(v.json ? JSON.stringify({ tokens }) : tokenTable(tokens));
      return 0;
    },
  },
  'audit verify': {
    args: '--data-dir DIR',
    summary: "Check the audit log's hash chain end to end; exit 3 if it is broken.",
    flags: { 'data-dir': DATA_DIR },
    async run(v, usage) {
      const dataDir = dataDirOf(v, usage);
      const result = await withStore(dataDir, async (store) => {
        // Page by page from the store: the whole log is never held in memory at once.
        let read = 0;
        async function* pages(): AsyncGenerator<AuditEvent[]> {
          let cursor: string | null = null;
          do {
            const page = await store.listAudit({ limit: 500, cursor });
            read += page.items.length;
            progress(`checking the audit log: ${read} events`);
            yield page.items;
            cursor = page.nextCursor;
          } while (cursor);
        }
        return verifyAuditPages(pages());
      });
      progressDone();
      console.log(JSON.stringify(result));
      if (!result.ok) console.error(`${NAME}: audit chain broken at event ${result.brokenAt}: ${result.reason}`);
      return result.ok ? 0 : 3;
    },
  },
  'tls pin': {
    args: '--data-dir DIR | --cert FILE',
    summary:
      "Print the pin of the coordinator's TLS certificate (SHA-256 of its public key, hex) for parties to pin with glacis-party pin --coordinator-tls-pin.",
    flags: {
      'data-dir': DATA_DIR,
      cert: { type: 'string', help: 'a PEM certificate (default: the one coordinator.json or GLACIS_TLS_CERT_FILE names)' },
    },
    async run(v, usage) {
      let cert = v.cert as string | undefined;
      if (!cert) {
        const tls = loadConfig(dataDirOf(v, usage)).tls;
        if (!tls) throw new UsageError('no TLS certificate is configured: give --cert FILE, or configure tls first', usage);
        cert = tls.certPath;
      }
      console.log(JSON.stringify({ sha256: certificatePin(readFileSync(cert)) }));
      return 0;
    },
  },
  serve: {
    args: '--data-dir DIR',
    summary: 'Run the coordinator (REST API and the parties\u2019 /v1/ws) until SIGINT or SIGTERM.',
    flags: { 'data-dir': DATA_DIR },
    async run(v, usage) {
      const config = loadConfig(dataDirOf(v, usage));
      const wireLog = process.env.GLACIS_WIRE_LOG;
      const running = await startCoordinator(config, wireLog ? { wireLog } : {});
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.close();
      return 0;
    },
  },
};
const PROGRAM = { name: NAME, commands: COMMANDS, footer: `${NAME} COMMAND --help explains a command. Environment: docs/operations.md.` };

/** The one line a failure is reported with: a known error's message, anything else with its stack. */
function describe(e: unknown): string {
  if (e instanceof IdentityFileError || (e instanceof Error && e.message.startsWith('invalid coordinator configuration'))) return e.message;
  return `unexpected error: ${(e as Error).stack ?? String(e)}`;
}

runCommandLine(PROGRAM, process.argv.slice(2), { out: console.log, err: console.error, describe }).then((code) => process.exit(code));
