/**
 * The desk's side of a trip to an offline party's vault (docs/offline.md): `glacis parties outbox`
 * carries what waits for the party out of the coordinator onto removable media, `glacis parties
 * inbox` carries the vault's answer back in. A path is a bundle file, or a directory of QR frames
 * (PNG images and an animated page to show on a screen; photographs of frames when read back),
 * by packages/airgap's one rule for both sides of the air gap. Media live on the real file system,
 * not behind `Io`: the transports are packages/airgap's, and tests use temporary directories.
 */
import { assertMediaWritable, DENSITY_PRESETS, type DensityPreset, isAirgapError, readBundleMedia, writeBundleMedia } from '@glacis/airgap';
import { type BundleHeader, COORDINATOR, fromHex, isBundleError, isProtocolError, readBundleHeader, toHex } from '@glacis/protocol';
import { ClientError } from '../errors.js';
import { CONNECTION_OPTIONS, CONNECTION_USAGE, type Command, connect, EXIT, stringOption, UsageError } from './command.js';

const DENSITIES = Object.keys(DENSITY_PRESETS) as DensityPreset[];

/** The transports' and the bundle reader's failures, as the client's `invalid_bundle`. */
async function media<T>(what: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isAirgapError(e) || isBundleError(e) || isProtocolError(e))
      throw new ClientError('invalid_bundle', `${what}: ${e.code}: ${e.message}`, { cause: e });
    const errno = (e as NodeJS.ErrnoException).code;
    if (errno !== undefined) throw new ClientError('invalid_bundle', `${what}: ${errno}: ${(e as Error).message}`, { cause: e });
    throw e;
  }
}

const headerJson = (h: BundleHeader) => ({ sender: h.sender, recipient: h.recipient, sequence: h.sequence, bundleId: toHex(h.bundleId) });

export const partiesOutbox: Command = {
  words: ['parties', 'outbox'],
  summary: 'carry what waits for an offline party out: its outbox as a bundle file or QR frames',
  usage: `usage: glacis parties outbox <partyId> --out FILE|DIR/ [--density D] [--url URL] [--token TOKEN]

Asks the coordinator for what waits for the offline party (GET /v1/parties/{id}/outbox): the
signing packages of running requests and the messages of key generations and lifecycle
operations (refresh, repair, reshare, drill) it takes part in, sealed by the coordinator into one bundle for this read, under a sequence above every earlier
one. Writes it to --out for the trip to the vault, where \`glacis-party offline process --in\`
reads it: a bundle file, or a directory (trailing /) of PNG QR frames and two animated pages to
show on a screen. Never writes over an earlier file or transfer. Each run seals a new bundle:
carry the latest. Prints what it wrote as JSON (the requests it carries under signatureIds, the
key generations under keyIds, the lifecycle operations under operationIds); with nothing waiting, writes nothing and says so. Needs an admin
token.

options:
  --out FILE|DIR/   the bundle file, or a directory for QR frames (required)
  --density D       QR density of a directory: ${DENSITIES.join(', ')} (default medium)
${CONNECTION_USAGE}
  -h, --help        this help

exit: 0 written (or nothing waiting), 1 could not (no answer, HTTP error, unwritable --out),
      3 refused (the coordinator's bundle is not addressed to the party), 64 usage`,
  options: { ...CONNECTION_OPTIONS, out: { type: 'string' }, density: { type: 'string' } },
  positionals: ['partyId'],
  async run({ values, positionals }, io) {
    const partyId = positionals[0] as string;
    const out = stringOption(values, 'out');
    if (out === undefined) throw new UsageError('--out FILE|DIR/ is required');
    const density = stringOption(values, 'density') ?? 'medium';
    if (!(DENSITIES as string[]).includes(density)) throw new UsageError(`--density: one of ${DENSITIES.join(', ')}`);
    try {
      // Before asking: every read seals a new bundle, so do not ask for one that cannot be written.
      assertMediaWritable(out);
    } catch (e) {
      if (isAirgapError(e)) throw new UsageError(e.message);
      throw e;
    }
    const client = connect(values, io);
    const { body: outbox } = await client.partyOutbox({ params: { partyId }, query: { format: 'json' } });
    if (outbox.bundle === null) {
      io.stdout(JSON.stringify({ partyId, items: 0, signatureIds: [], keyIds: [], operationIds: [], out: null }));
      io.stderr(`glacis: nothing waits for ${partyId}; nothing written`);
      return EXIT.ok;
    }
    const bundle = await media('the outbox', () => fromHex(outbox.bundle as string));
    const header = await media('the outbox', () => readBundleHeader(bundle));
    if (header.recipient !== partyId || header.sender !== COORDINATOR) {
      io.stderr(`glacis: the outbox of ${partyId} holds a bundle from ${header.sender} to ${header.recipient}: REFUSED, nothing written`);
      return EXIT.refused;
    }
    const written = await media(out, () =>
      writeBundleMedia(out, bundle, {
        title: `coordinator → ${partyId}: bundle ${header.sequence}, ${outbox.items} item(s)`,
        density: density as DensityPreset,
      }),
    );
    io.stdout(
      JSON.stringify({
        ...headerJson(header),
        partyId,
        items: outbox.items,
        signatureIds: outbox.signatureIds,
        keyIds: outbox.keyIds,
        operationIds: outbox.operationIds,
        out: written,
      }),
    );
    return EXIT.ok;
  },
};

export const partiesInbox: Command = {
  words: ['parties', 'inbox'],
  summary: "carry an offline party's answer in: a bundle file or photos of its QR frames, to its inbox",
  usage: `usage: glacis parties inbox <partyId> --in FILE|DIR [--url URL] [--token TOKEN]

Reads the bundle the vault wrote (\`glacis-party offline process --out\` or \`preprocess --out\`): a
bundle file, or a directory of photographs or screenshots of its QR frames (PNG, any names, any
order, some missing), and delivers it to the coordinator (POST /v1/parties/{id}/inbox). The
coordinator checks it whole before anything changes and either takes all of it — the answers to
signing requests and key generations, preprocessed nonce commitments — or refuses all of it with
a code (stderr): the same bundle again is bundle_replayed. Prints the receipt as JSON. Needs an admin token.

options:
  --in FILE|DIR   the bundle file, or the directory of frame images (required)
${CONNECTION_USAGE}
  -h, --help      this help

exit: 0 delivered, 1 not delivered (unreadable bundle or frames, no answer, refused by the
      coordinator: its code on stderr), 64 usage`,
  options: { ...CONNECTION_OPTIONS, in: { type: 'string' } },
  positionals: ['partyId'],
  async run({ values, positionals }, io) {
    const partyId = positionals[0] as string;
    const input = stringOption(values, 'in');
    if (input === undefined) throw new UsageError('--in FILE|DIR is required');
    const client = connect(values, io);
    const read = await media(input, () => readBundleMedia(input));
    if (read.skipped.length > 0) io.stderr(`glacis: ${read.skipped.length} image(s) held no usable frame; not needed`);
    const header = await media(input, () => readBundleHeader(read.bundle));
    if (header.sender !== partyId)
      throw new ClientError('invalid_bundle', `${input}: a bundle from ${header.sender}, not ${partyId}: not delivered`);
    const { body: receipt } = await client.partyInbox({ params: { partyId }, body: { bundle: toHex(read.bundle) } });
    io.stdout(JSON.stringify({ ...receipt, bundleId: toHex(header.bundleId), in: { path: input, bytes: read.bundle.length } }));
    return EXIT.ok;
  },
};
