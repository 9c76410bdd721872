/**
 * `glacis-party offline preprocess` and `glacis-party offline process` (alias `offline sign`): the
 * offline party on the command line. Bundles come in and go out as a file (removable media) or, when the path is a
 * directory, as animated QR frames: PNG images plus a self-contained animated page to show on the
 * vault's screen; a directory of photographed frames is read back in any order, some missing.
 */
import { createInterface } from 'node:readline/promises';
import {
  assertMediaWritable,
  DENSITY_PRESETS,
  type DensityPreset,
  isAirgapError,
  type MediaWritten,
  readBundleMedia,
  writeBundleMedia,
} from '@glacis/airgap';
import type { CliFlag, CliRunnable, CliValues } from '@glacis/protocol/command-line';
import { UsageError } from '@glacis/protocol/command-line';
import { pino } from 'pino';
import { loadPartyConfig } from '../config.js';
import { createCrashPoints } from '../crash-points.js';
import { PartyError } from '../errors.js';
import { openKeystore } from '../keystore/keystore.js';
import type { UnlockSource } from '../keystore/sealing.js';
import { realClock } from '../ports.js';
import { openPartyRecords } from '../records.js';
import type { SigningView } from '../signing/signing-handler.js';
import { assertOffline } from './network-check.js';
import type { DkgJoinView } from './offline-dkg.js';
import type { LifecycleJoinView } from './offline-lifecycle.js';
import { type OfflineParty, openOfflineParty } from './offline-party.js';
import { describeDkgJoin, describeLifecycleJoin, describeSigningView } from './signing-view.js';

export interface OfflineCommandDeps {
  dataDirOf(v: CliValues, usage: string): string;
  unlockOf(v: CliValues): UnlockSource;
  /** The data-dir and keystore-secret flags every command takes. */
  commonFlags: Record<string, CliFlag>;
}

const ONLINE_FLAG: Record<string, CliFlag> = {
  'i-know-this-machine-is-online': {
    type: 'boolean',
    help: 'run although a network interface other than loopback is up (labs and tests only)',
  },
};
const DENSITY_FLAG: Record<string, CliFlag> = {
  density: { type: 'string', help: `QR density when --out is a directory: ${Object.keys(DENSITY_PRESETS).join(', ')} (default medium)` },
};

const str = (v: CliValues, k: string) => v[k] as string | undefined;

async function readInput(path: string): Promise<Uint8Array> {
  const read = await readBundleMedia(path);
  if (read.skipped.length > 0) process.stderr.write(`${read.skipped.length} image(s) held no usable frame; not needed\n`);
  return read.bundle;
}

/** Checked before anything is signed: a bad flag must not strand released shares. */
function checkDensity(v: CliValues, usage: string): void {
  const density = str(v, 'density');
  if (density !== undefined && !(density in DENSITY_PRESETS))
    throw new UsageError(`--density: one of ${Object.keys(DENSITY_PRESETS).join(', ')}`, usage);
}

/** Checked before anything is made or signed: a bundle is never written over an earlier file or transfer. */
function checkOut(out: string, usage: string): void {
  try {
    assertMediaWritable(out);
  } catch (e) {
    if (isAirgapError(e)) throw new UsageError(e.message, usage);
    throw e;
  }
}

const writeOutput = (path: string, bundle: Uint8Array, title: string, density: string | undefined): Promise<MediaWritten> =>
  writeBundleMedia(path, bundle, { title, density: (density ?? 'medium') as DensityPreset });

/** Opens the party for offline work, after the network check. */
async function openParty(v: CliValues, usage: string, deps: OfflineCommandDeps) {
  assertOffline(v['i-know-this-machine-is-online'] === true);
  const dataDir = deps.dataDirOf(v, usage);
  const config = loadPartyConfig(dataDir, process.env);
  const crash = createCrashPoints(process.env.GLACIS_TEST_CRASH_POINTS);
  const keystore = openKeystore(dataDir, deps.unlockOf(v), { crash });
  const records = await openPartyRecords(dataDir);
  const logger = pino(
    { name: 'glacis-party', base: { partyId: config.partyId }, level: process.env.GLACIS_LOG_LEVEL ?? 'warn' },
    pino.destination(2),
  );
  const party: OfflineParty = openOfflineParty({
    config,
    identity: keystore.loadIdentity(),
    keystore,
    records,
    logger,
    clock: realClock,
    crash,
  });
  return { config, party, records };
}

