/** `glacis keys verify <keyId> --trust FILE`: is this key the one the pinned parties generated? */
import { parseTrustFile } from '../trust-file.js';
import { verifyKey } from '../verify-key.js';
import { CONNECTION_OPTIONS, CONNECTION_USAGE, type Command, connect, EXIT, stringOption, UsageError } from './command.js';

export const keysVerify: Command = {
  words: ['keys', 'verify'],
  summary: "check a key's DKG certificate against the party identities you pinned",
  usage: `usage: glacis keys verify <keyId> --trust FILE [--url URL] [--token TOKEN]

Fetches the key and checks its certificate (every committee member's signed confirmation)
against the party identity keys pinned in FILE, never against the coordinator's word:
  {"parties": {"party-1": "<Ed25519 public key, hex>", ...}}
(each party operator reads theirs from \`glacis-party identity\`; docs/api.md, "Verifying a key").
Prints the verdict as JSON. Refuses, with the reason on stderr, a key that is not active, a public
key no certificate supports, a missing or extra party, a bad signature, an identity not in FILE,
and a certificate for another key, suite, threshold or committee.

options:
  --trust FILE   the trust file (required)
${CONNECTION_USAGE}
  -h, --help     this help

exit: 0 verified, 1 could not check (no answer, HTTP error, bad trust file), 3 refused, 64 usage`,
  options: { ...CONNECTION_OPTIONS, trust: { type: 'string' } },
  positionals: ['keyId'],
  async run({ values, positionals }, io) {
    const keyId = positionals[0] as string;
    const trustPath = stringOption(values, 'trust');
    if (trustPath === undefined) throw new UsageError('--trust FILE is required');
    const client = connect(values, io);
    let text: string;
    try {
      text = io.readFile(trustPath);
    } catch (e) {
      io.stderr(`glacis: cannot read the trust file ${trustPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return EXIT.couldNotCheck;
    }
    const trust = parseTrustFile(text, trustPath);
    const { body: key } = await client.getKey({ params: { keyId } });
    const verdict = verifyKey(key, trust);
    io.stdout(JSON.stringify(verdict));
    if (verdict.ok) return EXIT.ok;
    io.stderr(`glacis: key ${keyId} REFUSED (${verdict.code}): ${verdict.reason}`);
    return EXIT.refused;
  },
};
