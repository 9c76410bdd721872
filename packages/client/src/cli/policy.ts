/**
 * The policy administrators' commands: sign a policy document with one's own key (each
 * administrator adds a signature; a quorum of the keys every party pinned makes it binding),
 * distribute it, and see what each party has in force.
 */
import { isProtocolError, parsePolicy, policyDigest, signPolicy } from '@glacis/protocol';
import { ClientError } from '../errors.js';
import { signedPolicyBody } from '../schemas.js';
import { CONNECTION_OPTIONS, CONNECTION_USAGE, type Command, connect, EXIT, stringOption, UsageError } from './command.js';
import { KEY_OPTIONS, KEY_USAGE, openKeyOption } from './signer-key.js';

export const policySign: Command = {
  words: ['policy', 'sign'],
  summary: 'add your administrator signature to a policy document',
  usage: `usage: glacis policy sign <FILE> --key FILE [--passphrase-file F]

FILE holds a policy document, or a signed policy {"policy","signatures"} that other administrators
signed already. Prints the signed policy with your signature added (replacing an earlier one of
yours): hand it to the next administrator, or distribute it with \`glacis policy push\` once a
quorum signed. Your key must be a policy-admin key (glacis approver create --role policy-admin).

options:
${KEY_USAGE}
  -h, --help              this help

exit: 0 signed, 1 could not (unreadable or invalid document, key file), 64 usage`,
  options: KEY_OPTIONS,
  positionals: ['file'],
  async run({ values, positionals }, io) {
    const path = positionals[0] as string;
    let raw: { policy?: unknown; signatures?: { adminKey: string; signature: string }[] };
    try {
      raw = JSON.parse(io.readFile(path));
    } catch (e) {
      throw new ClientError('invalid_policy', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const signed = typeof raw === 'object' && raw !== null && 'policy' in raw;
    let policy: ReturnType<typeof parsePolicy>;
    try {
      policy = parsePolicy(signed ? raw.policy : raw);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      throw new ClientError('invalid_policy', `${path}: ${e.message}`);
    }
    const identity = openKeyOption(values, io, 'policy-admin');
    const mine = signPolicy(policy, identity);
    const others = (signed && Array.isArray(raw.signatures) ? raw.signatures : []).filter((s) => s.adminKey !== mine.adminKey);
    io.stdout(JSON.stringify({ policy, signatures: [...others, mine] }, null, 2));
    io.stderr(`glacis: signed policy version ${policy.version} (digest ${policyDigest(policy)}) as ${mine.adminKey}`);
    return EXIT.ok;
  },
};

export const policyPush: Command = {
  words: ['policy', 'push'],
  summary: 'distribute a quorum-signed policy to every party (admin token)',
  usage: `usage: glacis policy push <FILE> [--wait MS] [--url URL] [--token TOKEN]

Sends the signed policy in FILE (PUT /v1/policy). The coordinator offers it to every party; each
verifies it against the administrators it pinned and activates it, or refuses it. Prints the
policy status (GET /v1/policy) once every connected party reported it (or --wait passed).

options:
  --wait MS      how long to wait for the parties' reports (default 10000, at most 30000)
${CONNECTION_USAGE}
  -h, --help     this help

exit: 0 sent, 1 could not (unreadable file, no answer, HTTP error such as 409), 64 usage`,
  options: { ...CONNECTION_OPTIONS, wait: { type: 'string' } },
  positionals: ['file'],
  async run({ values, positionals }, io) {
    const path = positionals[0] as string;
    const wait = Number(stringOption(values, 'wait') ?? '10000');
    if (!Number.isInteger(wait) || wait < 0 || wait > 30_000) throw new UsageError('--wait: expected 0 to 30000 ms');
    let raw: unknown;
    try {
      raw = JSON.parse(io.readFile(path));
    } catch (e) {
      throw new ClientError('invalid_policy', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const body = signedPolicyBody.safeParse(raw);
    if (!body.success)
      throw new ClientError('invalid_policy', `${path}: not a signed policy: ${body.error.issues[0]?.message ?? 'malformed'}`);
    const { body: status } = await connect(values, io).putPolicy({ query: { wait }, body: body.data });
    io.stdout(JSON.stringify(status));
    return EXIT.ok;
  },
};

export const policyStatus: Command = {
  words: ['policy', 'status'],
  summary: 'show the distributed policy and the version in force at each party',
  usage: `usage: glacis policy status [--url URL] [--token TOKEN]

Prints GET /v1/policy: the distributed signed policy, its version and digest, and per party the
policy it reports in force (static or signed, version, digest) and the last one it refused.

options:
${CONNECTION_USAGE}
  -h, --help     this help

exit: 0 shown, 1 could not (no answer, HTTP error), 64 usage`,
  options: CONNECTION_OPTIONS,
  positionals: [],
  async run({ values }, io) {
    const { body } = await connect(values, io).getPolicy();
    io.stdout(JSON.stringify(body));
    return EXIT.ok;
  },
};