/** Asks on the terminal (`what`: "sign this request", "join this key generation"); a non-terminal stdin cannot confirm. */
async function askOperator(lines: string[], what: string): Promise<boolean> {
  process.stderr.write(`\n${lines.join('\n')}\n`);
  if (!process.stdin.isTTY) {
    process.stderr.write(`no terminal to confirm on: NOT done (${what}; use --yes where the party allows unattended work)\n`);
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${what}? type "yes" to go ahead: `);
    return answer.trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

export function offlineCommands(deps: OfflineCommandDeps): Record<string, CliRunnable> {
  const processCommand: CliRunnable = {
    args: '--data-dir DIR --in FILE|DIR --out FILE|DIR/ [--yes] [--density D] [--i-know-this-machine-is-online]',
    summary:
      "Read a bundle from the coordinator (a file, or a directory of QR frame images): show each signing request's intent and the rule that allows it, each key generation to join (key, suite, threshold, committee) and each refresh, repair or reshare to take part in (key, generation, committees, role), do what the operator confirms, answer drills, certificates and successor tests, and write the answers as one bundle (a file, or QR frames in a directory).",
    flags: {
      ...deps.commonFlags,
      in: { type: 'string', help: 'the request bundle file, or a directory of QR frame images (any order, some may be missing)' },
      out: { type: 'string', help: 'bundle file to write, or a directory (trailing /) for PNG QR frames and an animated page' },
      yes: {
        type: 'boolean',
        help: "sign, and join key generations and lifecycle operations, without asking, when party.json's policy.unattendedOffline allows it",
      },
      ...DENSITY_FLAG,
      ...ONLINE_FLAG,
    },
    async run(v, usage) {
      const input = str(v, 'in');
      const out = str(v, 'out');
      if (!input || !out) throw new UsageError('--in and --out are required', usage);
      checkOut(out, usage);
      checkDensity(v, usage);
      const { party, records, config } = await openParty(v, usage, deps);
      const unattended = v.yes === true;
      if (unattended && !config.policy.unattendedOffline)
        throw new PartyError(
          'unattended_not_allowed',
          "--yes: this party's policy (party.json policy.unattendedOffline) requires an operator to confirm each request",
        );
      try {
        const bytes = await readInput(input);
        const ask = async (lines: string[], what: string) => {
          if (!unattended) return askOperator(lines, what);
          process.stderr.write(`\n${lines.join('\n')}\n${what}: yes, unattended (--yes)\n`);
          return true;
        };
        const outcome = await party.process(bytes, {
          signing: (view: SigningView) => ask(describeSigningView(view, config.keyLabels[view.pkg.keyId] ?? null), 'sign this request'),
          dkg: (view: DkgJoinView) => ask(describeDkgJoin(view, config.keyLabels[view.keyId] ?? null), 'join this key generation'),
          lifecycle: (view: LifecycleJoinView) =>
            ask(describeLifecycleJoin(view, config.keyLabels[view.keyId] ?? null), `take part in this ${view.operation}`),
        });
        let written: MediaWritten | null = null;
        if (outcome.response) {
          written = await writeOutput(
            out,
            outcome.response,
            `${config.partyId}: answers to bundle ${outcome.request.sequence}`,
            str(v, 'density'),
          );
        }
        outcome.commit();
        const summary = {
          request: { sender: outcome.request.sender, sequence: outcome.request.sequence, items: outcome.request.items.length },
          results: outcome.results,
          out: written,
        };
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      } finally {
        await records.close();
      }
      return 0;
    },
  };
  return {
    'offline preprocess': {
      args: '--data-dir DIR --key ID --count N --out FILE|DIR/ [--density D] [--i-know-this-machine-is-online]',
      summary:
        'Make N nonces for a key, sealed at rest here, and export their commitments to the coordinator as one bundle (a file, or QR frames in a directory).',
      flags: {
        ...deps.commonFlags,
        key: { type: 'string', help: 'the key to preprocess nonces for' },
        count: { type: 'string', help: 'how many (1 to 10000); each later signature of one message uses one' },
        out: { type: 'string', help: 'bundle file to write, or a directory (trailing /) for PNG QR frames and an animated page' },
        ...DENSITY_FLAG,
        ...ONLINE_FLAG,
      },
      async run(v, usage) {
        const keyId = str(v, 'key');
        const out = str(v, 'out');
        const count = Number(str(v, 'count'));
        if (!keyId || !out) throw new UsageError('--key and --out are required', usage);
        if (!Number.isInteger(count) || count < 1 || count > 10_000) throw new UsageError('--count: an integer from 1 to 10000', usage);
        checkOut(out, usage);
        checkDensity(v, usage);
        const { party, records, config } = await openParty(v, usage, deps);
        try {
          const bundle = party.preprocess(keyId, count);
          const written = await writeOutput(out, bundle, `${config.partyId}: ${count} nonce commitments for ${keyId}`, str(v, 'density'));
          process.stdout.write(`${JSON.stringify({ keyId, commitments: count, unusedNonces: party.nonceCount(keyId), out: written })}\n`);
        } finally {
          await records.close();
        }
        return 0;
      },
    },
    'offline process': processCommand,
    // The name this command had when bundles carried signing requests only.
    'offline sign': { ...processCommand, summary: 'The same as `offline process`.' },
  };
}
