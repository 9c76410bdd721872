/**
 * The desk's check of the coordinator's audit log over the API: every page of `GET /v1/audit`,
 * through the protocol's verifyAuditPages (the check `glacis-coordinator audit verify` and
 * `glacis-party audit verify` run), plus optional anchors: heads the desk recorded earlier, which
 * must still be in the chain. A coordinator that rewrites its history has to rewrite the events
 * under every anchor, and the anchors are kept where it cannot write.
 */
import { type ChainPoint, type ChainVerdict, verifyAuditPages } from '@glacis/protocol';
import type { GlacisClient } from './client.js';
import type { AuditEvent } from './schemas.js';

/** The verdict of verifyAuditLog: the chain's, or the first anchor it no longer holds. */
export type AuditCheck = ChainVerdict;

/** The coordinator's audit log, oldest first, one page at a time. */
export async function* auditPages(client: GlacisClient, pageSize = 500): AsyncGenerator<AuditEvent[]> {
  let cursor: string | undefined;
  do {
    const { body } = await client.listAudit({ query: { limit: pageSize, ...(cursor === undefined ? {} : { cursor }) } });
    yield body.events;
    cursor = body.nextCursor ?? undefined;
  } while (cursor !== undefined);
}

/** Verifies the whole audit log and that the event at each anchor's seq still has the anchored hash. */
export async function verifyAuditLog(client: GlacisClient, anchors: readonly ChainPoint[] = []): Promise<AuditCheck> {
  const seen = new Map<number, string>();
  const wanted = new Set(anchors.map((a) => a.seq));
  async function* remember(): AsyncGenerator<AuditEvent[]> {
    for await (const page of auditPages(client)) {
      for (const e of page) if (wanted.has(e.seq)) seen.set(e.seq, e.hash);
      yield page;
    }
  }
  const verdict = await verifyAuditPages(remember());
  if (!verdict.ok) return verdict;
  for (const a of [...anchors].sort((x, y) => x.seq - y.seq)) {
    const hash = seen.get(a.seq);
    if (hash === undefined) {
      return {
        ok: false,
        events: verdict.events,
        brokenAt: a.seq,
        reason: `the log ends at seq ${verdict.headSeq}, before the anchor at ${a.seq}`,
      };
    }
    if (hash !== a.hash) {
      return { ok: false, events: verdict.events, brokenAt: a.seq, reason: `event ${a.seq} has hash ${hash}, not the anchored ${a.hash}` };
    }
  }
  return verdict;
}
