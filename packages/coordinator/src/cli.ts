#!/usr/bin/env node
/**
 * glacis-coordinator: set up and run the coordinator.
 *
 *   glacis-coordinator init --data-dir DIR
 *   glacis-coordinator identity --data-dir DIR
 *   glacis-coordinator add-party --data-dir DIR --party-id ID --identity-key HEX
 *   glacis-coordinator token create --data-dir DIR --name NAME --role admin|requester|auditor
 *   glacis-coordinator token delete --data-dir DIR --name NAME
 *   glacis-coordinator audit verify --data-dir DIR
 *   glacis-coordinator serve --data-dir DIR
 *
 * Configuration: DIR/coordinator.json plus GLACIS_HOST, GLACIS_PORT, GLACIS_ADMIN_TOKEN,
 * GLACIS_LOG_LEVEL, GLACIS_PORT_FILE, GLACIS_SIGNING_TIMEOUT_MS, GLACIS_DATABASE_URL (see docs/operations.md).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type AuditEvent, toHex, verifyAuditPages } from '@glacis/protocol';
import { CONFIG_FILE, type ConfigFile, loadConfig, writeConfigFile } from './config.js';
import { createIdentityFile, IdentityFileError, loadIdentityFile } from './identity-file.js';
import { startCoordinator } from './server.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/types.js';
import { runTokenCreate } from './tokens.js';

const USAGE = `usage:
  glacis-coordinator init --data-dir DIR
  glacis-coordinator identity --data-dir DIR
  glacis-coordinator add-party --data-dir DIR --party-id ID --identity-key HEX
  glacis-coordinator token create --data-dir DIR --name NAME --role admin|requester|auditor
  glacis-coordinator token delete --data-dir DIR --name NAME
  glacis-coordinator audit verify --data-dir DIR
  glacis-coordinator serve --data-dir DIR`;

class UsageError extends Error {}

function readConfigFile(dataDir: string): ConfigFile {
  const path = join(dataDir, CONFIG_FILE);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as ConfigFile) : {};
}

/** Environment overrides the config file does not cover directly. */
function envOverrides(dataDir: string): ReturnType<typeof loadConfig> {
  const config = loadConfig(dataDir);
  const t = process.env.GLACIS_SIGNING_TIMEOUT_MS;
  if (t !== undefined) {
    if (!/^\d+$/.test(t)) throw new UsageError('GLACIS_SIGNING_TIMEOUT_MS must be a number of milliseconds');
    config.signingTimeoutMs = Number(t);
  }
  return config;
}

/** The environment the store commands read: only where the database is (GLACIS_DATABASE_URL). */
function databaseEnv(): Record<string, string | undefined> {
  return { GLACIS_DATABASE_URL: process.env.GLACIS_DATABASE_URL };
}

/** The store's audit log, oldest first, a page at a time. */
async function* auditPages(store: Store): AsyncGenerator<AuditEvent[]> {
  let cursor: string | null = null;
  do {
    const page = await store.listAudit({ limit: 500, cursor });
    yield page.items;
    cursor = page.nextCursor;
  } while (cursor);
}

async function main(argv: string[]): Promise<number> {
  const grouped = argv[0] === 'token' || argv[0] === 'audit';
  const command = grouped ? `${argv[0]} ${argv[1] ?? ''}`.trim() : argv[0];
  const rest = argv.slice(grouped ? 2 : 1);
  const { values } = parseArgs({
    args: rest,
    options: {
      'data-dir': { type: 'string' },
      'party-id': { type: 'string' },
      'identity-key': { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
    },
    strict: true,
  });
  const dataDir = values['data-dir'] ?? process.env.GLACIS_DATA_DIR;
  if (!dataDir) throw new UsageError('--data-dir (or GLACIS_DATA_DIR) is required');
  switch (command) {
    case 'init': {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const config = loadConfig(dataDir, {});
      const identity = createIdentityFile(config.identitySeedPath);
      if (!existsSync(join(dataDir, CONFIG_FILE))) writeConfigFile(dataDir, {});
      console.log(JSON.stringify({ identityKey: toHex(identity.publicKey) }));
      return 0;
    }
    case 'identity': {
      const config = loadConfig(dataDir, {});
      console.log(JSON.stringify({ identityKey: toHex(loadIdentityFile(config.identitySeedPath).publicKey) }));
      return 0;
    }
    case 'add-party': {
      const partyId = values['party-id'];
      const identityKey = values['identity-key'];
      if (!partyId || !identityKey) throw new UsageError('--party-id and --identity-key are required');
      const file = readConfigFile(dataDir);
      const parties = (file.parties ?? []).filter((p) => p.partyId !== partyId);
      parties.push({ partyId, identityKey });
      writeConfigFile(dataDir, { ...file, parties });
      return 0;
    }
    case 'token create': {
      const { store } = await openStore(loadConfig(dataDir, databaseEnv()));
      try {
        const args = ['--name', values.name ?? '', '--role', values.role ?? ''];
        return await runTokenCreate(store, args, (line) => console.log(line));
      } finally {
        await store.close();
      }
    }
    case 'token delete': {
      // Takes effect at once, also in a running coordinator: every request looks its token up.
      const name = values.name;
      if (!name) throw new UsageError('--name is required');
      const { store } = await openStore(loadConfig(dataDir, databaseEnv()));
      try {
        const deleted = await store.deleteToken(name);
        console.log(JSON.stringify({ name, deleted }));
        if (!deleted) {
          console.error(`glacis-coordinator: no token named "${name}"`);
          return 1;
        }
        const fromFile = (readConfigFile(dataDir).tokens ?? []).some((t) => t.name === name);
        if (fromFile || name === 'env-admin')
          console.error(
            `glacis-coordinator: "${name}" comes from ${fromFile ? 'coordinator.json' : 'GLACIS_ADMIN_TOKEN'} and returns at the next start; remove it there too`,
          );
        return 0;
      } finally {
        await store.close();
      }
    }
    case 'audit verify': {
      const { store } = await openStore(loadConfig(dataDir, databaseEnv()));
      try {
        const v = await verifyAuditPages(auditPages(store));
        console.log(JSON.stringify(v));
        if (!v.ok) console.error(`glacis-coordinator: audit chain broken at event ${v.brokenAt}: ${v.reason}`);
        return v.ok ? 0 : 3;
      } finally {
        await store.close();
      }
    }
    case 'serve': {
      const config = envOverrides(dataDir);
      const wireLog = process.env.GLACIS_WIRE_LOG;
      const running = await startCoordinator(config, wireLog ? { wireLog } : {});
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.close();
      return 0;
    }
    default:
      throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) console.error(`glacis-coordinator: ${e.message}\n${USAGE}`);
    else if (e instanceof IdentityFileError || (e instanceof Error && e.message.startsWith('invalid coordinator configuration')))
      console.error(`glacis-coordinator: ${e.message}`);
    else console.error(`glacis-coordinator: unexpected error: ${(e as Error).stack ?? String(e)}`);
    process.exit(e instanceof UsageError ? 64 : 1);
  },
);
