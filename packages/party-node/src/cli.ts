#!/usr/bin/env node
/**
 * glacis-party: create a party's identity and run its daemon.
 *
 *   glacis-party init  --data-dir DIR --party-id ID [--coordinator-url URL] [--coordinator-key HEX]
 *
 * The keystore secret comes from --passphrase-file / --kek-file or GLACIS_PASSPHRASE(_FILE) /
 * GLACIS_KEK(_FILE); see docs/operations.md.
 *   glacis-party pin   --data-dir DIR (--peer ID=HEX | --coordinator URL=HEX)...
 *   glacis-party identity --data-dir DIR
 *   glacis-party serve --data-dir DIR
 *   glacis-party backup export --data-dir DIR --out FILE --backup-passphrase-file F
 *   glacis-party backup import --data-dir DIR --in FILE --backup-passphrase-file F
 *   glacis-party audit verify --data-dir DIR
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateIdentity, toHex } from '@glacis/protocol';
import { exportBackup, importBackup, readBackupFile } from './backup/backup.js';
import { CONFIG_FILE, loadPartyConfig, partyConfigSchema } from './config.js';
import { runPartyDaemon } from './daemon.js';
import { isPartyError, PartyError } from './errors.js';
import { writeFileAtomic } from './fs-atomic.js';
import { initKeystore, openKeystore } from './keystore/keystore.js';
import { resolveUnlockSource } from './keystore/unlock.js';
import { verifyShareLog } from './share-log/share-log.js';

const USAGE = `usage:
  glacis-party init --data-dir DIR --party-id ID [--coordinator-url URL] [--coordinator-key HEX]
  glacis-party pin --data-dir DIR [--peer ID=HEX]... [--coordinator URL=HEX]
  glacis-party identity --data-dir DIR
  glacis-party serve --data-dir DIR
  glacis-party backup export --data-dir DIR --out FILE --backup-passphrase-file F
  glacis-party backup import --data-dir DIR --in FILE --backup-passphrase-file F
  glacis-party audit verify --data-dir DIR
The keystore secret: --passphrase-file F | --kek-file F | GLACIS_PASSPHRASE(_FILE) | GLACIS_KEK(_FILE).`;

function backupPassphrase(file: string | undefined): string {
  const path = file ?? process.env.GLACIS_BACKUP_PASSPHRASE_FILE;
  if (path) return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  if (process.env.GLACIS_BACKUP_PASSPHRASE) return process.env.GLACIS_BACKUP_PASSPHRASE;
  throw new PartyError('usage', 'a backup passphrase is required: --backup-passphrase-file F (or GLACIS_BACKUP_PASSPHRASE(_FILE))');
}

/** scrypt cost override for tests (GLACIS_SCRYPT_LOG_N); production keeps the default. */
function scryptOpts<K extends string>(name: K): Partial<Record<K, number>> {
  const v = process.env.GLACIS_SCRYPT_LOG_N;
  return v ? ({ [name]: Number(v) } as Partial<Record<K, number>>) : {};
}

function dataDirOf(values: { 'data-dir'?: string | undefined }): string {
  const d = values['data-dir'] ?? process.env.GLACIS_DATA_DIR;
  if (!d) throw new PartyError('usage', '--data-dir (or GLACIS_DATA_DIR) is required');
  return d;
}

function readRawConfig(dataDir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dataDir, CONFIG_FILE), 'utf8')) as Record<string, unknown>;
}

function writeConfig(dataDir: string, raw: unknown): void {
  const parsed = partyConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new PartyError('config_invalid', `${join(dataDir, CONFIG_FILE)}: ${i?.path.join('.') || '(root)'}: ${i?.message ?? 'invalid'}`);
  }
  writeFileAtomic(join(dataDir, CONFIG_FILE), `${JSON.stringify(parsed.data, null, 2)}\n`);
}

