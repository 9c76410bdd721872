/**
 * The offline party p1 as the offline tests drive it: each run a fresh `glacis-party offline
 * process` (everything reopened from its directory), the coordinator's outbox bundles the test
 * seals for it, and its answer bundles opened as the coordinator would.
 */
import { COORDINATOR, type Envelope, MemoryBundleLedger, type Message, openBundle, openEnvelope, sealBundle } from '@glacis/protocol';
import { pino } from 'pino';
import type { CrashPoint } from '../src/crash-points.js';
import { openKeystore } from '../src/keystore/keystore.js';
import { type OfflineParty, openOfflineParty } from '../src/offline/offline-party.js';
import { openPartyRecords } from '../src/records.js';
import { type Harness, rng } from './harness.js';

/** One run on `dir` at the virtual time `now.ms`; its records are closed by `onClose`'s callback. */
export async function runOffline(
  h: Harness,
  o: { dir: string; now: { ms: number }; crash?: (point: CrashPoint) => void; onClose: (close: () => Promise<void>) => void },
): Promise<OfflineParty> {
  const crash = o.crash ?? (() => undefined);
  const keystore = openKeystore(o.dir, h.unlock, { crash });
  const records = await openPartyRecords(o.dir);
  o.onClose(() => records.close());
  return openOfflineParty({
    config: h.config,
    identity: keystore.loadIdentity(),
    keystore,
    records,
    logger: pino({ level: 'silent' }),
    clock: { now: () => o.now.ms, setTimeout: () => ({ cancel: () => undefined }) },
    rng,
    crash,
  });
}

let sequence = 1;
/** The coordinator's outbox bundle for p1 carrying `envelopes` (each a new bundle, under a higher sequence). */
export const outbox = (h: Harness, envelopes: Envelope[]): Uint8Array =>
  sealBundle(
    { recipient: 'p1', sequence: sequence++, createdAt: Date.now(), items: envelopes.map((envelope) => ({ kind: 'envelope', envelope })) },
    { name: COORDINATOR, identity: h.identity(COORDINATOR) },
    rng,
  );

/** p1's answer, opened as the coordinator would (envelopes kept for relaying). */
export function answerOf(h: Harness, bytes: Uint8Array | null): { msg: Message; env: Envelope }[] {
  if (!bytes) return [];
  const keyOf = (n: string) => h.identity(n)?.publicKey;
  const b = openBundle(bytes, { self: COORDINATOR, keyOf, ledger: new MemoryBundleLedger() });
  return b.items.flatMap((i) =>
    i.kind === 'envelope' ? [{ env: i.envelope, msg: openEnvelope(i.envelope, { self: COORDINATOR, keyOf, anyRecipient: true }) }] : [],
  );
}
