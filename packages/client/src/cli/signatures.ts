/**
 * The approver's commands: list what awaits approval, read a request's intent on this side (never
 * by the coordinator's word), approve it with one's own key, or reject it.
 */
import { randomBytes } from 'node:crypto';
import { approvalDigest, BITCOIN_NETWORKS, type BitcoinNetwork, isProtocolError, toHex } from '@glacis/protocol';
import type { GlacisClient } from '../client.js';
import { ClientError } from '../errors.js';
import { type IntentView, viewIntent } from '../intent-view.js';
import type { Key, Signature } from '../schemas.js';
import { parseTrustFile } from '../trust-file.js';
import { verifyKey } from '../verify-key.js';
import {
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  type Command,
  type CommandArgs,
  connect,
  EXIT,
  type Io,
  stringOption,
  UsageError,
} from './command.js';
import { KEY_OPTIONS, KEY_USAGE, openKeyOption } from './signer-key.js';

const READ_OPTIONS = { ...CONNECTION_OPTIONS, network: { type: 'string' }, trust: { type: 'string' } } as const;
const READ_USAGE = `  --network NET           bitcoin (default), testnet, signet or regtest: the chain PSBT addresses are shown for
  --trust FILE            check the key's certificate against the parties you pinned first (recommended)
${CONNECTION_USAGE}`;

function networkOf(values: CommandArgs['values'], io: Io): BitcoinNetwork {
  const n = stringOption(values, 'network') ?? io.env.GLACIS_BITCOIN_NETWORK ?? 'bitcoin';
  if (!(BITCOIN_NETWORKS as readonly string[]).includes(n))
    throw new UsageError(`--network: expected one of ${BITCOIN_NETWORKS.join(', ')}, got "${n}"`);
  return n as BitcoinNetwork;
}

