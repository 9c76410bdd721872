#!/usr/bin/env node
/**
 * glacis-party: create a party's identity, pin the keys it trusts, run its daemon, back it up.
 * `glacis-party --help` lists the commands, `glacis-party COMMAND --help` explains one. The
 * keystore secret comes from --passphrase-file / --kek-file or GLACIS_PASSPHRASE(_FILE) /
 * GLACIS_KEK(_FILE) (docs/operations.md). Exit codes: 0 done, 1 failed, 3 share log broken,
 * 64 usage error. On a terminal, scrypt (about a second per unlock) shows its progress on stderr.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAirgapError } from '@glacis/airgap';
import { generateIdentity, identityFingerprint, isBundleError, toHex } from '@glacis/protocol';
import { type CliFlag, type CliRunnable, type CliValues, runCommandLine, UsageError } from '@glacis/protocol/command-line';
import { currentGenerations, exportBackup, importBackup, readBackupFile, staleShares } from './backup/backup.js';
import { CONFIG_FILE, loadPartyConfig, type PartyConfig, partyConfigSchema } from './config.js';
import { runPartyDaemon } from './daemon.js';
import { isPartyError, PartyError } from './errors.js';
import { writeFileAtomic } from './fs-atomic.js';
import { initKeystore, type Keystore, openKeystore } from './keystore/keystore.js';
import type { UnlockSource } from './keystore/sealing.js';
import { resolveUnlockSource } from './keystore/unlock.js';
import { verifyLifecycleLog } from './lifecycle/lifecycle-log.js';
import { drillLocally } from './lifecycle/local-drill.js';
import { offlineCommands } from './offline/offline-commands.js';
import { verifyDecisionLog } from './policy/decision-log.js';
import { verifyShareLog } from './share-log/share-log.js';

const NAME = 'glacis-party';

type Flag = CliFlag;
type Values = CliValues;

const SECRET_FLAGS: Record<string, Flag> = {
  'passphrase-file': { type: 'string', help: 'file holding the keystore passphrase (or GLACIS_PASSPHRASE(_FILE))' },
  'kek-file': { type: 'string', help: 'file holding the key-encryption key, 64 hex (or GLACIS_KEK(_FILE))' },
};
const COORDINATOR_TLS: Record<string, Flag> = {
  'coordinator-tls-pin': { type: 'string', help: "wss:// only: the coordinator's TLS key pin, 64 hex (glacis-coordinator tls pin)" },
  'coordinator-ca': {
    type: 'string',
    help: "wss:// only: PEM file of the CA the coordinator's certificate chains to (default: the system's)",
  },
};
/** The TLS pin and CA the flags give, as party.json's coordinator fields. */
const coordinatorTlsOf = (v: Values) => ({
  ...(str(v, 'coordinator-tls-pin') ? { tlsPin: str(v, 'coordinator-tls-pin') } : {}),
  ...(str(v, 'coordinator-ca') ? { tlsCaFile: str(v, 'coordinator-ca') } : {}),
});
const DIR: Flag = { type: 'string', help: "the party's data directory (default: GLACIS_DATA_DIR)" };
/** Pinning policy administrators and the chain this party reads PSBTs for (init and pin). */
const POLICY_FLAGS: Record<string, Flag> = {
  'policy-admin': {
    type: 'string',
    multiple: true,
    help: "a policy administrator's Ed25519 public key, 64 hex (repeatable; read to you out of band); replaces the pinned set",
  },
  'policy-quorum': { type: 'string', help: 'how many pinned administrators must sign a policy (default: all of them)' },
  'bitcoin-network': {
    type: 'string',
    help: 'bitcoin, testnet, signet or regtest: the chain PSBT addresses are read for (default bitcoin)',
  },
};

/** party.json's `policyAdmins` and `bitcoinNetwork` from the flags, over `raw` (pin) or a fresh file (init). */
function applyPolicyFlags(raw: Record<string, unknown>, v: Values, usage: string): void {
  const admins = v['policy-admin'] as string[] | undefined;
  const quorumText = str(v, 'policy-quorum');
  if (admins !== undefined) {
    const quorum = quorumText === undefined ? admins.length : Number(quorumText);
    raw.policyAdmins = { keys: admins, quorum };
  } else if (quorumText !== undefined) {
    const current = raw.policyAdmins as { keys: string[] } | undefined;
    if (!current) throw new UsageError('--policy-quorum needs pinned administrators (--policy-admin HEX ...)', usage);
    raw.policyAdmins = { ...current, quorum: Number(quorumText) };
  }
  const network = str(v, 'bitcoin-network');
  if (network !== undefined) raw.bitcoinNetwork = network;
}
/** The flags of both backup commands; `file` is `in` or `out`. */
const backupFlags = (file: 'in' | 'out', help: string): Record<string, Flag> => ({
  'data-dir': DIR,
  [file]: { type: 'string', help },
  'backup-passphrase-file': { type: 'string', help: 'file holding the backup passphrase (or GLACIS_BACKUP_PASSPHRASE(_FILE))' },
  ...SECRET_FLAGS,
});

