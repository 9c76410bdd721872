import { describe, expect, test } from 'vitest';
import { type CliCommand, type CliProgram, parseCommandLine } from './command-line.js';

const program: CliProgram<CliCommand> = {
  name: 'tool',
  footer: 'tool COMMAND --help explains a command.',
  commands: {
    init: { args: '--dir DIR', summary: 'Make a directory.', flags: { dir: { type: 'string', help: 'where' } } },
    'keys list': {
      args: '--dir DIR [--json]',
      summary: 'List keys.',
      flags: { dir: { type: 'string', help: 'where' }, json: { type: 'boolean', help: 'JSON' } },
    },
    'keys show': { args: '--id ID', summary: 'Show a key.', flags: { id: { type: 'string', multiple: true, help: 'which' } } },
  },
};
const parse = (...argv: string[]) => parseCommandLine(program, argv);

describe('parseCommandLine', () => {
  test('runs a command or a subcommand with its parsed flags', () => {
    expect(parse('init', '--dir', '/d')).toMatchObject({ kind: 'run', name: 'init', values: { dir: '/d' } });
    expect(parse('keys', 'list', '--json')).toMatchObject({ kind: 'run', name: 'keys list', values: { json: true } });
    expect(parse('keys', 'show', '--id', 'a', '--id', 'b')).toMatchObject({ kind: 'run', values: { id: ['a', 'b'] } });
  });

  test('--help and -h answer help at every level', () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const r = parse(...argv);
      expect(r.kind).toBe('help');
      expect(r.kind === 'help' && r.text).toMatch(/tool init --dir DIR\n {2}tool keys list/);
    }
    const group = parse('keys', '--help');
    expect(group.kind === 'help' && group.text).toMatch(/^usage:\n {2}tool keys list .*\n {2}tool keys show/);
    expect(group.kind === 'help' && group.text).not.toContain('tool init');
    for (const argv of [
      ['init', '--help'],
      ['keys', 'list', '-h'],
      ['init', '--dir', 'x', '-h'],
    ]) {
      const r = parse(...argv);
      expect(r.kind === 'help' && r.text).toMatch(/^usage: tool (init|keys list) /);
    }
  });

  test('unknown input is a usage error carrying the closest usage', () => {
    expect(parse()).toMatchObject({ kind: 'usage_error', message: 'no command given', usage: expect.stringContaining('tool init') });
    expect(parse('nope')).toMatchObject({ kind: 'usage_error', message: 'unknown command "nope"' });
    expect(parse('keys')).toMatchObject({
      kind: 'usage_error',
      message: '"keys" needs a subcommand',
      usage: expect.stringContaining('keys list'),
    });
    expect(parse('keys', 'drop')).toMatchObject({ kind: 'usage_error', message: 'unknown command "keys drop"' });
    const flag = parse('init', '--bogus');
    expect(flag).toMatchObject({ kind: 'usage_error', usage: expect.stringMatching(/^usage: tool init --dir DIR/) });
    expect(parse('init', 'stray')).toMatchObject({ kind: 'usage_error' });
    expect(parse('init', '--json')).toMatchObject({ kind: 'usage_error' });
  });

  test('names of the command table cannot be reached through the prototype', () => {
    expect(parse('constructor')).toMatchObject({ kind: 'usage_error' });
    expect(parse('keys', 'toString')).toMatchObject({ kind: 'usage_error' });
  });
});