/** A request, its key (checked against `--trust` when given) and the desk's own reading of it; or a refusal. */
async function read(
  client: GlacisClient,
  signatureId: string,
  values: CommandArgs['values'],
  io: Io,
): Promise<{ sig: Signature; key: Key; view: IntentView } | { refused: string }> {
  const { body: sig } = await client.getSignature({ params: { signatureId } });
  const { body: key } = await client.getKey({ params: { keyId: sig.keyId } });
  const trustPath = stringOption(values, 'trust');
  if (trustPath !== undefined) {
    let text: string;
    try {
      text = io.readFile(trustPath);
    } catch (e) {
      throw new ClientError(
        'invalid_trust_file',
        `cannot read the trust file ${trustPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    const verdict = verifyKey(key, parseTrustFile(text, trustPath));
    if (!verdict.ok) return { refused: `key ${key.keyId} REFUSED (${verdict.code}): ${verdict.reason}` };
  }
  if (key.publicKey === null) return { refused: `key ${key.keyId} is ${key.status}: nothing to sign with` };
  try {
    return {
      sig,
      key,
      view: viewIntent(sig.intent, { keyId: key.keyId, suite: key.suite, publicKey: key.publicKey }, networkOf(values, io)),
    };
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    return { refused: `the intent does not read as something this key can sign (${e.code}): ${e.message}` };
  }
}

export const signaturesPending: Command = {
  words: ['signatures', 'pending'],
  summary: 'list the signing requests awaiting approval, across keys',
  usage: `usage: glacis signatures pending [--limit N] [--url URL] [--token TOKEN]

Prints one JSON object per request awaiting approval: its id, key, intent type, when it was made,
and what the distributed policy still requires (the coordinator's reading; every party decides
again). Read one with \`glacis signatures show\` before approving it.

options:
  --limit N      at most this many (default 50)
${CONNECTION_USAGE}
  -h, --help     this help

exit: 0 listed, 1 could not (no answer, HTTP error), 64 usage`,
  options: { ...CONNECTION_OPTIONS, limit: { type: 'string' } },
  positionals: [],
  async run({ values }, io) {
    const limitText = stringOption(values, 'limit') ?? '50';
    if (!/^[1-9][0-9]{0,2}$/.test(limitText) || Number(limitText) > 500)
      throw new UsageError(`--limit: expected 1-500, got "${limitText}"`);
    const { body } = await connect(values, io).listAllSignatures({ query: { status: 'awaiting_approval', limit: Number(limitText) } });
    for (const s of body.signatures) {
      io.stdout(
        JSON.stringify({
          signatureId: s.signatureId,
          keyId: s.keyId,
          intent: s.intent.type,
          createdAt: s.createdAt,
          approvalStatus: s.approvalStatus,
        }),
      );
    }
    return EXIT.ok;
  },
};

export const signaturesShow: Command = {
  words: ['signatures', 'show'],
  summary: "read a request's intent on your side: the outputs, addresses, amounts and fee a PSBT pays",
  usage: `usage: glacis signatures show <signatureId> [--network NET] [--trust FILE] [--url URL] [--token TOKEN]

Fetches the request and its key and reads the intent here, with the code the parties use: for a
PSBT the inputs this key signs, every output (address on --network, amount, change or not), the
fee and the txid. Prints {"signatureId","keyId","status","context","approvals","intent":…}; the
intent's "intentDigest" names exactly what an approval binds (pass it to \`approve --intent-digest\`).

options:
${READ_USAGE}
  -h, --help              this help

exit: 0 shown, 1 could not (no answer, HTTP error), 3 refused (the key fails --trust, or the
intent is nothing this key can sign), 64 usage`,
  options: READ_OPTIONS,
  positionals: ['signatureId'],
  async run({ values, positionals }, io) {
    const r = await read(connect(values, io), positionals[0] as string, values, io);
    if ('refused' in r) {
      io.stderr(`glacis: ${r.refused}`);
      return EXIT.refused;
    }
    const { sig, view } = r;
    io.stdout(
      JSON.stringify({
        signatureId: sig.signatureId,
        keyId: sig.keyId,
        status: sig.status,
        context: sig.context,
        approvals: sig.approvals.map((a) => ({ approverKey: a.approverKey, policyVersion: a.policyVersion, expiresAt: a.expiresAt })),
        approvalStatus: sig.approvalStatus,
        intent: view,
      }),
    );
    return EXIT.ok;
  },
};

export const signaturesApprove: Command = {
  words: ['signatures', 'approve'],
  summary: 'approve a request awaiting approval with your approver key',
  usage: `usage: glacis signatures approve <signatureId> --key FILE [--intent-digest HEX] [--expires-in MINUTES]
                                [--policy-version N] [--network NET] [--trust FILE] [--url URL] [--token TOKEN]

Reads the request's intent here (as \`show\` does), signs its approval digest (docs/api.md: the
intent, key, context, policy version, a fresh nonce and an expiry) with your key and adds the
approval. With --intent-digest, refuses unless the request still asks for exactly what you read
with \`show\`. The policy version is the distributed one (GET /v1/policy) unless given.
Prints {"signatureId","status","approverKey","intent"}.

options:
${KEY_USAGE}
  --intent-digest HEX     the intentDigest you reviewed; anything else is refused
  --expires-in MINUTES    how long the approval counts (default 60; parties cap it, 7 days by default)
  --policy-version N      the policy version to approve under (default: the distributed one)
${READ_USAGE}
  -h, --help              this help

exit: 0 approved, 1 could not (no answer, HTTP error such as 409, key file), 3 refused (the intent
is not what --intent-digest says, the key fails --trust, or the intent is nothing this key can
sign), 64 usage`,
  options: {
    ...READ_OPTIONS,
    ...KEY_OPTIONS,
    'intent-digest': { type: 'string' },
    'expires-in': { type: 'string' },
    'policy-version': { type: 'string' },
  },
  positionals: ['signatureId'],
  async run({ values, positionals }, io) {
    const signatureId = positionals[0] as string;
    const minutes = Number(stringOption(values, 'expires-in') ?? '60');
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 366 * 24 * 60)
      throw new UsageError('--expires-in: expected whole minutes, 1 or more');
    const versionText = stringOption(values, 'policy-version');
    if (versionText !== undefined && !/^[1-9][0-9]{0,14}$/.test(versionText))
      throw new UsageError(`--policy-version: expected a positive integer`);
    const identity = openKeyOption(values, io, 'approver');
    const client = connect(values, io);
    const r = await read(client, signatureId, values, io);
    if ('refused' in r) {
      io.stderr(`glacis: ${r.refused}`);
      return EXIT.refused;
    }
    const pinned = stringOption(values, 'intent-digest');
    if (pinned !== undefined && pinned !== r.view.intentDigest) {
      io.stderr(`glacis: REFUSED: the request's intent is ${r.view.intentDigest}, not the ${pinned} you reviewed`);
      return EXIT.refused;
    }
    const policyVersion = versionText === undefined ? (await client.getPolicy()).body.version : Number(versionText);
    if (policyVersion === null) throw new UsageError('no policy has been distributed: give --policy-version');
    const terms = { policyVersion, nonce: toHex(randomBytes(16)), expiresAt: new Date(Date.now() + minutes * 60_000).toISOString() };
    const digest = approvalDigest({ keyId: r.sig.keyId, intent: r.sig.intent, context: r.sig.context, ...terms });
    const approval = { approverKey: toHex(identity.publicKey), signature: toHex(identity.sign(digest)), ...terms };
    const { body } = await client.addApproval({ params: { signatureId }, body: approval, idempotencyKey: `approve-${terms.nonce}` });
    io.stdout(JSON.stringify({ signatureId, status: body.status, approverKey: approval.approverKey, intent: r.view }));
    return EXIT.ok;
  },
};

export const signaturesReject: Command = {
  words: ['signatures', 'reject'],
  summary: 'reject a request awaiting approval: it ends rejected',
  usage: `usage: glacis signatures reject <signatureId> --reason TEXT [--approver HEX] [--url URL] [--token TOKEN]

Ends a request awaiting approval as rejected, with your reason in its error and the audit log.
Prints {"signatureId","status"}.

options:
  --reason TEXT  why (required)
  --approver HEX your approver key, for the record
${CONNECTION_USAGE}
  -h, --help     this help

exit: 0 rejected, 1 could not (no answer, HTTP error such as 409), 64 usage`,
  options: { ...CONNECTION_OPTIONS, reason: { type: 'string' }, approver: { type: 'string' } },
  positionals: ['signatureId'],
  async run({ values, positionals }, io) {
    const signatureId = positionals[0] as string;
    const reason = stringOption(values, 'reason');
    if (reason === undefined || reason.length === 0) throw new UsageError('--reason TEXT is required');
    const approver = stringOption(values, 'approver');
    const body = { reason, ...(approver === undefined ? {} : { approverKey: approver }) };
    const { body: sig } = await connect(values, io).addRejection({ params: { signatureId }, body });
    io.stdout(JSON.stringify({ signatureId, status: sig.status }));
    return EXIT.ok;
  },
};