const str = (v: Values, k: string) => v[k] as string | undefined;

function dataDirOf(v: Values, usage: string): string {
  const d = str(v, 'data-dir') ?? process.env.GLACIS_DATA_DIR;
  if (!d) throw new UsageError('--data-dir (or GLACIS_DATA_DIR) is required', usage);
  return d;
}

/** A percentage on stderr while scrypt runs, only on a terminal; `label` says what is being derived. */
function scryptProgress(label: string): ((fraction: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let shown = -1;
  return (fraction) => {
    const percent = Math.floor(fraction * 100);
    if (percent === shown) return;
    shown = percent;
    process.stderr.write(percent >= 100 ? `\r${label}: done\x1b[K\n` : `\r${label}: ${percent}%\x1b[K`);
  };
}

/** The keystore secret the flags or the environment name, with terminal progress for a passphrase. */
function unlockOf(v: Values): UnlockSource {
  const source = resolveUnlockSource({ kekFile: str(v, 'kek-file'), passphraseFile: str(v, 'passphrase-file') }, process.env);
  const onProgress = source.kind === 'passphrase' ? scryptProgress('deriving the keystore key (scrypt)') : undefined;
  return onProgress && source.kind === 'passphrase' ? { ...source, onProgress } : source;
}

/** The party's configuration, and its keystore opened with the secret the flags or the environment name. */
function openParty(v: Values, usage: string) {
  const dataDir = dataDirOf(v, usage);
  const cfg = loadPartyConfig(dataDir);
  return { cfg, keystore: openKeystore(dataDir, unlockOf(v)) };
}

/** This party's id, its identity key and the key's fingerprint (to compare by phone or on paper). */
function partyIdentity(cfg: PartyConfig, keystore: Keystore) {
  const identity = keystore.loadIdentity();
  return { partyId: cfg.partyId, identityKey: toHex(identity.publicKey), fingerprint: identityFingerprint(identity.publicKey) };
}

/** What both backup commands read: the directory, the backup file, its passphrase, scrypt settings. */
function backupJob(v: Values, usage: string, fileFlag: 'in' | 'out', progressLabel: string) {
  const dataDir = dataDirOf(v, usage);
  const file = str(v, fileFlag);
  if (!file) throw new UsageError(`--${fileFlag} FILE is required`, usage);
  const path = str(v, 'backup-passphrase-file') ?? process.env.GLACIS_BACKUP_PASSPHRASE_FILE;
  const passphrase = path ? readFileSync(path, 'utf8').replace(/\r?\n$/, '') : process.env.GLACIS_BACKUP_PASSPHRASE;
  if (!passphrase)
    throw new UsageError('a backup passphrase is required: --backup-passphrase-file F (or GLACIS_BACKUP_PASSPHRASE(_FILE))', usage);
  const onProgress = scryptProgress(progressLabel);
  return { dataDir, file, passphrase, logN: scryptLogN(), progress: onProgress ? { onProgress } : {} };
}

/** scrypt cost override for tests (GLACIS_SCRYPT_LOG_N); production keeps the default. */
function scryptLogN(): number | undefined {
  const v = process.env.GLACIS_SCRYPT_LOG_N;
  return v ? Number(v) : undefined;
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

/** `keys list` as text: the identity with its fingerprint, then one line per key. */
function keysTable(out: { partyId: string; identityKey: string; fingerprint: string; keys: KeyLine[] }): string {
  const head = ['KEY ID', 'SUITE', 'THRESHOLD', 'STATUS', 'GEN', 'PUBLIC KEY'];
  const rows = out.keys.map((k) => [
    k.keyId,
    k.suite,
    `${k.threshold} of ${k.parties.length}`,
    k.status,
    String(k.generation),
    k.publicKey,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  return [
    `party          ${out.partyId}`,
    `identity key   ${out.identityKey}`,
    `fingerprint    ${out.fingerprint}`,
    '',
    out.keys.length === 0 ? '(no keys yet)' : [line(head), ...rows.map(line)].join('\n'),
  ].join('\n');
}
type KeyLine = {
  keyId: string;
  suite: string;
  threshold: number;
  parties: string[];
  status: string;
  generation: number;
  publicKey: string;
};

const COMMANDS: Record<string, CliRunnable> = {
  init: {
    args: '--data-dir DIR --party-id ID [--coordinator-url URL] [--coordinator-key HEX] [--coordinator-tls-pin HEX] [--policy-admin HEX]... [--policy-quorum N] [--bitcoin-network NET] (--passphrase-file F | --kek-file F)',
    summary: 'Create the keystore and the party identity; prints the identity key with its fingerprint, for the others to pin.',
    flags: {
      'data-dir': DIR,
      'party-id': { type: 'string', help: "this party's id (1-63 of a-z 0-9 . _ -)" },
      'coordinator-url': { type: 'string', help: "the coordinator's ws:// or wss:// URL (default ws://127.0.0.1:8700/v1/ws)" },
      'coordinator-key': { type: 'string', help: "the coordinator's identity key, read to you out of band" },
      ...COORDINATOR_TLS,
      ...POLICY_FLAGS,
      ...SECRET_FLAGS,
    },
    async run(v, usage) {
      const dataDir = dataDirOf(v, usage);
      const partyId = str(v, 'party-id');
      const raw: Record<string, unknown> = {};
      applyPolicyFlags(raw, v, usage);
      if (!partyId) throw new UsageError('--party-id is required', usage);
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      if (existsSync(join(dataDir, CONFIG_FILE)))
        throw new UsageError(`${join(dataDir, CONFIG_FILE)} exists: this directory is already initialised`, usage);
      const logN = scryptLogN();
      const keystore = initKeystore(dataDir, unlockOf(v), logN === undefined ? {} : { scryptLogN: logN });
      const identity = generateIdentity((n = 32) => new Uint8Array(randomBytes(n)));
      keystore.createIdentity(identity);
      writeConfig(dataDir, {
        partyId,
        coordinator: {
          url: str(v, 'coordinator-url') ?? 'ws://127.0.0.1:8700/v1/ws',
          identityKey: str(v, 'coordinator-key') ?? '00'.repeat(32),
          ...coordinatorTlsOf(v),
        },
        peers: {},
        ...raw,
      });
      const fingerprint = identityFingerprint(identity.publicKey);
      console.log(JSON.stringify({ partyId, identityKey: toHex(identity.publicKey), fingerprint }));
      return 0;
    },
  },
  pin: {
    args: '--data-dir DIR [--peer ID=HEX]... [--coordinator URL=HEX] [--coordinator-tls-pin HEX] [--coordinator-ca FILE] [--policy-admin HEX]... [--policy-quorum N] [--bitcoin-network NET] [--key-label KEY=LABEL]...',
    summary:
      'Pin the identity keys of peers and of the coordinator (like SSH known_hosts), the policy administrators, key labels; takes effect at the next start.',
    flags: {
      'data-dir': DIR,
      peer: { type: 'string', multiple: true, help: 'a peer party and its identity key, ID=HEX (repeatable)' },
      coordinator: { type: 'string', help: "the coordinator's URL and identity key, URL=HEX" },
      ...COORDINATOR_TLS,
      ...POLICY_FLAGS,
      'key-label': {
        type: 'string',
        multiple: true,
        help: "the label policy rules see for a key, KEY=LABEL (repeatable): labels are this party's, never the coordinator's",
      },
    },
    async run(v, usage) {
      const dataDir = dataDirOf(v, usage);
      const raw = readRawConfig(dataDir);
      const peers = { ...((raw.peers as Record<string, string> | undefined) ?? {}) };
      for (const p of (v.peer as string[] | undefined) ?? []) {
        const [id, key] = p.split('=');
        if (!id || !key) throw new UsageError(`--peer expects ID=HEX, got "${p}"`, usage);
        peers[id] = key;
      }
      raw.peers = peers;
      const coordinator = str(v, 'coordinator');
      if (coordinator) {
        const i = coordinator.lastIndexOf('=');
        if (i <= 0) throw new UsageError(`--coordinator expects URL=HEX, got "${coordinator}"`, usage);
        raw.coordinator = { ...(raw.coordinator as object), url: coordinator.slice(0, i), identityKey: coordinator.slice(i + 1) };
      }
      raw.coordinator = { ...(raw.coordinator as object), ...coordinatorTlsOf(v) };
      applyPolicyFlags(raw, v, usage);
      const labels = { ...((raw.keyLabels as Record<string, string> | undefined) ?? {}) };
      for (const l of (v['key-label'] as string[] | undefined) ?? []) {
        const i = l.indexOf('=');
        if (i <= 0) throw new UsageError(`--key-label expects KEY=LABEL, got "${l}"`, usage);
        labels[l.slice(0, i)] = l.slice(i + 1);
      }
      if (Object.keys(labels).length > 0) raw.keyLabels = labels;
      writeConfig(dataDir, raw);
      return 0;
    },
  },
  identity: {
    args: '--data-dir DIR',
    summary: "Print this party's id, identity key and its fingerprint.",
    flags: { 'data-dir': DIR, ...SECRET_FLAGS },
    async run(v, usage) {
      const { cfg, keystore } = openParty(v, usage);
      console.log(JSON.stringify(partyIdentity(cfg, keystore)));
      return 0;
    },
  },
  'keys list': {
    args: '--data-dir DIR [--json]',
    summary:
      "List the keys this party holds a share of (id, suite, threshold, status, generation, public key) and the party's identity key with a short fingerprint to compare by phone or on paper.",
    flags: { 'data-dir': DIR, json: { type: 'boolean', help: 'print one JSON object instead of a table' }, ...SECRET_FLAGS },
    async run(v, usage) {
      const { cfg, keystore } = openParty(v, usage);
      const party = partyIdentity(cfg, keystore);
      const keys: KeyLine[] = keystore
        .list()
        .map((s) => ({
          keyId: s.share.keyId,
          suite: s.share.public.suite,
          threshold: s.share.public.threshold,
          parties: s.share.public.committee,
          status: s.status,
          generation: s.generation,
          publicKey: s.share.public.publicKey,
        }))
        .sort((a, b) => (a.keyId < b.keyId ? -1 : 1));
      const out = { ...party, keys };
      console.log(v.json ? JSON.stringify(out) : keysTable(out));
      return 0;
    },
  },
  serve: {
    args: '--data-dir DIR',
    summary: 'Run the party: connect to the coordinator, sign what its policy allows, until SIGINT or SIGTERM.',
    flags: { 'data-dir': DIR, ...SECRET_FLAGS },
    async run(v, usage) {
      await runPartyDaemon({ dataDir: dataDirOf(v, usage), unlock: unlockOf(v), env: process.env });
      return 0;
    },
  },
  'backup export': {
    args: '--data-dir DIR --out FILE --backup-passphrase-file F',
    summary: 'Write configuration, identity and every share to one file sealed under a separate backup passphrase.',
    flags: backupFlags('out', 'the backup file to write'),
    async run(v, usage) {
      const job = backupJob(v, usage, 'out', 'sealing the backup (scrypt)');
      const keystore = openKeystore(job.dataDir, unlockOf(v));
      const logN = job.logN === undefined ? {} : { logN: job.logN };
      writeFileAtomic(job.file, exportBackup(keystore, loadPartyConfig(job.dataDir), job.passphrase, { ...logN, ...job.progress }));
      console.log(
        JSON.stringify({ backup: job.file, note: 'nonce state is never backed up; a restored party starts with fresh commitments' }),
      );
      return 0;
    },
  },
  'backup import': {
    args: '--data-dir DIR --in FILE --backup-passphrase-file F [--current KEYS.json]',
    summary:
      "Restore a backup into an empty directory, sealing it with this machine's keystore secret; with --current (the keys as GET /v1/keys lists them), say which restored shares are stale.",
    flags: {
      ...backupFlags('in', 'the backup file to read'),
      current: { type: 'string', help: "the JSON of GET /v1/keys (or of one Key): each key's current generation" },
    },
    async run(v, usage) {
      const job = backupJob(v, usage, 'in', 'opening the backup (scrypt)');
      const logN = job.logN === undefined ? {} : { scryptLogN: job.logN };
      const currentFile = str(v, 'current');
      const current = currentFile === undefined ? undefined : currentGenerations(readFileSync(currentFile, 'utf8'), currentFile);
      const restored = importBackup(readBackupFile(job.file), job.passphrase, job.dataDir, unlockOf(v), { ...logN, ...job.progress });
      const stale = current === undefined ? undefined : staleShares(restored, current);
      console.log(JSON.stringify(stale === undefined ? restored : { ...restored, stale }));
      for (const s of stale ?? []) {
        console.error(
          `${NAME}: the share of key ${s.keyId} in this backup is stale (generation ${s.backupGeneration}, the key is at ${s.currentGeneration}): it cannot sign; have it repaired (docs/operations.md, "Lost disk")`,
        );
      }
      return 0;
    },
  },
  'audit verify': {
    args: '--data-dir DIR',
    summary:
      'Check the hash chains of shares.log (every share this party released), decisions.log (every policy decision and activation) and lifecycle.log (its refreshes, repairs, reshares and drills); exit 3 if one is broken.',
    flags: { 'data-dir': DIR },
    async run(v, usage) {
      const dataDir = dataDirOf(v, usage);
      const shares = verifyShareLog(dataDir);
      const decisions = verifyDecisionLog(dataDir);
      const lifecycle = verifyLifecycleLog(dataDir);
      console.log(JSON.stringify({ ...shares, ok: shares.ok && decisions.ok && lifecycle.ok, decisions, lifecycle }));
      if (!shares.ok) console.error(`${NAME}: share log broken at event ${shares.brokenAt}: ${shares.reason}`);
      if (!decisions.ok) console.error(`${NAME}: decision log broken at event ${decisions.brokenAt}: ${decisions.reason}`);
      if (!lifecycle.ok) console.error(`${NAME}: lifecycle log broken at event ${lifecycle.brokenAt}: ${lifecycle.reason}`);
      return shares.ok && decisions.ok && lifecycle.ok ? 0 : 3;
    },
  },
  drill: {
    args: '--data-dir DIR [--key ID]',
    summary:
      "Prove, locally, that each stored share (or one) is intact: a proof of knowledge for a fresh challenge, checked against the share's certified verifying share; exit 3 if one fails.",
    flags: { 'data-dir': DIR, key: { type: 'string', help: 'drill this key only' }, ...SECRET_FLAGS },
    async run(v, usage) {
      const { cfg, keystore } = openParty(v, usage);
      const result = drillLocally(keystore, cfg.partyId, str(v, 'key'));
      console.log(JSON.stringify(result));
      for (const k of result.keys) if (!k.ok) console.error(`${NAME}: drill of key ${k.keyId} failed: ${k.code}: ${k.reason}`);
      return result.ok ? 0 : 3;
    },
  },
  'lifecycle list': {
    args: '--data-dir DIR',
    summary: 'List the successors this party confirmed that wait for their certificate, and the keys it reshared away.',
    flags: { 'data-dir': DIR, ...SECRET_FLAGS },
    async run(v, usage) {
      const dataDir = dataDirOf(v, usage);
      const keystore = openKeystore(dataDir, unlockOf(v));
      const staged = keystore.successions.list().map((s) => ({
        keyId: s.keyId,
        sessionId: s.sessionId,
        operation: s.operation,
        generation: s.generation,
        predecessor: s.predecessor,
      }));
      console.log(JSON.stringify({ staged }));
      return 0;
    },
  },
  'lifecycle discard': {
    args: '--data-dir DIR --key ID --session SESSION',
    summary:
      "Break glass, with the party stopped: erase a staged successor whose operation failed (GET /v1/operations shows it failed) and that no member's signed abort released; the live share is untouched.",
    flags: {
      'data-dir': DIR,
      key: { type: 'string', help: 'the key id' },
      session: { type: 'string', help: "the staged successor's session id (lifecycle list)" },
      ...SECRET_FLAGS,
    },
    async run(v, usage) {
      const dataDir = dataDirOf(v, usage);
      const keyId = str(v, 'key');
      const sessionId = str(v, 'session');
      if (!keyId || !sessionId) throw new UsageError('--key and --session are required', usage);
      const keystore = openKeystore(dataDir, unlockOf(v));
      if (!keystore.successions.discard(keyId, sessionId)) {
        throw new PartyError('no_staged_successor', `no undecided successor of key ${keyId} from session ${sessionId} is staged here`);
      }
      console.log(JSON.stringify({ keyId, sessionId, discarded: true }));
      return 0;
    },
  },
};

const PROGRAM = {
  name: NAME,
  commands: { ...COMMANDS, ...offlineCommands({ dataDirOf, unlockOf, commonFlags: { 'data-dir': DIR, ...SECRET_FLAGS } }) },
  footer: `${NAME} COMMAND --help explains a command; the keystore secret and other settings: docs/operations.md.`,
};

/** The one line a failure is reported with: a PartyError's code and message (the operator's to fix), anything else with its stack (a bug). */
function describe(e: unknown): string {
  if (isPartyError(e) || isBundleError(e) || isAirgapError(e)) return `${e.code}: ${e.message}`;
  return `unexpected error: ${(e as Error).stack ?? String(e)}`;
}

runCommandLine(PROGRAM, process.argv.slice(2), { out: console.log, err: console.error, describe }).then((code) => process.exit(code));
