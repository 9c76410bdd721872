/**
 * What every `glacis` command is made of: its words, usage text, options and a run function that
 * talks to the world only through `Io`, so commands run in tests without a process. New commands
 * (approvals, bundles) are one more module and one more entry in run.ts's list.
 */
import type { ParseArgsConfig } from 'node:util';
import { createGlacisClient, type GlacisClient } from '../client.js';

/** The process around a command: output lines, environment, files and the network. */
export interface Io {
  stdout(line: string): void;
  stderr(line: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** Reads a text file (UTF-8); throws like fs.readFileSync. */
  readFile(path: string): string;
  /** Creates a file with `text`, readable by its owner only, never over an existing one (throws EEXIST). */
  writeFile(path: string, text: string): void;
  fetch: typeof fetch;
}

/** Exit statuses of every command. */
export const EXIT = {
  ok: 0,
  /** The check could not be made: no answer, an HTTP error, an unreadable trust file. Not verified either. */
  couldNotCheck: 1,
  /** The check was made and failed: do not trust what the coordinator said. */
  refused: 3,
  /** Unknown command or option, missing argument (sysexits EX_USAGE). */
  usage: 64,
} as const;

/** Wrong arguments: the dispatcher prints the message and the command's usage on stderr, exit 64. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parsed arguments of one command. */
export interface CommandArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** One command, e.g. `glacis keys verify`. */
export interface Command {
  /** Its words after `glacis`: a group and a name. */
  readonly words: readonly [string, string];
  /** One line for the list of commands. */
  readonly summary: string;
  /** Its own `--help`. */
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** Names of the positional arguments it requires, in order. */
  readonly positionals: readonly string[];
  run(args: CommandArgs, io: Io): Promise<number>;
}

/** The coordinator when none is named: `npm start`'s. */
export const DEFAULT_URL = 'http://127.0.0.1:8700';

/** `--url` and `--token`, which every command that talks to the coordinator takes. */
export const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** The usage lines of CONNECTION_OPTIONS. */
export const CONNECTION_USAGE = `  --url URL      the coordinator (or GLACIS_URL; default ${DEFAULT_URL})
  --token TOKEN  bearer token (or GLACIS_TOKEN, better: arguments are visible to other users in ps)`;

/** A client for the coordinator the arguments and environment name. */
export function connect(values: CommandArgs['values'], io: Io): GlacisClient {
  const url = stringOption(values, 'url') ?? io.env.GLACIS_URL ?? DEFAULT_URL;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new UsageError(`--url: not an http(s) URL: ${url}`);
  const token = stringOption(values, 'token') ?? io.env.GLACIS_TOKEN;
  return createGlacisClient({ baseUrl: url, fetch: io.fetch, ...(token ? { token } : {}) });
}

/** A string option's value, or undefined. */
export function stringOption(values: CommandArgs['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}
