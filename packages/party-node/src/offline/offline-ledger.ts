/**
 * The offline party's bundle memory, `offline-bundles.json`: the last sequence accepted from each
 * sender (the replay ledger `openBundle` reads) and the last sequence this party sent, so its own
 * bundles keep numbering upwards across runs. Written atomically, after the bundle it records was
 * acted on: a crash before that lets the same bundle in again, and the nonce vault and share log
 * make sure it can never release a second share (nonce-vault.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryBundleLedger } from '@glacis/protocol';
import { z } from 'zod';
import { PartyError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';

export const OFFLINE_LEDGER_FILE = 'offline-bundles.json';

const fileSchema = z.strictObject({
  v: z.literal(1),
  received: z.record(z.string(), z.number().int().nonnegative()),
  sent: z.number().int().nonnegative(),
});

export interface OfflineLedger {
  readonly received: MemoryBundleLedger;
  /** The sequence for this party's next bundle: above every earlier one and not below `now`. */
  nextSequence(now: number): number;
  save(): void;
}

export function openOfflineLedger(dataDir: string): OfflineLedger {
  const path = join(dataDir, OFFLINE_LEDGER_FILE);
  let data: z.infer<typeof fileSchema> = { v: 1, received: {}, sent: 0 };
  if (existsSync(path)) {
    try {
      data = fileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
    } catch (e) {
      // A lost ledger would let old bundles in again: refuse to guess.
      throw new PartyError('corrupt_file', `${path}: unreadable bundle ledger (${(e as Error).message})`);
    }
  }
  const received = new MemoryBundleLedger(data.received);
  let sent = data.sent;
  return {
    received,
    nextSequence(now) {
      sent = Math.max(sent + 1, now);
      return sent;
    },
    save() {
      writeFileAtomic(path, `${JSON.stringify({ v: 1, received: received.snapshot(), sent }, null, 2)}\n`);
    },
  };
}
