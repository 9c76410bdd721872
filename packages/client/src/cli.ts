#!/usr/bin/env node
/**
 * glacis: Glacis on a custody desk's side (see `glacis --help`).
 *
 *   glacis keys verify <keyId> --trust FILE [--url URL] [--token TOKEN]
 *   glacis audit verify [--anchor SEQ:HASH]... [--url URL] [--token TOKEN]
 *   glacis approver create --out FILE [--role approver|policy-admin]
 *   glacis signatures pending|show|approve|reject …
 *   glacis policy sign|push|status …
 *   glacis parties outbox <partyId> --out FILE|DIR/ · glacis parties inbox <partyId> --in FILE|DIR
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { runCli } from './cli/run.js';

runCli(process.argv.slice(2), {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  readFile: (path) => readFileSync(path, 'utf8'),
  writeFile: (path, text) => writeFileSync(path, text, { flag: 'wx', mode: 0o600 }),
  fetch,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`glacis: unexpected error: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  },
);
