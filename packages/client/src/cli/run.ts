/**
 * The `glacis` dispatcher: `glacis <group> <command> [options]`. Every level answers --help/-h
 * with its usage on stdout and exit 0; unknown input gets the nearest usage on stderr and exit 64.
 */
import { parseArgs } from 'node:util';
import { isClientError } from '../errors.js';
import { auditVerify } from './audit-verify.js';
import { type Command, DEFAULT_URL, EXIT, type Io, UsageError } from './command.js';
import { keysVerify } from './keys-verify.js';
import { partiesInbox, partiesOutbox } from './parties.js';
import { policyPush, policySign, policyStatus } from './policy.js';
import { signaturesApprove, signaturesPending, signaturesReject, signaturesShow } from './signatures.js';
import { approverCreate } from './signer-key.js';

/** Every command, in the order `glacis --help` lists them. */
export const COMMANDS: readonly Command[] = [
  keysVerify,
  auditVerify,
  approverCreate,
  signaturesPending,
  signaturesShow,
  signaturesApprove,
  signaturesReject,
  policySign,
  policyPush,
  policyStatus,
  partiesOutbox,
  partiesInbox,
];

const isHelp = (arg: string) => arg === '--help' || arg === '-h';
const line = (c: Command) => `  ${c.words.join(' ').padEnd(20)} ${c.summary}`;

/** `glacis --help`. */
export const USAGE = `usage: glacis <command> [options]

Glacis on a custody desk's side: check what the coordinator says against what you pinned yourself.

commands:
${COMMANDS.map(line).join('\n')}

Every command takes --url URL (or GLACIS_URL; default ${DEFAULT_URL}) and --token TOKEN (or
GLACIS_TOKEN). \`glacis <command> --help\` shows a command's options.
exit: 0 ok, 1 could not check, 3 refused (do not trust it), 64 usage`;

function groupUsage(group: string): string {
  return `usage: glacis ${group} <command> [options]\n\ncommands:\n${COMMANDS.filter((c) => c.words[0] === group)
    .map(line)
    .join('\n')}`;
}

function usageError(io: Io, message: string, usage: string): number {
  io.stderr(`glacis: ${message}\n${usage}`);
  return EXIT.usage;
}

/** Runs `glacis` with `argv` (without the node and script paths); resolves with the exit status. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const [group, name, ...rest] = argv;
  if (group === undefined) return usageError(io, 'no command given', USAGE);
  if (isHelp(group)) {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  if (!COMMANDS.some((c) => c.words[0] === group)) return usageError(io, `unknown command "${group}"`, USAGE);
  if (name === undefined) return usageError(io, `${group}: no command given`, groupUsage(group));
  if (isHelp(name)) {
    io.stdout(groupUsage(group));
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.words[0] === group && c.words[1] === name);
  if (!command) return usageError(io, `unknown command "${group} ${name}"`, groupUsage(group));

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    return usageError(io, (e as Error).message, command.usage);
  }
  if (parsed.values.help) {
    io.stdout(command.usage);
    return EXIT.ok;
  }
  if (parsed.positionals.length !== command.positionals.length) {
    const wanted = command.positionals.map((p) => `<${p}>`).join(' ') || 'no arguments';
    return usageError(io, `expected ${wanted}, got ${parsed.positionals.length} argument(s)`, command.usage);
  }
  try {
    return await command.run({ values: parsed.values, positionals: parsed.positionals }, io);
  } catch (e) {
    if (e instanceof UsageError) return usageError(io, e.message, command.usage);
    if (isClientError(e)) {
      io.stderr(`glacis: ${e.message}`);
      return EXIT.couldNotCheck;
    }
    throw e;
  }
}