async function main(argv: string[]): Promise<number> {
  const grouped = argv[0] === 'backup' || argv[0] === 'audit';
  const command = grouped ? `${argv[0]} ${argv[1] ?? ''}`.trim() : argv[0];
  const rest = argv.slice(grouped ? 2 : 1);
  const { values } = parseArgs({
    args: rest,
    options: {
      'data-dir': { type: 'string' },
      'party-id': { type: 'string' },
      'coordinator-url': { type: 'string' },
      'coordinator-key': { type: 'string' },
      peer: { type: 'string', multiple: true },
      coordinator: { type: 'string' },
      'passphrase-file': { type: 'string' },
      'kek-file': { type: 'string' },
      'backup-passphrase-file': { type: 'string' },
      out: { type: 'string' },
      in: { type: 'string' },
    },
    strict: true,
  });
  const unlock = () => resolveUnlockSource({ kekFile: values['kek-file'], passphraseFile: values['passphrase-file'] }, process.env);
  switch (command) {
    case 'init': {
      const dataDir = dataDirOf(values);
      const partyId = values['party-id'];
      if (!partyId) throw new PartyError('usage', '--party-id is required');
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      if (existsSync(join(dataDir, CONFIG_FILE)))
        throw new PartyError('usage', `${join(dataDir, CONFIG_FILE)} exists: this directory is already initialised`);
      const keystore = initKeystore(dataDir, unlock(), scryptOpts('scryptLogN'));
      const identity = generateIdentity((n = 32) => new Uint8Array(randomBytes(n)));
      keystore.createIdentity(identity);
      writeConfig(dataDir, {
        partyId,
        coordinator: {
          url: values['coordinator-url'] ?? 'ws://127.0.0.1:8700/v1/ws',
          identityKey: values['coordinator-key'] ?? '00'.repeat(32),
        },
        peers: {},
      });
      console.log(JSON.stringify({ partyId, identityKey: toHex(identity.publicKey) }));
      return 0;
    }
    case 'pin': {
      const dataDir = dataDirOf(values);
      const raw = readRawConfig(dataDir);
      const peers = { ...((raw.peers as Record<string, string> | undefined) ?? {}) };
      for (const p of values.peer ?? []) {
        const [id, key] = p.split('=');
        if (!id || !key) throw new PartyError('usage', `--peer expects ID=HEX, got "${p}"`);
        peers[id] = key;
      }
      raw.peers = peers;
      if (values.coordinator) {
        const i = values.coordinator.lastIndexOf('=');
        raw.coordinator = { url: values.coordinator.slice(0, i), identityKey: values.coordinator.slice(i + 1) };
      }
      writeConfig(dataDir, raw);
      return 0;
    }
    case 'identity': {
      const dataDir = dataDirOf(values);
      const cfg = loadPartyConfig(dataDir);
      const identity = openKeystore(dataDir, unlock()).loadIdentity();
      console.log(JSON.stringify({ partyId: cfg.partyId, identityKey: toHex(identity.publicKey) }));
      return 0;
    }
    case 'serve':
      await runPartyDaemon({ dataDir: dataDirOf(values), unlock: unlock(), env: process.env });
      return 0;
    case 'backup export': {
      const dataDir = dataDirOf(values);
      if (!values.out) throw new PartyError('usage', '--out FILE is required');
      const passphrase = backupPassphrase(values['backup-passphrase-file']);
      const text = exportBackup(openKeystore(dataDir, unlock()), loadPartyConfig(dataDir), passphrase, scryptOpts('logN'));
      writeFileAtomic(values.out, text);
      console.log(
        JSON.stringify({ backup: values.out, note: 'nonce state is never backed up; a restored party starts with fresh commitments' }),
      );
      return 0;
    }
    case 'backup import': {
      const dataDir = dataDirOf(values);
      if (!values.in) throw new PartyError('usage', '--in FILE is required');
      const passphrase = backupPassphrase(values['backup-passphrase-file']);
      const restored = importBackup(readBackupFile(values.in), passphrase, dataDir, unlock(), scryptOpts('scryptLogN'));
      console.log(JSON.stringify(restored));
      return 0;
    }
    case 'audit verify': {
      const dataDir = dataDirOf(values);
      const v = verifyShareLog(dataDir);
      console.log(JSON.stringify(v));
      if (!v.ok) console.error(`glacis-party: share log broken at event ${v.brokenAt}: ${v.reason}`);
      return v.ok ? 0 : 3;
    }
    default:
      throw new PartyError('usage', command ? `unknown command "${command}"` : 'no command given');
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    // A PartyError is the operator's to fix: its code and message, no stack. Anything else is a bug.
    if (isPartyError(e, 'usage')) console.error(`glacis-party: ${e.message}\n${USAGE}`);
    else if (isPartyError(e)) console.error(`glacis-party: ${e.code}: ${e.message}`);
    else console.error(`glacis-party: unexpected error: ${(e as Error).stack ?? String(e)}`);
    process.exit(isPartyError(e, 'usage') ? 64 : 1);
  },
);
