/** `glacis audit verify`: the coordinator's audit log, checked end to end from the desk. */
import type { ChainPoint } from '@glacis/protocol';
import { verifyAuditLog } from '../audit-log.js';
import { CONNECTION_OPTIONS, CONNECTION_USAGE, type Command, connect, EXIT, UsageError } from './command.js';

const ANCHOR = /^(\d{1,15}):([0-9a-f]{64})$/;

export const auditVerify: Command = {
  words: ['audit', 'verify'],
  summary: "check the coordinator's hash-chained audit log and print its head",
  usage: `usage: glacis audit verify [--anchor SEQ:HASH]... [--url URL] [--token TOKEN]

Reads the whole audit log (GET /v1/audit, an admin or auditor token) and checks its hash chain.
Prints {"ok","events","head","headSeq"}: keep head and headSeq where the coordinator cannot
write, and pass them back later as --anchor: a log rewritten since no longer holds them.

options:
  --anchor SEQ:HASH  a head recorded earlier that must still be in the chain (repeatable)
${CONNECTION_USAGE}
  -h, --help         this help

exit: 0 intact, 1 could not check (no answer, HTTP error), 3 broken or an anchor missing, 64 usage`,
  options: { ...CONNECTION_OPTIONS, anchor: { type: 'string', multiple: true } },
  positionals: [],
  async run({ values }, io) {
    const given = values.anchor;
    const anchors: ChainPoint[] = (Array.isArray(given) ? given : []).map((a) => {
      const m = ANCHOR.exec(String(a));
      if (!m) throw new UsageError(`--anchor: expected SEQ:HASH (a number, a colon, 64 hex chars), got "${String(a)}"`);
      return { seq: Number(m[1]), hash: m[2] as string };
    });
    const verdict = await verifyAuditLog(connect(values, io), anchors);
    io.stdout(JSON.stringify(verdict));
    if (verdict.ok) return EXIT.ok;
    io.stderr(`glacis: audit chain broken at event ${verdict.brokenAt}: ${verdict.reason}`);
    return EXIT.refused;
  },
};
