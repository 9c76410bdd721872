/**
 * One grammar for every Glacis command-line tool (`glacis-party`, `glacis-coordinator`, and any
 * later one): `PROGRAM COMMAND [SUBCOMMAND] --flag value...`, with `--help`/`-h` at every level.
 * parseCommandLine is pure: it reads an argv and a table of commands and says what to do (print a
 * help text, report a usage error, or run a command with its parsed flags). runCommandLine does it
 * with the output streams it is given and returns the exit code: 0, 64 for a usage error, 1 for
 * anything else a command throws (the tool's own `describe` says what in one line). Flags are
 * parsed by node:util parseArgs, strictly: an unknown flag or a positional is a usage error.
 *
 * Imported by path (`@glacis/protocol/command-line`) so the protocol's root stays free of Node
 * built-ins.
 */
import { parseArgs } from 'node:util';

/** A flag of a command. */
export interface CliFlag {
  type: 'string' | 'boolean';
  /** May be given more than once (its value is then a list). */
  multiple?: true;
  help: string;
}

/** A usage error a command finds itself (a required flag missing): exit 64 with `usage`. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

/** A command as the grammar sees it: what follows its name on the usage line, a summary, its flags. */
export interface CliCommand {
  args: string;
  summary: string;
  flags: Record<string, CliFlag>;
}

/** Parsed flag values, by flag name. */
export type CliValues = Record<string, string | boolean | string[] | undefined>;

/** What an argv asks for. */
export type CliParse =
  | { kind: 'help'; text: string }
  | { kind: 'usage_error'; message: string; usage: string }
  | { kind: 'run'; name: string; values: CliValues; usage: string };

/** A program: its name, its commands (one or two words each), and a line closing the list. */
export interface CliProgram<C extends CliCommand> {
  name: string;
  commands: Readonly<Record<string, C>>;
  footer: string;
}

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h';

/** The usage text of one command: its line, its summary, its flags. */
export function commandUsage<C extends CliCommand>(program: CliProgram<C>, name: string): string {
  const c = program.commands[name] as C;
  const flags = Object.entries(c.flags).map(([k, f]) => `  --${k.padEnd(24)} ${f.help}`);
  return [
    `usage: ${program.name} ${name} ${c.args}`.trimEnd(),
    '',
    c.summary,
    '',
    'options:',
    ...flags,
    `  ${'-h, --help'.padEnd(26)} this text`,
  ].join('\n');
}

/** The list of commands whose name starts with `prefix` ('' for all). */
export function commandList<C extends CliCommand>(program: CliProgram<C>, prefix = ''): string {
  const lines = Object.keys(program.commands)
    .filter((n) => n.startsWith(prefix))
    .map((n) => `  ${program.name} ${n} ${(program.commands[n] as C).args}`.trimEnd());
  return ['usage:', ...lines, '', program.footer].join('\n');
}

/** Reads `argv` (without node and the script) against `program`. */
export function parseCommandLine<C extends CliCommand>(program: CliProgram<C>, argv: readonly string[]): CliParse {
  const [first, second] = argv;
  if (first === undefined) return { kind: 'usage_error', message: 'no command given', usage: commandList(program) };
  if (isHelp(first) || first === 'help') return { kind: 'help', text: commandList(program) };
  const pair = `${first} ${second}`;
  const name = second !== undefined && Object.hasOwn(program.commands, pair) ? pair : first;
  if (!Object.hasOwn(program.commands, name)) {
    const group = `${first} `;
    if (!Object.keys(program.commands).some((n) => n.startsWith(group)))
      return { kind: 'usage_error', message: `unknown command "${first}"`, usage: commandList(program) };
    if (isHelp(second)) return { kind: 'help', text: commandList(program, group) };
    const message = second === undefined ? `"${first}" needs a subcommand` : `unknown command "${pair}"`;
    return { kind: 'usage_error', message, usage: commandList(program, group) };
  }
  const usage = commandUsage(program, name);
  const flags = (program.commands[name] as C).flags;
  const options = Object.fromEntries(
    Object.entries(flags).map(([k, f]) => [k, f.multiple ? { type: f.type, multiple: true } : { type: f.type }]),
  );
  try {
    const { values } = parseArgs({
      args: argv.slice(name.split(' ').length),
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) return { kind: 'help', text: usage };
    return { kind: 'run', name, values: values as CliValues, usage };
  } catch (e) {
    return { kind: 'usage_error', message: (e as Error).message, usage };
  }
}

/** A command that runs: it returns the exit code, or throws (UsageError: 64, anything else: 1). */
export interface CliRunnable extends CliCommand {
  run(values: CliValues, usage: string): Promise<number>;
}

/** Where a tool's output goes, and how it names a failure in one line. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** The one line a failure is reported with (a known error's message, else its stack). */
  describe(e: unknown): string;
}

/** Parses `argv`, prints help or runs the command, and returns the process's exit code; never rejects. */
export async function runCommandLine<C extends CliRunnable>(program: CliProgram<C>, argv: readonly string[], io: CliIo): Promise<number> {
  const usageError = (message: string, usage: string) => {
    io.err(`${program.name}: ${message}\n${usage}`);
    return 64;
  };
  const parsed = parseCommandLine(program, argv);
  switch (parsed.kind) {
    case 'help':
      io.out(parsed.text);
      return 0;
    case 'usage_error':
      return usageError(parsed.message, parsed.usage);
    case 'run':
      try {
        return await (program.commands[parsed.name] as C).run(parsed.values, parsed.usage);
      } catch (e) {
        if (e instanceof UsageError) return usageError(e.message, e.usage);
        io.err(`${program.name}: ${io.describe(e)}`);
        return 1;
      }
    default: {
      const never: never = parsed;
      io.err(`${program.name}: unhandled command line ${JSON.stringify(never)}`);
      return 1;
    }
  }
}
