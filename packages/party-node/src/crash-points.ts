/**
 * Test-only crash injection. GLACIS_TEST_CRASH_POINTS="nonce-recorded:0.05,share-sent:0.02" makes
 * the process SIGKILL itself at those points with those probabilities, so tests can prove the
 * invariants hold when power fails at the worst moment. Unset in production: a no-op.
 */
export type CrashPoint =
  | 'nonce-recorded'
  | 'share-sent'
  | 'dkg-share-saved'
  // Key lifecycle (keystore/successions.ts, lifecycle/lifecycle-rules.ts; the daemon's and the offline party's),
  // in the order they happen
  | 'lifecycle-started'
  | 'lifecycle-staged'
  | 'lifecycle-confirmed'
  | 'lifecycle-repaired'
  | 'lifecycle-decided'
  | 'lifecycle-switched'
  | 'lifecycle-retired'
  // glacis-party offline process (sign), in order: request bundle opened, (nonce-recorded), nonce file deleted, (share-sent: response bundle written), ledger saved
  | 'offline-opened'
  | 'nonce-deleted'
  | 'offline-ledger-saved'
  // glacis-party offline process, a DKG session: its start recorded (before round 1 is made); its state file
  // replaced (after any dkg-share-saved), before the answer is written
  | 'dkg-start-recorded'
  | 'dkg-state-saved'
  // glacis-party offline process, a refresh, repair or reshare session (offline/offline-lifecycle.ts), in order:
  // its state with the seed first saved (before the start is recorded: lifecycle-started follows); the inputs a
  // successor or repaired share comes from saved (before lifecycle-staged / lifecycle-repaired); the test nonce
  // sealed (after lifecycle-confirmed, or for a fresh commitment); the test nonce deleted (before the test share
  // is computed); its state replaced (before the answer is written); its state deleted (certificate or abort)
  | 'lifecycle-offline-joined'
  | 'lifecycle-offline-inputs-saved'
  | 'lifecycle-offline-test-nonce-saved'
  | 'lifecycle-offline-test-nonce-deleted'
  | 'lifecycle-offline-state-saved'
  | 'lifecycle-offline-ended';

export function createCrashPoints(spec: string | undefined): (point: CrashPoint) => void {
  if (!spec) return () => undefined;
  const odds = new Map<string, number>();
  for (const part of spec.split(',')) {
    const [name, p] = part.split(':');
    if (name) odds.set(name.trim(), Number(p ?? '1'));
  }
  return (point) => {
    const p = odds.get(point);
    if (p !== undefined && Math.random() < p) process.kill(process.pid, 'SIGKILL');
  };
}
