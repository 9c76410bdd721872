/** Where the operator's secret for the keystore comes from: flags, then environment. */
import { readFileSync } from 'node:fs';
import { PartyError } from '../errors.js';
import { isDemoSecret } from './demo-secrets.js';
import type { UnlockSource } from './sealing.js';

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new PartyError('unlock_secret_unreadable', `cannot read the ${what} file ${path}: ${(e as Error).message}`);
  }
}

function parseKek(hex: string, where: string): UnlockSource {
  const t = hex.trim();
  if (!/^[0-9a-f]{64}$/i.test(t)) throw new PartyError('invalid_kek', `${where}: a key-encryption key is 32 bytes of hex (64 characters)`);
  return { kind: 'kek', kek: new Uint8Array(Buffer.from(t, 'hex')) };
}

/**
 * The unlock source, from (in order) --kek-file, --passphrase-file, GLACIS_KEK_FILE, GLACIS_KEK,
 * GLACIS_PASSPHRASE_FILE, GLACIS_PASSPHRASE. Prefer files (or compose secrets) to variables. The
 * committed demo secrets are refused unless GLACIS_DEMO=1.
 */
export function resolveUnlockSource(
  flags: { kekFile?: string | undefined; passphraseFile?: string | undefined },
  env: NodeJS.ProcessEnv,
): UnlockSource {
  const source = findUnlockSource(flags, env);
  if (isDemoSecret(source) && env.GLACIS_DEMO !== '1')
    throw new PartyError(
      'demo_secret_refused',
      'the keystore secret is a public demo secret from deploy/secrets/: use your own (GLACIS_SECRETS_DIR, docs/operations.md), or set GLACIS_DEMO=1 for the local demo only',
    );
  return source;
}

/** The unlock source the flags or the environment name, in the order of resolveUnlockSource. */
function findUnlockSource(
  flags: { kekFile?: string | undefined; passphraseFile?: string | undefined },
  env: NodeJS.ProcessEnv,
): UnlockSource {
  if (flags.kekFile) return parseKek(readSecretFile(flags.kekFile, 'key-encryption key'), flags.kekFile);
  if (flags.passphraseFile) return { kind: 'passphrase', passphrase: readSecretFile(flags.passphraseFile, 'passphrase') };
  if (env.GLACIS_KEK_FILE) return parseKek(readSecretFile(env.GLACIS_KEK_FILE, 'key-encryption key'), env.GLACIS_KEK_FILE);
  if (env.GLACIS_KEK) return parseKek(env.GLACIS_KEK, 'GLACIS_KEK');
  if (env.GLACIS_PASSPHRASE_FILE) return { kind: 'passphrase', passphrase: readSecretFile(env.GLACIS_PASSPHRASE_FILE, 'passphrase') };
  if (env.GLACIS_PASSPHRASE) return { kind: 'passphrase', passphrase: env.GLACIS_PASSPHRASE };
  throw new PartyError(
    'unlock_secret_missing',
    'no keystore secret given: set GLACIS_PASSPHRASE_FILE (or GLACIS_PASSPHRASE) for a passphrase, or GLACIS_KEK_FILE (or GLACIS_KEK) for a key-encryption key',
  );
}
