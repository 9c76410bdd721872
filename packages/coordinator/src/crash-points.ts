/**
 * Test-only crash injection for the coordinator, as the parties have it: with
 * GLACIS_TEST_CRASH_POINTS="lifecycle-switched:1" the process SIGKILLs itself when it reaches that
 * point (with that probability), so the multi-process tests can show what a power cut at the
 * worst moment leaves behind. Unset in production: a no-op.
 */

/** Where the coordinator can be made to die, in the order a refresh or reshare reaches them. */
export type CoordinatorCrashPoint =
  /** Every participant was sent its start; nothing is confirmed yet (the rounds live in the parties). */
  | 'lifecycle-started'
  /** The successor's certificate is recorded; the test signature has not started. */
  | 'lifecycle-certified'
  /** The key switched in the store; no party has been sent the certificate yet. */
  | 'lifecycle-switched';

/** The crash hook for `spec` (a comma-separated list of `point[:probability]`). */
export function coordinatorCrashPoints(spec: string | undefined): (point: CoordinatorCrashPoint) => void {
  const odds = new Map(
    (spec ?? '')
      .split(',')
      .filter((part) => part.trim() !== '')
      .map((part): [string, number] => {
        const [point = '', probability = '1'] = part.split(':');
        return [point.trim(), Number(probability)];
      }),
  );
  if (odds.size === 0) return () => undefined;
  return (point) => {
    if (Math.random() < (odds.get(point) ?? 0)) process.kill(process.pid, 'SIGKILL');
  };
}
