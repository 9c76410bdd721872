/**
 * The approvals this party has counted: `approvals.log`, one JSON line per (approverKey, nonce)
 * with the request it was counted for, on disk (fsync) before the share it authorised leaves —
 * as `shares.log` is for nonces — so a restart cannot make an approval count twice.
 *
 * An entry is kept until its approval has expired on this party's clock, plus `retainMs` of slack
 * for the clock being set back: after that the approval is refused as expired anyway. Expired
 * entries are dropped by rewriting the file atomically, at open and every `compactEvery` appends.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { createGroupCommit, hexSchema, sessionIdSchema } from '@glacis/protocol';
import { z } from 'zod';
import { PartyError } from '../errors.js';
import { type DataSync, readJsonLines, writeFileAtomic } from '../fs-atomic.js';
import type { CountedApproval, PriorUse } from './decide.js';

export const APPROVALS_FILE = 'approvals.log';

/** One counted approval and the request it was counted for. */
export interface ApprovalUse extends CountedApproval {
  keyId: string;
  requestId: string;
}

const useSchema = z.strictObject({
  approverKey: hexSchema.length(64),
  nonce: hexSchema.min(32).max(64),
  digest: hexSchema.length(64),
  expiresAt: z.string(),
  keyId: sessionIdSchema,
  requestId: sessionIdSchema,
});

export interface ApprovalLedger {
  priorUse(approverKey: string, nonce: string): PriorUse | undefined;
  /**
   * Records uses: in memory at once, so a package handled next already sees them; the promise
   * resolves once they are on disk. Call it in the same turn as the policy check that found them.
   */
  record(uses: readonly ApprovalUse[]): Promise<void>;
  close(): Promise<void>;
}

export interface ApprovalLedgerOptions {
  now: () => number;
  /** How long past its expiry an entry is kept (default one day). */
  retainMs?: number;
  /** Appends between two rewrites that drop expired entries (default 4096). */
  compactEvery?: number;
  /** How appends are made durable (default fdatasync; tests pass a slow or failing one). */
  sync?: DataSync;
}

const keyOf = (approverKey: string, nonce: string) => `${approverKey}:${nonce}`;

export async function openApprovalLedger(dataDir: string, o: ApprovalLedgerOptions): Promise<ApprovalLedger> {
  const path = join(dataDir, APPROVALS_FILE);
  const retainMs = o.retainMs ?? 86_400_000;
  const compactEvery = o.compactEvery ?? 4096;
  const live = (u: ApprovalUse) => Date.parse(u.expiresAt) + retainMs > o.now();
  const uses = new Map<string, ApprovalUse>();
  const { lines, tornTail } = readJsonLines(path);
  for (const [i, line] of lines.entries()) {
    const u = useSchema.safeParse(line);
    if (!u.success) throw new PartyError('corrupt_file', `${path}: line ${i + 1} is not an approval record; the file was damaged`);
    uses.set(keyOf(u.data.approverKey, u.data.nonce), u.data);
  }
  let appended = 0;
  const compact = () => {
    for (const [k, u] of uses) if (!live(u)) uses.delete(k);
    writeFileAtomic(path, [...uses.values()].map((u) => `${JSON.stringify(u)}\n`).join(''));
    appended = 0;
  };
  // A torn last line is a record whose share never left: dropping it is right.
  if (tornTail || [...uses.values()].some((u) => !live(u))) compact();
  let fh: FileHandle = await open(path, 'a', 0o600);
  const sync = o.sync ?? ((h: FileHandle) => h.datasync());
  // Group commit: releases counted while a write + fsync is under way share the next one.
  const commits = createGroupCommit<string>(async (lines) => {
    const text = lines.join('');
    await fh.write(text);
    await sync(fh);
    appended += text.split('\n').length - 1;
    if (appended >= compactEvery) {
      await fh.close();
      compact();
      fh = await open(path, 'a', 0o600);
    }
  });

  return {
    priorUse(approverKey, nonce) {
      const u = uses.get(keyOf(approverKey, nonce));
      return u === undefined ? undefined : { keyId: u.keyId, requestId: u.requestId, digest: u.digest };
    },
    record(batch) {
      const fresh = batch.filter((u) => !uses.has(keyOf(u.approverKey, u.nonce)));
      for (const u of fresh) uses.set(keyOf(u.approverKey, u.nonce), { ...u });
      if (fresh.length === 0) return commits.drain();
      return commits.submit(fresh.map((u) => `${JSON.stringify(u)}\n`).join(''));
    },
    async close() {
      await commits.drain().catch(() => undefined);
      await fh.close();
    },
  };
}
