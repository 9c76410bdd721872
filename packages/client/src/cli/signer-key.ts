/**
 * Signer key files on the desk (protocol `signer-key-file.ts`): `glacis approver create` makes
 * one, and the commands that sign (`signatures approve`, `policy sign`) open one. The passphrase
 * comes from a file or the environment, never from an argument (ps would show it).
 */
import { randomBytes } from 'node:crypto';
import {
  createSignerKeyFile,
  type IdentityKey,
  isProtocolError,
  openSignerKeyFile,
  SIGNER_KEY_ROLES,
  type SignerKeyRole,
} from '@glacis/protocol';
import { ClientError } from '../errors.js';
import { type Command, type CommandArgs, EXIT, type Io, stringOption, UsageError } from './command.js';

/** `--key FILE` and `--passphrase-file F`, which every command that signs takes. */
export const KEY_OPTIONS = {
  key: { type: 'string' },
  'passphrase-file': { type: 'string' },
} as const;

/** The usage lines of KEY_OPTIONS. */
export const KEY_USAGE = `  --key FILE              the signer key file (glacis approver create)
  --passphrase-file F     file holding its passphrase (or GLACIS_SIGNER_PASSPHRASE(_FILE))`;

/** The passphrase the arguments or the environment name. */
function passphraseOf(values: CommandArgs['values'], io: Io): string {
  const path = stringOption(values, 'passphrase-file') ?? io.env.GLACIS_SIGNER_PASSPHRASE_FILE;
  if (path !== undefined) {
    try {
      return io.readFile(path).replace(/\r?\n$/, '');
    } catch (e) {
      throw new ClientError(
        'invalid_key_file',
        `cannot read the passphrase file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  const given = io.env.GLACIS_SIGNER_PASSPHRASE;
  if (given === undefined) throw new UsageError('a passphrase is required: --passphrase-file F (or GLACIS_SIGNER_PASSPHRASE(_FILE))');
  return given;
}

/** Opens `--key` with its passphrase; the role must be `role`. */
export function openKeyOption(values: CommandArgs['values'], io: Io, role: SignerKeyRole): IdentityKey {
  const path = stringOption(values, 'key');
  if (path === undefined) throw new UsageError('--key FILE is required');
  let raw: unknown;
  try {
    raw = JSON.parse(io.readFile(path));
  } catch (e) {
    throw new ClientError(
      'invalid_key_file',
      `cannot read the key file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let opened: ReturnType<typeof openSignerKeyFile>;
  try {
    opened = openSignerKeyFile(raw, passphraseOf(values, io));
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    throw new ClientError(e.code === 'keyfile_wrong_passphrase' ? 'wrong_passphrase' : 'invalid_key_file', `${path}: ${e.message}`);
  }
  if (opened.role !== role) throw new ClientError('invalid_key_file', `${path} holds a ${opened.role} key; this command signs as ${role}`);
  return opened.identity;
}

/** scrypt cost override for tests (GLACIS_SCRYPT_LOG_N); everyone else keeps the default. */
function logNOf(io: Io): { logN?: number } {
  const v = io.env.GLACIS_SCRYPT_LOG_N;
  return v === undefined ? {} : { logN: Number(v) };
}

export const approverCreate: Command = {
  words: ['approver', 'create'],
  summary: 'create a signer key (an approver’s, or with --role policy-admin an administrator’s), sealed under a passphrase',
  usage: `usage: glacis approver create --out FILE [--role approver|policy-admin] [--passphrase-file F]

Makes a fresh Ed25519 key and writes it to FILE (created, never over an existing file; readable by
you only), sealed under the passphrase with scrypt and XChaCha20-Poly1305 (docs/policy.md, "Signer
key files"). Prints {"publicKey","role","file"}: give publicKey to the policy administrators
(an approver goes into an approver group of the policy; an administrator is pinned by every party).

options:
  --out FILE              where to write the key file (required)
  --role ROLE             approver (default) or policy-admin
  --passphrase-file F     file holding the passphrase (or GLACIS_SIGNER_PASSPHRASE(_FILE))
  -h, --help              this help

exit: 0 written, 1 could not (the file exists, cannot be written), 64 usage`,
  options: { out: { type: 'string' }, role: { type: 'string' }, 'passphrase-file': { type: 'string' } },
  positionals: [],
  async run({ values }, io) {
    const out = stringOption(values, 'out');
    if (out === undefined) throw new UsageError('--out FILE is required');
    const role = stringOption(values, 'role') ?? 'approver';
    if (!(SIGNER_KEY_ROLES as readonly string[]).includes(role))
      throw new UsageError(`--role: expected approver or policy-admin, got "${role}"`);
    const { file } = createSignerKeyFile(
      passphraseOf(values, io),
      role as SignerKeyRole,
      (n = 32) => new Uint8Array(randomBytes(n)),
      logNOf(io),
    );
    try {
      io.writeFile(out, `${JSON.stringify(file, null, 2)}\n`);
    } catch (e) {
      throw new ClientError('invalid_key_file', `cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    io.stdout(JSON.stringify({ publicKey: file.publicKey, role, file: out }));
    return EXIT.ok;
  },
};
